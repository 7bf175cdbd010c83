"""GrpcGateway: a Gateway API `Gateway` with an HTTPS listener per hostname, served by NGINX
Gateway Fabric, and the GRPCRoute builder GrpcRoute uses.

NGF provisions one NGINX data plane (Deployment + Service) per Gateway, in the Gateway's
namespace. It copies `spec.infrastructure` labels and annotations onto that data plane's pod
template (checked in NGF v2.6.7, internal/controller/provisioner/objects.go), which is how the
data plane gets meshed (`linkerd.io/inject: enabled`), labels its pods
`gateway.networking.k8s.io/gateway-name: <gateway>`, which is how policies select them, and
names them and their ServiceAccount `<gateway>-<gatewayclass>` (hashed beyond 63 characters,
which is refused here so the Linkerd identity stays predictable). NGF 2.6.7 sends each call to a
pod endpoint it resolved from the Service's EndpointSlices, never to the ClusterIP; see
docs/gateway-api.md for what that means with Linkerd.

The listener certificate goes through the same edge TLS path as GrpcIngress's
(`certificates.provision_edge_tls`): generated from a CA, the user's Secret by name, or a
TlsSecret object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s
import pydantic

from ._inputs import DeferredChecks, contains_output, fmt, gate, lift
from ._namespaces import (
    MANAGED_BY,
    PodSecurityLevel,
    admits_linkerd_init,
    namespace_metadata,
    pod_security_level,
)
from ._ordering import Component
from ._validation import (
    ArgsModel,
    FieldError,
    InvalidArgumentError,
    check_dns_label,
    check_dns_subdomain,
    check_range,
    field_validator,
    model_validator,
    validate_model,
)
from .certificates import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    EdgeTlsArgs,
    TlsSecret,
    check_hostnames,
    hostname_covered,
    issuer_validity_problem,
    provision_edge_tls,
    renewal_window_problem,
    tls_secret_problems,
)
from .grpc_service import MESH_INJECT_ANNOTATION, GrpcServiceRef
from .nginx_gateway_fabric import AGENT_PORT, DATA_PLANE_METRICS_PORT, NginxGatewayFabric
from .peers import PeerRef
from .zero_trust_policy import EdgePeer, EdgeWorkload

__all__ = [
    "MAX_GRPC_MESSAGE_BYTES",
    "NGF_POLICY_API",
    "REFLECTION_METHOD",
    "REFLECTION_SERVICES",
    "GatewayRef",
    "GrpcGateway",
    "GrpcGatewayArgs",
    "GrpcMethodMatch",
    "client_settings_policy_object",
    "grpc_route_object",
    "grpc_route_problems",
    "nginx_size",
]

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
LISTENER_PORT = 443
"""Port of every listener; NGF gives the data plane a container port of the same number for
each listener port (internal/controller/provisioner/objects.go), which clients reach."""
NGF_POLICY_API = "gateway.nginx.org/v1alpha1"
"""API version of NGF's ClientSettingsPolicy (served and stored by NGF 2.6.7's CRD)."""
# grpcurl discovers services through reflection; a route limited to some methods must still
# pass these or `grpcurl host:443 list` / `describe` stop working. Each has one method.
REFLECTION_SERVICES = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)
REFLECTION_METHOD = "ServerReflectionInfo"

# GRPCRoute's CEL rules (not checked by offline JSON schema validation, so checked here).
# No leading dot: the Gateway API allows `.pkg.Svc`, but NGF 2.6.7 builds the location
# "/" + service + "/" + method from it, a path no gRPC request has.
GRPC_SERVICE_PATTERN = re.compile(r"^[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", re.IGNORECASE)
_GRPC_METHOD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
# GRPCRoute limits in Gateway API v1.5.1: maxItems 16 rules and 64 matches per rule, and a CEL
# rule keeping the total number of matches below 128.
_MAX_RULES = 16
_MAX_MATCHES_PER_RULE = 64
_MAX_MATCHES = 127
# NGF's `Size` type (apis/v1alpha1/shared_types.go, v2.6.7): 1-4 digits and an optional
# 1024-based unit, e.g. `4097k`.
_NGF_SIZE = re.compile(r"^\d{1,4}(k|m|g)?$")
# gRPC frames each message with 1 flag byte + 4 length bytes, and nginx's
# client_max_body_size counts them (the same framing grpc_ingress.GRPC_FRAME_HEADER_BYTES names).
_FRAME_HEADER_BYTES = 5
MAX_GRPC_MESSAGE_BYTES = 2**32 - 1
"""gRPC's 4-byte length prefix bounds one message (implementations cap it lower)."""
# NGF truncates and hashes data-plane object names longer than this (CreateNginxResourceName).
_MAX_DATA_PLANE_NAME = 63
_MANAGED = MANAGED_BY


