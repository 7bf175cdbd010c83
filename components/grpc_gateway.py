"""GrpcGateway: a Gateway API `Gateway` with an HTTPS listener per hostname, served by NGINX
Gateway Fabric, and the GRPCRoute builder GrpcIngress uses on its Gateway API path.

NGF provisions one NGINX data plane (Deployment + Service) per Gateway, in the Gateway's
namespace. It copies `spec.infrastructure` labels and annotations onto that data plane's pod
template (checked in NGF v2.6.7, internal/controller/provisioner/objects.go), which is how the
data plane gets meshed (`linkerd.io/inject: enabled`), labels its pods
`gateway.networking.k8s.io/gateway-name: <gateway>`, which is how policies select them, and
names them and their ServiceAccount `<gateway>-<gatewayclass>` (hashed beyond 63 characters,
which is refused here so the Linkerd identity stays predictable). NGF 2.6.7 sends each call to a
pod endpoint it resolved from the Service's EndpointSlices, never to the ClusterIP; see
docs/gateway-api.md for what that means with Linkerd.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_dns_label,
    check_dns_subdomain,
    field_validator,
    model_validator,
)
from .certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    TlsSecret,
    check_hostnames,
    hostname_covered,
    issuer_validity_problem,
    tls_secret_problems,
)
from .grpc_service import MESH_INJECT_ANNOTATION, GrpcServiceRef
from .nginx_gateway_fabric import NginxGatewayFabric
from .peers import PeerRef

__all__ = [
    "MAX_GRPC_MESSAGE_BYTES",
    "NGF_POLICY_API",
    "REFLECTION_METHOD",
    "REFLECTION_SERVICES",
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
NGF_POLICY_API = "gateway.nginx.org/v1alpha1"
"""API version of NGF's ClientSettingsPolicy (served and stored by NGF 2.6.7's CRD)."""
# grpcurl discovers services through reflection; a route limited to some methods must still
# pass these or `grpcurl host:443 list` / `describe` stop working. Each has one method.
REFLECTION_SERVICES = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)
REFLECTION_METHOD = "ServerReflectionInfo"
PodSecurityLevel = Literal["restricted", "baseline", "privileged"]

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
_MANAGED = {"app.kubernetes.io/managed-by": "grpc-kube"}


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


class GrpcGatewayArgs(ArgsModel):
    """Arguments of GrpcGateway."""

    hostnames: tuple[str, ...] = Field(min_length=1, max_length=64)
    """Hostnames clients dial; one HTTPS listener (port 443) each. A wildcard `*.example.com`
    is allowed: as a listener it serves any depth (`a.b.example.com` too), but a generated
    certificate for it covers one label only, so routes for deeper hosts are refused."""
    namespace: str = "grpc-gateway"
    """Namespace of the Gateway and of the NGINX data plane NGF creates for it (default
    `grpc-gateway`). TLS Secrets must live here."""
    create_namespace: bool = True
    """Create the namespace (default True). False when it exists, e.g. a MeshEnabledNamespace."""
    gateway_name: str | None = None
    """Kubernetes name of the Gateway (default: the component name). NGF names the data plane
    and its ServiceAccount `<gateway_name>-<gatewayclass>`, which must fit in 63 characters."""
    tls_secret_name: str | None = None
    """Bring your own `kubernetes.io/tls` Secret in `namespace` (default None: a certificate
    for the hostnames is issued from a generated CA, or the `ca=` given, and its CA's PEM is
    the `ca_cert_pem` output). A TlsSecret object can be passed with `tls_secret=` instead."""
    certificate_validity_hours: int = Field(default=2160, ge=1)
    """Validity of the generated certificate (default 2160 h = 90 days)."""
    certificate_early_renewal_hours: int = Field(default=720, ge=0)
    """Re-issue on the first `pulumi up` this close to expiry (default 720 h = 30 days)."""
    route_namespaces: tuple[str, ...] | Literal["Same", "All"] = "Same"
    """Namespaces whose GRPCRoutes may attach (default `Same`). List the namespaces of the
    services you expose; `All` lets any namespace publish on your hostnames."""
    mesh: bool = False
    """Mesh the NGINX data plane with Linkerd (default False) via the Gateway's
    `spec.infrastructure.annotations`, so its connections to meshed pods are mTLS with the
    identity `<gateway_name>-<gatewayclass>.<namespace>` (the `peer`'s ServiceAccount). NGF
    still picks the pod for every call; Linkerd adds mTLS, identity and metrics."""
    linkerd_cni: bool = False
    """Whether the Linkerd CNI plugin is installed (default False). Only matters with `mesh`
    and `create_namespace`: without it Linkerd adds a `linkerd-init` container that needs
    NET_ADMIN and NET_RAW, which decides the namespace's default Pod Security level."""
    pod_security: PodSecurityLevel | None = None
    """Pod Security Standard enforced on the namespace this component creates. Default
    `restricted` (NGF 2.6.7's data plane pods comply: non-root, no privilege escalation, ALL
    capabilities dropped, RuntimeDefault seccomp), except `privileged` with `mesh` and no
    `linkerd_cni` (`linkerd-init` needs NET_ADMIN and NET_RAW, which even `baseline`
    forbids). `warn` and `audit` are always `restricted`."""
    max_message_bytes: int | None = Field(default=None, ge=1, le=MAX_GRPC_MESSAGE_BYTES)
    """Largest request message NGINX accepts on every listener (default None: NGF 2.6.7 sets
    no `client_max_body_size`, so nginx's 1 MiB applies and a larger message fails with
    RESOURCE_EXHAUSTED). Set e.g. 4194304 for gRPC's default 4 MiB: a ClientSettingsPolicy
    (`gateway.nginx.org/v1alpha1`) on the Gateway with `body.maxSize` = the message plus its
    5-byte frame header, rounded up to NGF's size format (`4097k`). A client stream counts
    all its messages together. GrpcIngress's `max_message_bytes`, when set explicitly,
    overrides it for one route."""

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        check_hostnames(v)
        if len(set(v)) != len(v):
            raise ValueError("hostnames repeat. Fix: list each hostname once.")
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
    def _route_ns(cls, v: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if isinstance(v, tuple):
            if not v:
                raise ValueError(
                    "an empty list admits no route. Fix: list namespaces, or use 'Same'."
                )
            for ns in v:
                check_dns_label(ns, what="namespace", must_start_with_letter=False)
        return v

    @model_validator(mode="after")
    def _combinations(self) -> GrpcGatewayArgs:
        if self.certificate_early_renewal_hours >= self.certificate_validity_hours:
            raise ValueError(
                "certificate_early_renewal_hours must be below certificate_validity_hours. "
                "Fix: lower certificate_early_renewal_hours."
            )
        if self.pod_security is not None and not self.create_namespace:
            raise ValueError(
                f"pod_security={self.pod_security!r} applies to the namespace this component "
                "creates, but create_namespace is False. Fix: set Pod Security on the namespace "
                "you created (e.g. MeshEnabledNamespaceArgs.pod_security), or remove it."
            )
        if self.mesh and not self.linkerd_cni and self.pod_security in ("restricted", "baseline"):
            raise ValueError(
                f"pod_security {self.pod_security!r} with mesh and no linkerd_cni: Linkerd's "
                "linkerd-init container needs NET_ADMIN and NET_RAW, which only 'privileged' "
                "admits, so the gateway's pods would never start. Fix: install linkerd2-cni "
                "and set linkerd_cni=True, or leave pod_security unset."
            )
        return self


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


def client_settings_policy_object(
    *,
    name: str,
    namespace: str,
    target_kind: Literal["Gateway", "GRPCRoute"],
    target_name: str,
    max_message_bytes: int,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """NGF's ClientSettingsPolicy raising nginx's `client_max_body_size` for one Gateway or
    GRPCRoute (same namespace as its target) so a gRPC message of `max_message_bytes` passes.

    Shape checked against NGF v2.6.7 (apis/v1alpha1/clientsettingspolicy_types.go and its CRD):
    `spec.targetRef` {group, kind, name} of kind Gateway, HTTPRoute or GRPCRoute; `spec.body`
    {maxSize, timeout}. NGF writes `maxSize` into the server block (Gateway) or the route's
    locations (GRPCRoute), so a route's policy overrides its Gateway's.
    """
    size = nginx_size(max_message_bytes + _FRAME_HEADER_BYTES)
    assert _NGF_SIZE.match(size), size
    return {
        "apiVersion": NGF_POLICY_API,
        "kind": "ClientSettingsPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**(labels or {}), **_MANAGED},
        },
        "spec": {
            "targetRef": {"group": GATEWAY_GROUP, "kind": target_kind, "name": target_name},
            "body": {"maxSize": size},
        },
    }


class GrpcGateway(Component):
    """A Gateway for gRPC over TLS (HTTP/2 via ALPN) on port 443."""

    name: str
    namespace: str
    hostnames: tuple[str, ...]
    listener_names: dict[str, str]
    """Hostname -> listener name (`https-` + the host made DNS-safe; `-2`, `-3`... when two
    hostnames would otherwise share a name)."""
    peer: PeerRef
    """The NGINX data plane pods NGF runs for this Gateway."""
    tls_secret_name: str
    """The listeners' TLS Secret (in `namespace`)."""
    certificate_dns_names: tuple[str, ...] | None
    """SANs of the served certificate when grpc-kube knows them (generated, or a TlsSecret
    object); None for your own Secret by name."""
    ca_cert_pem: pulumi.Output[str] | None
    """PEM of the CA that signed the served certificate (generated or a TlsSecret object's);
    None when `tls_secret_name` is given."""
    client_settings_policy: k8s.apiextensions.CustomResource | None
    """The Gateway's ClientSettingsPolicy, with `max_message_bytes`."""

    def __init__(
        self,
        name: str,
        args: GrpcGatewayArgs,
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
        if not isinstance(args, GrpcGatewayArgs):
            raise TypeError(
                f"GrpcGateway {name!r}: args must be a GrpcGatewayArgs, got "
                f"{type(args).__name__}. Fix: GrpcGateway(name, GrpcGatewayArgs(hostnames=...), "
                "controller=...)."
            )
        if not isinstance(controller, NginxGatewayFabric):
            raise TypeError(
                f"GrpcGateway {name!r}: controller must be a NginxGatewayFabric, got "
                f"{type(controller).__name__}."
            )
        where = f"GrpcGateway {name!r}"
        problems: list[str] = []
        gw_name = args.gateway_name or name
        try:
            check_dns_label(gw_name, what="Gateway name")
        except ValueError as exc:
            problems.append(f"name: got {gw_name!r}; {exc} Or set gateway_name.")
        data_plane = f"{gw_name}-{controller.gateway_class_name}"
        if len(data_plane) > _MAX_DATA_PLANE_NAME:
            problems.append(
                f"gateway_name: NGF would name the data plane and its ServiceAccount "
                f"{data_plane!r} ({len(data_plane)} characters), which it truncates and hashes "
                f"beyond {_MAX_DATA_PLANE_NAME}, so its Linkerd identity and pod labels could not "
                "be named here. Fix: a gateway_name of at most "
                f"{_MAX_DATA_PLANE_NAME - len(controller.gateway_class_name) - 1} characters."
            )
        if ca is not None and not isinstance(ca, CertificateAuthority):
            problems.append(
                f"ca: got {type(ca).__name__}; expected a CertificateAuthority. Fix: pass the "
                "CertificateAuthority object, or leave ca out to have one generated."
            )
        elif ca is not None and (args.tls_secret_name is not None or tls_secret is not None):
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
            problems += _tls_secret_problems(tls_secret, args)
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("GrpcGateway", name, opts)
        self.args = args
        self.name = gw_name
        self.namespace = args.namespace
        self.hostnames = args.hostnames
        self.controller = controller
        self.listener_names = _listener_names(args.hostnames)
        self.peer = PeerRef(
            namespace=args.namespace,
            pod_labels={GATEWAY_NAME_LABEL: gw_name},
            service_account=data_plane,
            meshed=args.mesh,
        )
        deps: list[pulumi.Resource] = [controller]
        if args.create_namespace:
            init_container = args.mesh and not args.linkerd_cni
            level = args.pod_security or ("privileged" if init_container else "restricted")
            deps.append(
                k8s.core.v1.Namespace(
                    f"{name}-namespace",
                    metadata={
                        "name": args.namespace,
                        "labels": {
                            "pod-security.kubernetes.io/enforce": level,
                            "pod-security.kubernetes.io/warn": "restricted",
                            "pod-security.kubernetes.io/audit": "restricted",
                            **_MANAGED,
                        },
                    },
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )

        self.ca_cert_pem = None
        self.certificate_dns_names = None
        if tls_secret is not None:
            secret_name = tls_secret.secret_name
            deps.append(tls_secret)
            self.ca_cert_pem = tls_secret.ca_cert_pem
            self.certificate_dns_names = tuple(tls_secret.certificate.args.dns_names)
        elif args.tls_secret_name is not None:
            secret_name = args.tls_secret_name
        else:
            if ca is None:
                ca = CertificateAuthority(
                    f"{name}-ca",
                    CertificateAuthorityArgs(common_name=f"grpc-kube gateway {gw_name} CA"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            cert = Certificate(
                f"{name}-cert",
                CertificateArgs(
                    common_name=args.hostnames[0],
                    dns_names=args.hostnames,
                    validity_hours=args.certificate_validity_hours,
                    early_renewal_hours=args.certificate_early_renewal_hours,
                ),
                issuer=ca,
                opts=pulumi.ResourceOptions(parent=self),
            )
            secret_name = f"{gw_name}-tls"
            deps.append(
                TlsSecret(
                    f"{name}-tls",
                    certificate=cert,
                    namespace=args.namespace,
                    secret_name=secret_name,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=deps[1:]),
                )
            )
            self.ca_cert_pem = ca.cert_pem
            self.certificate_dns_names = args.hostnames

        self.tls_secret_name = secret_name
        allowed: dict[str, Any]
        if isinstance(args.route_namespaces, tuple):
            allowed = {
                "from": "Selector",
                "selector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "In",
                            "values": list(args.route_namespaces),
                        }
                    ]
                },
            }
        else:
            allowed = {"from": args.route_namespaces}
        listeners = [
            {
                "name": self.listener_names[host],
                "hostname": host,
                "port": 443,
                "protocol": "HTTPS",
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "group": "", "name": secret_name}],
                },
                "allowedRoutes": {
                    "namespaces": allowed,
                    "kinds": [{"group": GATEWAY_GROUP, "kind": "GRPCRoute"}],
                },
            }
            for host in args.hostnames
        ]
        spec: dict[str, Any] = {
            "gatewayClassName": controller.gateway_class_name,
            "listeners": listeners,
        }
        if args.mesh:
            spec["infrastructure"] = {"annotations": {MESH_INJECT_ANNOTATION: "enabled"}}
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata={"name": gw_name, "namespace": args.namespace, "labels": dict(_MANAGED)},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.client_settings_policy = None
        if args.max_message_bytes is not None:
            policy = client_settings_policy_object(
                name=f"{gw_name}-client-settings",
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
        outputs: dict[str, Any] = {"name": gw_name, "namespace": args.namespace}
        if self.ca_cert_pem is not None:
            outputs["ca_cert_pem"] = self.ca_cert_pem
        self.register_outputs(outputs)

    @staticmethod
    def listener_name(host: str) -> str:
        """Base listener name for a hostname: `https-` + the host with dots and `*` made
        DNS-safe (`*.apps.example.com` -> `https-wildcard-apps-example-com`)."""
        return ("https-" + host.replace("*.", "wildcard.").replace(".", "-"))[:253].rstrip("-")

    def listener_for(self, host: str) -> str | None:
        """The listener serving `host`, as Gateway API picks it: its exact hostname, else the
        longest `*.` wildcard matching it (one or more labels: `*.example.com` serves
        `a.example.com` and `a.b.example.com`, not `example.com`)."""
        if host in self.listener_names:
            return self.listener_names[host]
        best: str | None = None
        for listener_host in self.hostnames:
            suffix = listener_host[1:]  # ".example.com"
            if (
                listener_host.startswith("*.")
                and host.endswith(suffix)
                and len(host) > len(suffix)
                and (best is None or len(listener_host) > len(best))
            ):
                best = listener_host
        return None if best is None else self.listener_names[best]

    def certificate_covers(self, host: str) -> bool | None:
        """Whether the served certificate is valid for `host` (a `*.` SAN covers exactly one
        label); None when the certificate is the user's Secret by name (unknown here)."""
        if self.certificate_dns_names is None:
            return None
        return hostname_covered(host, self.certificate_dns_names)

    def admits_namespace(self, namespace: str) -> bool:
        rn = self.args.route_namespaces
        if rn == "All":
            return True
        if rn == "Same":
            return namespace == self.namespace
        return namespace in rn


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


def _tls_secret_problems(tls_secret: object, args: GrpcGatewayArgs) -> list[str]:
    return tls_secret_problems(
        tls_secret,
        hosts=args.hostnames,
        namespace=args.namespace,
        reader="the Gateway (its listeners, without a ReferenceGrant)",
        name_instead="your Secret's name as tls_secret_name",
        named_twice=args.tls_secret_name is not None,
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
        groups.setdefault((info.name, info.port), (info, []))[1].append(m)
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


def grpc_route_problems(
    *,
    gateway: GrpcGateway,
    hostnames: Sequence[str],
    service: GrpcServiceRef | None = None,
    matches: Sequence[GrpcMethodMatch] = (),
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]] = (),
    host_field: str = "hostnames",
    routes_field: str = "routes",
) -> list[str]:
    """Why a GRPCRoute for these backends could not work on `gateway`, as `field: ... Fix: ...`
    lines (empty when it can). Call before registering anything."""
    problems: list[str] = []
    for host in hostnames:
        listener = gateway.listener_for(host)
        if listener is None:
            problems.append(
                f"{host_field}: got {host!r}, but Gateway {gateway.name!r} has no listener for "
                f"it (its hostnames: {list(gateway.hostnames)}). Fix: add it to the "
                "GrpcGateway's hostnames."
            )
        elif gateway.certificate_covers(host) is False:
            sans = list(gateway.certificate_dns_names or ())
            problems.append(
                f"{host_field}: got {host!r}; Gateway {gateway.name!r} serves it on listener "
                f"{listener!r}, but its certificate covers {sans} and a '*.' name covers "
                f"exactly one label, so clients would reject it. Fix: add {host!r} to the "
                "GrpcGateway's hostnames."
            )
    if matches and service is None:
        problems.append("matches: given without service. Fix: pass the service they select.")
    pairs = _pairs(service, matches, routes)
    infos = [i for _, i in pairs] + ([service] if service is not None else [])
    namespaces = sorted({i.namespace for i in infos})
    if not infos:
        problems.append(f"service: missing. Fix: pass a service and/or {routes_field}.")
    elif len(namespaces) > 1:
        problems.append(
            f"service/{routes_field}: the services are in namespaces {namespaces}, but a "
            "GRPCRoute reaches Services in its own namespace only (without a ReferenceGrant). "
            "Fix: one route per namespace."
        )
    elif not gateway.admits_namespace(namespaces[0]):
        problems.append(
            f"service: in namespace {namespaces[0]!r}, which Gateway {gateway.name!r} does not "
            f"admit routes from (route_namespaces={gateway.args.route_namespaces!r}). Fix: add "
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
    gateway: GrpcGateway,
    hostnames: tuple[str, ...],
    service: GrpcServiceRef | None = None,
    matches: tuple[GrpcMethodMatch, ...] = (),
    routes: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The GRPCRoute that sends `hostnames` to the given services.

    `service` alone receives every call; with `matches`, only those methods. `routes` sends
    each method to its own service (ahead of `service`'s catch-all: exact matches take
    precedence over a rule without matches). When nothing catches every call, server
    reflection (`ServerReflectionInfo` of v1 and v1alpha) goes to the first backend so
    grpcurl keeps working. The route lives in the
    services' namespace (backendRefs without a ReferenceGrant) and attaches to the gateway's
    listener for each hostname. Raises InvalidArgumentError with `grpc_route_problems`.
    """
    problems = grpc_route_problems(
        gateway=gateway,
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
        section = gateway.listener_for(host)
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
                    "name": gateway.name,
                    "namespace": gateway.namespace,
                    "sectionName": section,
                }
                for section in sections
            ],
            "hostnames": list(hostnames),
            "rules": _rules(service, matches, routes),
        },
    }