class GrpcMethodMatch(ArgsModel):
    """One GRPCRoute match: one method of a gRPC service (exact match).

    Both are required: Gateway API's Core support for GRPCRoute method matching is an exact
    service *and* method, and NGINX Gateway Fabric 2.6.7 drops any rule whose match names a
    service without a method (`method is required`, internal/controller/state/graph/
    grpcroute.go), so a whole-service match would silently route nothing."""

    service: str
    """Fully qualified gRPC service, e.g. `helloworld.Greeter`."""
    method: str
    """A method of that service, e.g. `SayHello`."""

    @field_validator("service")
    @classmethod
    def _service(cls, v: str) -> str:
        if not GRPC_SERVICE_PATTERN.match(v) or len(v) > 1024:
            raise ValueError(
                "a gRPC service name is dot-separated identifiers (letters, digits, '_'), "
                "e.g. 'helloworld.Greeter'. Fix: use the package-qualified service name."
            )
        return v

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        if not _GRPC_METHOD.match(v) or len(v) > 1024:
            raise ValueError(
                "a gRPC method name is one identifier, e.g. 'SayHello'. Fix: drop the service "
                "prefix and slashes."
            )
        return v


RouteNamespacesFrom = Literal["Same", "All"]


def _check_hostname_list(v: Sequence[str]) -> None:
    if not 1 <= len(v) <= 64:
        raise ValueError(
            f"a Gateway has at least 1 and at most 64 listeners (Gateway API v1.5.1), got "
            f"{len(v)} hostnames. Fix: list 1 to 64 hostnames; a '*.' wildcard covers many."
        )
    check_hostnames(tuple(v))
    if len(set(v)) != len(v):
        raise ValueError("hostnames repeat. Fix: list each hostname once.")


def _check_route_namespaces(v: Sequence[str] | str) -> None:
    if isinstance(v, str):
        return
    if not v:
        raise ValueError("an empty list admits no route. Fix: list namespaces, or use 'Same'.")
    for ns in v:
        check_dns_label(ns, what="namespace", must_start_with_letter=False)


class GrpcGatewayArgs(ArgsModel):
    """Arguments of GrpcGateway."""

    hostnames: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Hostnames clients dial, 1 to 64; one HTTPS listener (port 443) each. A wildcard
    `*.example.com` is allowed: as a listener it serves any depth (`a.b.example.com` too), but a
    generated certificate for it covers one label only, so routes for deeper hosts are
    refused."""
    namespace: pulumi.Input[str] = "grpc-gateway"
    """Namespace of the Gateway and of the NGINX data plane NGF creates for it (default
    `grpc-gateway`). TLS Secrets must live here."""
    create_namespace: bool = True
    """Create the namespace (default True). False when it exists, e.g. a MeshEnabledNamespace.
    Plain: it decides whether a Namespace resource exists."""
    gateway_name: pulumi.Input[str] | None = None
    """Kubernetes name of the Gateway (default: the component name). NGF names the data plane
    and its ServiceAccount `<gateway_name>-<gatewayclass>`, which must fit in 63 characters."""
    tls_secret_name: pulumi.Input[str] | None = None
    """Bring your own `kubernetes.io/tls` Secret in `namespace` (default None: a certificate
    for the hostnames is issued from a generated CA, or the `ca=` given, and its CA's PEM is
    the `ca_cert_pem` output). A TlsSecret object can be passed with `tls_secret=` instead.
    Whether it is given is plain (it decides whether a certificate is generated); the name
    itself may be an Output."""
    certificate_validity_hours: pulumi.Input[int] = 2160
    """Validity of the generated certificate (default 2160 h = 90 days); at most the issuing
    CA's."""
    certificate_early_renewal_hours: pulumi.Input[int] = 720
    """Re-issue on the first `pulumi up` this close to expiry (default 720 h = 30 days); below
    `certificate_validity_hours`."""
    route_namespaces: pulumi.Input[Sequence[pulumi.Input[str]]] | RouteNamespacesFrom = "Same"
    """Namespaces whose GRPCRoutes may attach (default `Same`). List the namespaces of the
    services you expose; `All` lets any namespace publish on your hostnames."""
    mesh: bool = False
    """Mesh the NGINX data plane with Linkerd (default False) via the Gateway's
    `spec.infrastructure.annotations`, so its connections to meshed pods are mTLS with the
    identity `<gateway_name>-<gatewayclass>.<namespace>` (the `peer`'s ServiceAccount). NGF
    still picks the pod for every call; Linkerd adds mTLS, identity and metrics. Plain: it
    decides the namespace's Pod Security level and what policies allow."""
    linkerd_cni: bool = False
    """Whether the Linkerd CNI plugin is installed (default False). Only matters with `mesh`
    and `create_namespace`: without it Linkerd adds a `linkerd-init` container that needs
    NET_ADMIN and NET_RAW, which decides the namespace's default Pod Security level. Plain,
    like `mesh`."""
    pod_security: PodSecurityLevel | None = None
    """Pod Security Standard enforced on the namespace this component creates. Default
    `restricted` (NGF 2.6.7's data plane pods comply: non-root, no privilege escalation, ALL
    capabilities dropped, RuntimeDefault seccomp), except `privileged` with `mesh` and no
    `linkerd_cni` (`linkerd-init` needs NET_ADMIN and NET_RAW, which even `baseline`
    forbids). `warn` and `audit` are always `restricted`. Plain: it is checked against `mesh`
    and `linkerd_cni` before anything registers."""
    max_message_bytes: pulumi.Input[int] | None = None
    """Largest request message NGINX accepts on every listener, 1 to 4294967295 (default None:
    NGF 2.6.7 sets no `client_max_body_size`, so nginx's 1 MiB applies and a larger message
    fails with RESOURCE_EXHAUSTED). Set e.g. 4194304 for gRPC's default 4 MiB: a
    ClientSettingsPolicy (`gateway.nginx.org/v1alpha1`) on the Gateway with `body.maxSize` =
    the message plus its 5-byte frame header, rounded up to NGF's size format (`4097k`). A
    client stream counts all its messages together. GrpcRoute's `max_message_bytes`
    overrides it for one route. Whether it is set is plain (it decides whether the policy
    exists)."""

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: Sequence[str]) -> Sequence[str]:
        _check_hostname_list(v)
        return v

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("gateway_name")
    @classmethod
    def _gw(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_label(v, what="Gateway name")

    @field_validator("tls_secret_name")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_subdomain(v, what="Secret name")

    @field_validator("route_namespaces")
    @classmethod
    def _route_ns(cls, v: Sequence[str] | str) -> Sequence[str] | str:
        _check_route_namespaces(v)
        return v

    @field_validator("max_message_bytes")
    @classmethod
    def _size(cls, v: int | None) -> int | None:
        return None if v is None else check_range(v, low=1, high=MAX_GRPC_MESSAGE_BYTES)

    @field_validator("certificate_validity_hours")
    @classmethod
    def _validity(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("certificate_early_renewal_hours")
    @classmethod
    def _early(cls, v: int) -> int:
        return check_range(v, low=0)

    @model_validator(mode="after")
    def _renewal_window(self) -> GrpcGatewayArgs:
        early, validity = self.certificate_early_renewal_hours, self.certificate_validity_hours
        problem = renewal_window_problem(
            early,  # type: ignore[arg-type]  # plain here: the validator skips Outputs
            validity,  # type: ignore[arg-type]
            early_field="certificate_early_renewal_hours",
            validity_field="certificate_validity_hours",
        )
        if problem:
            raise FieldError("certificate_early_renewal_hours", early, problem)
        return self

    # Reads plain fields only, so it runs at once even when other fields hold Outputs
    # (`._validation.model_validator` would wait for every Output to resolve).
    @pydantic.model_validator(mode="after")
    def _combinations(self) -> GrpcGatewayArgs:
        if self.pod_security is not None and not self.create_namespace:
            raise ValueError(
                f"pod_security={self.pod_security!r} applies to the namespace this component "
                "creates, but create_namespace is False. Fix: set Pod Security on the namespace "
                "you created (e.g. MeshEnabledNamespaceArgs.pod_security), or remove it."
            )
        refused = self.pod_security is not None and not admits_linkerd_init(self.pod_security)
        if self.mesh and not self.linkerd_cni and refused:
            raise ValueError(
                f"pod_security {self.pod_security!r} with mesh and no linkerd_cni: Linkerd's "
                "linkerd-init container needs NET_ADMIN and NET_RAW, which only 'privileged' "
                "admits, so the gateway's pods would never start. Fix: install linkerd2-cni "
                "and set linkerd_cni=True, or leave pod_security unset."
            )
        return self


class GatewayRef(ArgsModel):
    """A Gateway as GrpcRoute needs it: where routes attach (name, namespace, listener
    hostnames), which namespaces it admits routes from, what its certificate covers, and the
    data plane pods that call the backends.

    `GrpcGateway.ref` gives it for a Gateway this program creates (GrpcRoute then also waits
    for the Gateway). Build one yourself, from plain values or Outputs, for a Gateway created
    elsewhere (another stack, another language); its listeners must be named as GrpcGateway
    names them (`GrpcGateway.listener_name`)."""

    name: pulumi.Input[str]
    """The Gateway's name."""
    namespace: pulumi.Input[str]
    """The Gateway's namespace (its data plane pods run there)."""
    hostnames: pulumi.Input[list[pulumi.Input[str]]]
    """The listeners' hostnames, in the Gateway's order."""
    route_namespaces: pulumi.Input[list[pulumi.Input[str]]] | RouteNamespacesFrom = "Same"
    """Namespaces whose routes the listeners admit (default `Same`)."""
    certificate_dns_names: pulumi.Input[list[pulumi.Input[str]]] | None = None
    """SANs of the served certificate when known (default None: not checked)."""
    ca_cert_pem: pulumi.Input[str] | None = None
    """PEM of the CA clients must trust, when it is not a public one (default None: routes'
    grpcurl commands then carry no `-cacert`)."""
    service_account: pulumi.Input[str] | None = None
    """The data plane pods' ServiceAccount (NGF: `<gateway>-<gatewayclass>`), their Linkerd
    identity (default: unknown)."""
    mesh: bool = False
    """The data plane pods run a Linkerd proxy (default False). Plain: it decides what
    policies allow and what GrpcRoute warns about."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, what="Gateway name")

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: Sequence[str]) -> Sequence[str]:
        _check_hostname_list(v)
        return v

    @field_validator("route_namespaces")
    @classmethod
    def _route_ns(cls, v: Sequence[str] | str) -> Sequence[str] | str:
        _check_route_namespaces(v)
        return v

    @field_validator("certificate_dns_names")
    @classmethod
    def _sans(cls, v: Sequence[str] | None) -> Sequence[str] | None:
        if v is not None:
            check_hostnames(tuple(v))
        return v

    @property
    def listener_names(self) -> Any:
        """Hostname -> listener name (an Output when the hostnames are one)."""
        return lift(_listener_names, self.hostnames)

    @property
    def peer(self) -> PeerRef:
        """The data plane pods NGF runs for this Gateway."""
        return PeerRef(
            namespace=self.namespace,
            pod_labels=lift(lambda n: {GATEWAY_NAME_LABEL: n}, self.name),
            service_account=self.service_account,
            meshed=self.mesh,
        )

    def listener_for(self, host: str) -> str | None:
        """The listener serving `host` (plain values), as Gateway API picks it: its exact
        hostname, else the longest `*.` wildcard matching it (one or more labels:
        `*.example.com` serves `a.example.com` and `a.b.example.com`, not `example.com`)."""
        return _listener_for(_plain(self.hostnames), host)

    def certificate_covers(self, host: str) -> bool | None:
        """Whether the served certificate is valid for `host` (a `*.` SAN covers exactly one
        label); None when its names are unknown (the user's Secret by name)."""
        if self.certificate_dns_names is None:
            return None
        return hostname_covered(host, _plain(self.certificate_dns_names))

    def admits_namespace(self, namespace: str) -> bool:
        """Whether routes from `namespace` may attach (plain values)."""
        rn = self.route_namespaces
        if rn == "All":
            return True
        if rn == "Same":
            return namespace == self.namespace
        return namespace in _plain(rn)


def _plain(values: Any) -> Sequence[str]:
    """A list of names these methods read: plain by contract (GrpcRoute resolves Outputs
    first), so an Output here is a programming error, not a user's."""
    assert not contains_output(values), "resolve Outputs before reading listener facts"
    return values  # type: ignore[no-any-return]


def _listener_for(hostnames: Sequence[str], host: str) -> str | None:
    names = _listener_names(hostnames)
    if host in names:
        return names[host]
    best: str | None = None
    for listener_host in hostnames:
        suffix = listener_host[1:]  # ".example.com"
        if (
            listener_host.startswith("*.")
            and host.endswith(suffix)
            and len(host) > len(suffix)
            and (best is None or len(listener_host) > len(best))
        ):
            best = listener_host
    return None if best is None else names[best]


def _data_plane_problems(gateway_name: str, class_name: str) -> list[str]:
    data_plane = f"{gateway_name}-{class_name}"
    if len(data_plane) <= _MAX_DATA_PLANE_NAME:
        return []
    return [
        f"gateway_name: NGF would name the data plane and its ServiceAccount {data_plane!r} "
        f"({len(data_plane)} characters), which it truncates and hashes beyond "
        f"{_MAX_DATA_PLANE_NAME}, so its Linkerd identity and pod labels could not be named "
        f"here. Fix: a gateway_name of at most {_MAX_DATA_PLANE_NAME - len(class_name) - 1} "
        "characters."
    ]


def _allowed_routes(route_namespaces: Sequence[str] | str) -> dict[str, Any]:
    if isinstance(route_namespaces, str):
        return {"from": route_namespaces}
    return {
        "from": "Selector",
        "selector": {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "In",
                    "values": list(route_namespaces),
                }
            ]
        },
    }


def nginx_size(n_bytes: int) -> str:
    """The smallest size in NGF's format (1-4 digits, optional 1024-based `k`/`m`/`g`) that is
    at least `n_bytes`: rounding up never refuses a message the caller meant to allow."""
    if n_bytes < 0:
        raise ValueError(f"a size cannot be negative, got {n_bytes}")
    for unit, factor in (("", 1), ("k", 1024), ("m", 1024**2), ("g", 1024**3)):
        count = -(-n_bytes // factor)
        if count <= 9999:
            return f"{count}{unit}"
    raise ValueError(f"{n_bytes} bytes is beyond NGF's largest size (9999g)")


def _body_max_size(max_message_bytes: int) -> str:
    size = nginx_size(max_message_bytes + _FRAME_HEADER_BYTES)
    assert _NGF_SIZE.match(size), size
    return size


def client_settings_policy_object(
    *,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    target_kind: Literal["Gateway", "GRPCRoute"],
    target_name: pulumi.Input[str],
    max_message_bytes: pulumi.Input[int],
    labels: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
) -> dict[str, Any]:
    """NGF's ClientSettingsPolicy raising nginx's `client_max_body_size` for one Gateway or
    GRPCRoute (same namespace as its target) so a gRPC message of `max_message_bytes` passes.
    Values may be Outputs; they stay nested in the object.

    Shape checked against NGF v2.6.7 (apis/v1alpha1/clientsettingspolicy_types.go and its CRD):
    `spec.targetRef` {group, kind, name} of kind Gateway, HTTPRoute or GRPCRoute; `spec.body`
    {maxSize, timeout}. NGF writes `maxSize` into the server block (Gateway) or the route's
    locations (GRPCRoute), so a route's policy overrides its Gateway's.
    """
    return {
        "apiVersion": NGF_POLICY_API,
        "kind": "ClientSettingsPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": lift(lambda extra: {**(extra or {}), **_MANAGED}, labels),
        },
        "spec": {
            "targetRef": {"group": GATEWAY_GROUP, "kind": target_kind, "name": target_name},
            "body": {"maxSize": lift(_body_max_size, max_message_bytes)},
        },
    }


class GrpcGateway(Component):
    """A Gateway for gRPC over TLS (HTTP/2 via ALPN) on port 443."""

    ref: GatewayRef
    """The Gateway as GrpcRoute takes it (values are Outputs where the arguments were)."""
    peer: PeerRef
    """The NGINX data plane pods NGF runs for this Gateway."""
    name: pulumi.Output[str]
    """The Gateway's Kubernetes name (resolves once the Gateway exists)."""
    namespace: pulumi.Output[str]
    """The Gateway's namespace."""
    hostnames: pulumi.Output[list[str]]
    """The listeners' hostnames."""
    listener_names: pulumi.Output[dict[str, str]]
    """Hostname -> listener name (`https-` + the host made DNS-safe; `-2`, `-3`... when two
    hostnames would otherwise share a name)."""
    tls_secret_name: pulumi.Output[str]
    """The listeners' TLS Secret (in `namespace`)."""
    certificate_dns_names: pulumi.Output[list[str] | None]
    """SANs of the served certificate when grpc-kube knows them (generated, or a TlsSecret
    object); None for your own Secret by name."""
    ca_cert_pem: pulumi.Output[str | None]
    """PEM of the CA that signed the served certificate (generated or a TlsSecret object's);
    None when `tls_secret_name` is given."""
    gateway: k8s.apiextensions.CustomResource
    """The Gateway object."""
    client_settings_policy: k8s.apiextensions.CustomResource | None
    """The Gateway's ClientSettingsPolicy, with `max_message_bytes`."""

    def __init__(
        self,
        name: str,
        args: GrpcGatewayArgs | Mapping[str, Any],
        *,
        controller: NginxGatewayFabric,
        ca: CertificateAuthority | None = None,
        tls_secret: TlsSecret | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`ca`: the CA that issues the listener certificate when neither `tls_secret_name` nor
        `tls_secret` is given (default: one is generated, `<name>-ca`). `tls_secret`: a
        TlsSecret (from the certificates helpers) in `namespace` to serve instead; its
        certificate must cover every hostname."""
        where = f"GrpcGateway {name!r}"
        args = validate_model(GrpcGatewayArgs, args, where=where)
        if not isinstance(controller, NginxGatewayFabric):
            raise TypeError(
                f"GrpcGateway {name!r}: controller must be a NginxGatewayFabric, got "
                f"{type(controller).__name__}."
            )
        checks = DeferredChecks(where)
        problems: list[str] = []
        gw_name: Any = args.gateway_name if args.gateway_name is not None else name
        if args.gateway_name is None:
            try:
                check_dns_label(name, what="Gateway name")
            except ValueError as exc:
                problems.append(f"name: got {name!r}; {exc} Or set gateway_name.")
        class_name = controller.args.gateway_class_name
        if not problems:
            checks.check(_data_plane_problems, gw_name, class_name)
        generate = tls_secret is None and args.tls_secret_name is None
        if ca is not None and not isinstance(ca, CertificateAuthority):
            problems.append(
                f"ca: got {type(ca).__name__}; expected a CertificateAuthority. Fix: pass the "
                "CertificateAuthority object, or leave ca out to have one generated."
            )
        elif ca is not None and not generate:
            problems.append(
                "ca: given, but the certificate is not generated here (tls_secret_name or "
                "tls_secret is set), so it would be ignored. Fix: remove ca, or the Secret."
            )
        elif ca is not None:
            problem = issuer_validity_problem(
                ca, args.certificate_validity_hours, field="certificate_validity_hours"
            )
            if problem:
                problems.append(problem)
        if tls_secret is not None:
            # Checks that need a value still an Output run when it resolves (provision_edge_tls).
            problems += _tls_secret_problems(
                tls_secret, args.hostnames, args.namespace, args.tls_secret_name is not None
            )
        problems += checks.now
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__(
            "GrpcGateway",
            name,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(transformations=[_certificate_alias(name)])
            ),
        )
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        if args.gateway_name is not None:
            gw_name = args.gateway_name
        self.args = args
        self.controller = controller
        self._where = where
        child = pulumi.ResourceOptions(parent=self)

        # The Gateway needs its class (the controller's) and the Gateway API CRDs; with an
        # existing controller only the CRDs may be created by this program.
        deps: list[pulumi.Resource] = [controller]
        if controller.gateway_api_crds is not None:
            deps.append(controller.gateway_api_crds)
        if args.create_namespace:
            level = pod_security_level(
                args.pod_security, mesh=args.mesh, linkerd_cni=args.linkerd_cni
            )
            namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=namespace_metadata(args.namespace, enforce=level),
                opts=child,
            )
            deps.append(namespace)
            # The Secret names the namespace through the Namespace resource, so it waits for it.
            secret_namespace: Any = pulumi.Output.all(namespace.id, args.namespace).apply(
                lambda v: v[1]
            )
        else:
            secret_namespace = args.namespace

        # The listener certificate, through the same path as GrpcIngress's edge TLS.
        issuer = ca
        if generate and issuer is None:
            issuer = CertificateAuthority(
                f"{name}-ca",
                CertificateAuthorityArgs(common_name=fmt("grpc-kube gateway {} CA", gw_name)),
                opts=child,
            )
        edge = provision_edge_tls(
            f"{name}-tls",
            _edge_tls_args(args),
            hosts=args.hostnames,
            namespace=secret_namespace,
            default_secret_name=fmt("{}-tls", gw_name),
            tls_secret=tls_secret,
            issuer=issuer,
            parent=self,
        )
        deps += [r for r in edge.wait_for if r not in deps]
        if tls_secret is not None:
            sans: Any = lift(list, tls_secret.certificate.args.dns_names)
        else:
            sans = lift(list, args.hostnames) if edge.generated else None
        self.ref = GatewayRef(
            name=gw_name,
            namespace=args.namespace,
            hostnames=args.hostnames,
            route_namespaces=args.route_namespaces,
            certificate_dns_names=sans,
            ca_cert_pem=edge.ca_cert_pem if sans is not None else None,
            service_account=fmt("{}-{}", gw_name, class_name),
            mesh=args.mesh,
        )
        self.peer = self.ref.peer

        listeners = lift(
            lambda hosts, secret, allowed: [
                {
                    "name": listener,
                    "hostname": host,
                    "port": LISTENER_PORT,
                    "protocol": "HTTPS",
                    "tls": {
                        "mode": "Terminate",
                        "certificateRefs": [{"kind": "Secret", "group": "", "name": secret}],
                    },
                    "allowedRoutes": {
                        "namespaces": allowed,
                        "kinds": [{"group": GATEWAY_GROUP, "kind": "GRPCRoute"}],
                    },
                }
                for host, listener in _listener_names(hosts).items()
            ],
            args.hostnames,
            edge.secret_name,
            lift(_allowed_routes, args.route_namespaces),
        )
        spec: dict[str, Any] = {"gatewayClassName": class_name, "listeners": listeners}
        if args.mesh:
            spec["infrastructure"] = {"annotations": {MESH_INJECT_ANNOTATION: "enabled"}}
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata={"name": gw_name, "namespace": args.namespace, "labels": dict(_MANAGED)},
            spec=checks.guard(spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.client_settings_policy = None
        if args.max_message_bytes is not None:
            policy = client_settings_policy_object(
                name=fmt("{}-client-settings", gw_name),
                namespace=args.namespace,
                target_kind="Gateway",
                target_name=gw_name,
                max_message_bytes=args.max_message_bytes,
            )
            self.client_settings_policy = k8s.apiextensions.CustomResource(
                f"{name}-client-settings",
                api_version=policy["apiVersion"],
                kind=policy["kind"],
                metadata=policy["metadata"],
                spec=policy["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway]),
            )

        # The name is tied to the Gateway, so whatever reads it waits for the Gateway.
        self.name = pulumi.Output.all(self.gateway.id, gw_name).apply(lambda v: v[1])
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.hostnames = pulumi.Output.from_input(lift(list, args.hostnames))
        self.listener_names = pulumi.Output.from_input(self.ref.listener_names)
        self.tls_secret_name = pulumi.Output.from_input(edge.secret_name)
        self.certificate_dns_names = pulumi.Output.from_input(sans)
        self.ca_cert_pem = pulumi.Output.from_input(self.ref.ca_cert_pem)
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace,
                "tls_secret_name": self.tls_secret_name,
                "ca_cert_pem": self.ca_cert_pem,
            }
        )

    @property
    def edge_workload(self) -> EdgeWorkload:
        """The NGINX data plane NGF runs for this Gateway, as ZeroTrustPolicy isolates it (pass
        it as ZeroTrustPolicyArgs `edge` in `namespace`, with this Gateway's GrpcRoutes as
        `ingresses`): clients reach its listener port (443), its nginx-agent dials the NGF
        control plane on 8443, Prometheus may scrape 9113, and it is meshed with `mesh`
        (EdgeAuthorization then admits the listener traffic in Linkerd). Its name is the data
        plane's Deployment name, `<gateway_name>-<gatewayclass>`, so both must be plain."""
        gw: Any = self.ref.name
        class_name: Any = self.controller.args.gateway_class_name
        if contains_output(gw) or contains_output(class_name):
            raise InvalidArgumentError(
                self._where,
                [
                    "gateway_name: the Gateway name or the GatewayClass name is an Output; they "
                    "name the data plane, and edge policies are named after it. Fix: give both "
                    "as plain strings."
                ],
            )
        control_plane = self.controller.control_plane_peer
        return EdgeWorkload(
            name=f"{gw}-{class_name}",
            pod_labels={GATEWAY_NAME_LABEL: gw},
            entry_ports=(LISTENER_PORT,),
            metrics_ports=(DATA_PLANE_METRICS_PORT,),
            meshed=self.args.mesh,
            allow_to=(
                EdgePeer(
                    namespace=control_plane.namespace,
                    pod_labels=control_plane.pod_labels,
                    ports=(AGENT_PORT,),
                ),
            ),
        )

    @staticmethod
    def listener_name(host: str) -> str:
        """Base listener name for a hostname: `https-` + the host with dots and `*` made
        DNS-safe (`*.apps.example.com` -> `https-wildcard-apps-example-com`)."""
        return ("https-" + host.replace("*.", "wildcard.").replace(".", "-"))[:253].rstrip("-")

    def listener_for(self, host: str) -> str | None:
        """The listener serving `host` (see `GatewayRef.listener_for`; plain hostnames)."""
        return self.ref.listener_for(host)

    def certificate_covers(self, host: str) -> bool | None:
        """Whether the served certificate is valid for `host`; None when the certificate is
        the user's Secret by name (unknown here)."""
        return self.ref.certificate_covers(host)

    def admits_namespace(self, namespace: str) -> bool:
        """Whether routes from `namespace` may attach (plain values)."""
        return self.ref.admits_namespace(namespace)


def _edge_tls_args(args: GrpcGatewayArgs) -> EdgeTlsArgs:
    """The listener certificate as the shared edge TLS settings."""
    fields: dict[str, Any] = {
        "validity_hours": args.certificate_validity_hours,
        "early_renewal_hours": args.certificate_early_renewal_hours,
    }
    if args.tls_secret_name is not None:
        fields.update(secret_name=args.tls_secret_name, existing=True)
    return EdgeTlsArgs(**fields)


def _certificate_alias(name: str) -> pulumi.ResourceTransformation:
    """The listener certificate comes from `provision_edge_tls`, which registers it as
    `<name>-tls-certificate`; it was `<name>-cert` before. The alias keeps its state, so
    `pulumi up` does not re-issue it (its children follow the renamed parent)."""

    def transform(
        t: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if t.type_ != "grpc-kube:index:Certificate" or t.name != f"{name}-tls-certificate":
            return None
        alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-cert")])
        return pulumi.ResourceTransformationResult(
            t.props, pulumi.ResourceOptions.merge(t.opts, alias)
        )

    return transform


def _listener_names(hostnames: Sequence[str]) -> dict[str, str]:
    """Unique listener names in hostname order. Distinct hostnames can share a base name
    (`a-b.example.com` and `a.b-example.com`, `*.x.io` and `wildcard.x.io`), and the Gateway's
    CEL rule refuses duplicates, so later ones get `-2`, `-3`..."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for host in hostnames:
        base = GrpcGateway.listener_name(host)
        candidate, n = base, 2
        while candidate in used:
            suffix = f"-{n}"
            candidate = base[: 253 - len(suffix)].rstrip("-") + suffix
            n += 1
        used.add(candidate)
        out[host] = candidate
    return out


def _tls_secret_problems(
    tls_secret: object, hostnames: Any, namespace: Any, named_twice: bool
) -> list[str]:
    return tls_secret_problems(
        tls_secret,
        hosts=hostnames,
        namespace=namespace,
        reader="the Gateway (its listeners, without a ReferenceGrant)",
        name_instead="your Secret's name as tls_secret_name",
        named_twice=named_twice,
        twice_fields="tls_secret_name",
    )


def _method_match(m: GrpcMethodMatch) -> dict[str, Any]:
    return {"method": {"type": "Exact", "service": m.service, "method": m.method}}


def _backend_ref(info: GrpcServiceRef) -> list[dict[str, Any]]:
    # Name and port come from the GrpcService itself: they cannot disagree with the Service.
    return [{"name": info.name, "port": info.port}]


def _pairs(
    service: GrpcServiceRef | None,
    matches: Sequence[GrpcMethodMatch],
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]],
) -> list[tuple[GrpcMethodMatch, GrpcServiceRef]]:
    return [(m, service) for m in matches if service is not None] + list(routes)


def _rules(
    service: GrpcServiceRef | None,
    matches: Sequence[GrpcMethodMatch],
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]],
) -> list[dict[str, Any]]:
    """One rule per backend with its method matches (fewest rules: a GRPCRoute allows 16),
    then either a catch-all rule to `service` (when it has no `matches`) or a reflection rule.
    No rule `name`: NGF 2.6.7 reports it as an unsupported field."""
    pairs = _pairs(service, matches, routes)
    groups: dict[tuple[str, int], tuple[GrpcServiceRef, list[GrpcMethodMatch]]] = {}
    for m, info in pairs:
        groups.setdefault((info.name, info.port), (info, []))[1].append(m)  # type: ignore[arg-type]
    rules: list[dict[str, Any]] = [
        {
            "matches": [_method_match(m) for m in ms],
            "backendRefs": _backend_ref(info),
        }
        for info, ms in groups.values()
    ]
    if service is not None and not matches:
        # No matches: every call no other rule matches, reflection included, goes here.
        rules.append({"backendRefs": _backend_ref(service)})
    elif pairs:
        # Only named methods are routed: keep reflection reachable so grpcurl still works.
        matched = {(m.service.lstrip("."), m.method) for m, _ in pairs}
        reflection = [
            GrpcMethodMatch(service=s, method=REFLECTION_METHOD)
            for s in REFLECTION_SERVICES
            if (s, REFLECTION_METHOD) not in matched
        ]
        if reflection:
            rules.append(
                {
                    "matches": [_method_match(m) for m in reflection],
                    "backendRefs": _backend_ref(pairs[0][1]),
                }
            )
    return rules


def _gateway_ref(gateway: GrpcGateway | GatewayRef) -> GatewayRef:
    return gateway.ref if isinstance(gateway, GrpcGateway) else gateway


def grpc_route_problems(
    *,
    gateway: GrpcGateway | GatewayRef,
    hostnames: Sequence[str],
    service: GrpcServiceRef | None = None,
    matches: Sequence[GrpcMethodMatch] = (),
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]] = (),
    host_field: str = "hostnames",
    routes_field: str = "routes",
) -> list[str]:
    """Why a GRPCRoute for these backends could not work on `gateway`, as `field: ... Fix: ...`
    lines (empty when it can). Takes plain values (GrpcRoute calls it once Outputs resolve);
    call before registering anything."""
    gw = _gateway_ref(gateway)
    problems: list[str] = []
    for host in hostnames:
        listener = gw.listener_for(host)
        if listener is None:
            problems.append(
                f"{host_field}: got {host!r}, but Gateway {gw.name!r} has no listener for "
                f"it (its hostnames: {list(_plain(gw.hostnames))}). Fix: add it to the "
                "GrpcGateway's hostnames."
            )
        elif gw.certificate_covers(host) is False:
            sans = list(_plain(gw.certificate_dns_names or ()))
            problems.append(
                f"{host_field}: got {host!r}; Gateway {gw.name!r} serves it on listener "
                f"{listener!r}, but its certificate covers {sans} and a '*.' name covers "
                f"exactly one label, so clients would reject it. Fix: add {host!r} to the "
                "GrpcGateway's hostnames."
            )
    if matches and service is None:
        problems.append("matches: given without service. Fix: pass the service they select.")
    pairs = _pairs(service, matches, routes)
    infos = [i for _, i in pairs] + ([service] if service is not None else [])
    namespaces = sorted({cast(str, i.namespace) for i in infos})
    if not infos:
        problems.append(f"service: missing. Fix: pass a service and/or {routes_field}.")
    elif len(namespaces) > 1:
        problems.append(
            f"service/{routes_field}: the services are in namespaces {namespaces}, but a "
            "GRPCRoute reaches Services in its own namespace only (without a ReferenceGrant). "
            "Fix: one route per namespace."
        )
    elif not gw.admits_namespace(namespaces[0]):
        problems.append(
            f"service: in namespace {namespaces[0]!r}, which Gateway {gw.name!r} does not "
            f"admit routes from (route_namespaces={gw.route_namespaces!r}). Fix: add "
            f"{namespaces[0]!r} to the GrpcGateway's route_namespaces."
        )
    seen: set[tuple[str, str]] = set()
    for m, _ in pairs:
        key = (m.service.lstrip("."), m.method)
        if key in seen:
            problems.append(
                f"{routes_field}: {m.service}/{m.method} is matched twice. Fix: route it once."
            )
        seen.add(key)
    if infos:
        rules = _rules(service, matches, routes)
        counts = [len(r.get("matches", [])) for r in rules]
        if (
            len(rules) > _MAX_RULES
            or max(counts) > _MAX_MATCHES_PER_RULE
            or sum(counts) > _MAX_MATCHES
        ):
            problems.append(
                f"{routes_field}: {len(rules)} rules with {sum(counts)} method matches (at most "
                f"{max(counts)} in one rule); a GRPCRoute allows {_MAX_RULES} rules, "
                f"{_MAX_MATCHES_PER_RULE} matches per rule and {_MAX_MATCHES} in all (Gateway "
                "API v1.5.1). Fix: split the services over several routes for the same host."
            )
    return problems


def grpc_route_object(
    *,
    name: str,
    gateway: GrpcGateway | GatewayRef,
    hostnames: Sequence[str],
    service: GrpcServiceRef | None = None,
    matches: Sequence[GrpcMethodMatch] = (),
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The GRPCRoute that sends `hostnames` to the given services (plain values; GrpcRoute
    calls it once Outputs resolve).

    `service` alone receives every call; with `matches`, only those methods. `routes` sends
    each method to its own service (ahead of `service`'s catch-all: exact matches take
    precedence over a rule without matches). When nothing catches every call, server
    reflection (`ServerReflectionInfo` of v1 and v1alpha) goes to the first backend so
    grpcurl keeps working. The route lives in the
    services' namespace (backendRefs without a ReferenceGrant) and attaches to the gateway's
    listener for each hostname. Raises InvalidArgumentError with `grpc_route_problems`.
    """
    gw = _gateway_ref(gateway)
    problems = grpc_route_problems(
        gateway=gw,
        hostnames=hostnames,
        service=service,
        matches=matches,
        routes=routes,
        routes_field="matches/routes",
    )
    if problems:
        raise InvalidArgumentError(f"GRPCRoute {name!r}", problems)
    sections: list[str] = []
    for host in hostnames:
        section = gw.listener_for(host)
        if section is not None and section not in sections:
            sections.append(section)
    namespace = (service or _pairs(service, matches, routes)[0][1]).namespace
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GRPCRoute",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**(labels or {}), **_MANAGED},
        },
        "spec": {
            "parentRefs": [
                {
                    "group": GATEWAY_GROUP,
                    "kind": "Gateway",
                    "name": gw.name,
                    "namespace": gw.namespace,
                    "sectionName": section,
                }
                for section in sections
            ],
            "hostnames": list(hostnames),
            "rules": _rules(service, matches, routes),
        },
    }
