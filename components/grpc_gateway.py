"""GrpcGateway: a Gateway API `Gateway` with an HTTPS listener per hostname, served by NGINX
Gateway Fabric, and the GRPCRoute builder GrpcIngress uses on its Gateway API path.

NGF provisions one NGINX data plane (Deployment + Service) per Gateway, in the Gateway's
namespace. It copies `spec.infrastructure` labels and annotations onto that data plane's pod
template (checked in NGF v2.6.7, internal/controller/provisioner/objects.go), which is how the
data plane gets meshed (`linkerd.io/inject: enabled`), and labels its pods
`gateway.networking.k8s.io/gateway-name: <gateway>`, which is how policies select them.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from ._validation import ArgsModel, InvalidArgumentError, check_dns_label, check_dns_subdomain
from .certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    TlsSecret,
    check_hostname,
)
from .grpc_service import MESH_INJECT_ANNOTATION, GrpcServiceInfo
from .nginx_gateway_fabric import NginxGatewayFabric
from .peers import PeerRef

__all__ = [
    "REFLECTION_SERVICES",
    "GrpcGateway",
    "GrpcGatewayArgs",
    "GrpcMethodMatch",
    "grpc_route_object",
]

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
# grpcurl discovers services through reflection; a route limited to some methods must still
# pass these or `grpcurl host:443 list` / `describe` stop working.
REFLECTION_SERVICES = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)

# GRPCRoute's CEL rules (not checked by offline JSON schema validation, so checked here).
_GRPC_SERVICE = re.compile(r"^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", re.IGNORECASE)
_GRPC_METHOD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


class GrpcMethodMatch(ArgsModel):
    """One GRPCRoute match: a gRPC service, optionally one method of it (exact match)."""

    service: str
    """Fully qualified gRPC service, e.g. `helloworld.Greeter`."""
    method: str | None = None
    """A method of that service, e.g. `SayHello` (default: every method)."""

    @field_validator("service")
    @classmethod
    def _service(cls, v: str) -> str:
        if not _GRPC_SERVICE.match(v) or len(v) > 1024:
            raise ValueError(
                "a gRPC service name is dot-separated identifiers (letters, digits, '_'), "
                "e.g. 'helloworld.Greeter'. Fix: use the package-qualified service name."
            )
        return v

    @field_validator("method")
    @classmethod
    def _method(cls, v: str | None) -> str | None:
        if v is not None and (not _GRPC_METHOD.match(v) or len(v) > 1024):
            raise ValueError(
                "a gRPC method name is one identifier, e.g. 'SayHello'. Fix: drop the service "
                "prefix and slashes."
            )
        return v


class GrpcGatewayArgs(ArgsModel):
    """Arguments of GrpcGateway."""

    hostnames: tuple[str, ...] = Field(min_length=1)
    """Hostnames clients dial; one HTTPS listener (port 443) each. A wildcard `*.example.com`
    is allowed."""
    namespace: str = "grpc-gateway"
    """Namespace of the Gateway and of the NGINX data plane NGF creates for it (default
    `grpc-gateway`). TLS Secrets must live here."""
    create_namespace: bool = True
    """Create the namespace (default True). False when it exists, e.g. a MeshEnabledNamespace."""
    gateway_name: str | None = None
    """Kubernetes name of the Gateway (default: the component name)."""
    tls_secret_name: str | None = None
    """Bring your own `kubernetes.io/tls` Secret in `namespace` (default None: a certificate
    for the hostnames is issued from a generated CA, whose PEM is the `ca_cert_pem` output)."""
    certificate_validity_hours: int = Field(default=2160, ge=1)
    """Validity of the generated certificate (default 2160 h = 90 days)."""
    certificate_early_renewal_hours: int = Field(default=720, ge=0)
    """Re-issue on the first `pulumi up` this close to expiry (default 720 h = 30 days)."""
    route_namespaces: tuple[str, ...] | Literal["Same", "All"] = "Same"
    """Namespaces whose GRPCRoutes may attach (default `Same`). List the namespaces of the
    services you expose; `All` lets any namespace publish on your hostnames."""
    mesh: bool = False
    """Mesh the NGINX data plane with Linkerd (default False) via the Gateway's
    `spec.infrastructure.annotations`, so its connections to meshed pods are mTLS."""

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for host in v:
            check_hostname(host)
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
    def _renewal(self) -> GrpcGatewayArgs:
        if self.certificate_early_renewal_hours >= self.certificate_validity_hours:
            raise ValueError(
                "certificate_early_renewal_hours must be below certificate_validity_hours. "
                "Fix: lower certificate_early_renewal_hours."
            )
        return self


class GrpcGateway(pulumi.ComponentResource):
    """A Gateway for gRPC over TLS (HTTP/2 via ALPN) on port 443."""

    name: str
    namespace: str
    hostnames: tuple[str, ...]
    peer: PeerRef
    """The NGINX data plane pods NGF runs for this Gateway."""
    tls_secret_name: str
    """The listeners' TLS Secret (in `namespace`)."""
    ca_cert_pem: pulumi.Output[str] | None
    """PEM of the generated CA (None when `tls_secret_name` is given)."""

    def __init__(
        self,
        name: str,
        args: GrpcGatewayArgs,
        *,
        controller: NginxGatewayFabric,
        ca: CertificateAuthority | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`ca`: the CA that issues the listener certificate when `tls_secret_name` is not set
        (default: one is generated, `<name>-ca`)."""
        if ca is not None and not isinstance(ca, CertificateAuthority):
            raise TypeError(
                f"GrpcGateway {name!r}: ca must be a CertificateAuthority, got {type(ca).__name__}."
            )
        if not isinstance(controller, NginxGatewayFabric):
            raise TypeError(
                f"GrpcGateway {name!r}: controller must be a NginxGatewayFabric, got "
                f"{type(controller).__name__}."
            )
        gw_name = args.gateway_name or name
        try:
            check_dns_label(gw_name, what="Gateway name")
        except ValueError as exc:
            raise InvalidArgumentError(
                f"GrpcGateway {name!r}", [f"name: got {gw_name!r}; {exc} Or set gateway_name."]
            ) from None
        super().__init__("grpc-kube:index:GrpcGateway", name, None, opts)
        self.args = args
        self.name = gw_name
        self.namespace = args.namespace
        self.hostnames = args.hostnames
        self.controller = controller
        # NGF names the data plane `<gateway>-<gatewayclass>` (ServiceAccount included).
        self.peer = PeerRef(
            namespace=args.namespace,
            pod_labels={GATEWAY_NAME_LABEL: gw_name},
            service_account=f"{gw_name}-{controller.gateway_class_name}",
            meshed=args.mesh,
        )
        deps: list[pulumi.Resource] = [controller]
        if args.create_namespace:
            deps.append(
                k8s.core.v1.Namespace(
                    f"{name}-namespace",
                    metadata={
                        "name": args.namespace,
                        "labels": {
                            "pod-security.kubernetes.io/enforce": "baseline",
                            "pod-security.kubernetes.io/warn": "restricted",
                            "app.kubernetes.io/managed-by": "grpc-kube",
                        },
                    },
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )

        self.ca_cert_pem = None
        secret_name = args.tls_secret_name
        if secret_name is None:
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
                "name": self.listener_name(host),
                "hostname": host,
                "port": 443,
                "protocol": "HTTPS",
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "group": "", "name": secret_name}],
                },
                "allowedRoutes": {
                    "namespaces": allowed,
                    "kinds": [{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}],
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
            metadata={
                "name": gw_name,
                "namespace": args.namespace,
                "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
            },
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        outputs: dict[str, Any] = {"name": gw_name, "namespace": args.namespace}
        if self.ca_cert_pem is not None:
            outputs["ca_cert_pem"] = self.ca_cert_pem
        self.register_outputs(outputs)

    @staticmethod
    def listener_name(host: str) -> str:
        """Listener name for a hostname: `https-` + the host with dots and `*` made DNS-safe."""
        return ("https-" + host.replace("*.", "wildcard.").replace(".", "-"))[:253].rstrip("-")

    def listener_for(self, host: str) -> str | None:
        """The listener serving `host`: its exact hostname, else a matching `*.` wildcard."""
        if host in self.hostnames:
            return self.listener_name(host)
        # Gateway API wildcards match one or more labels: `*.example.com` serves
        # `a.example.com` and `a.b.example.com`, not `example.com`.
        for listener_host in self.hostnames:
            suffix = listener_host[1:]
            if listener_host.startswith("*.") and host.endswith(suffix) and host != suffix[1:]:
                return self.listener_name(listener_host)
        return None

    def admits_namespace(self, namespace: str) -> bool:
        rn = self.args.route_namespaces
        if rn == "All":
            return True
        if rn == "Same":
            return namespace == self.namespace
        return namespace in rn


def grpc_route_object(
    *,
    name: str,
    service: GrpcServiceInfo,
    gateway: GrpcGateway,
    hostnames: tuple[str, ...],
    matches: tuple[GrpcMethodMatch, ...] = (),
) -> dict[str, Any]:
    """The GRPCRoute that sends `hostnames` (or the listed methods) to `service`.

    The route lives in the service's namespace (backendRefs without a ReferenceGrant), attaches
    to each of the gateway's listeners for those hostnames, and when `matches` restricts the
    methods, keeps server reflection reachable so grpcurl works.
    """
    sections = []
    for host in hostnames:
        section = gateway.listener_for(host)
        if section is None:
            raise ValueError(f"no listener of Gateway {gateway.name!r} serves {host!r}")
        if section not in sections:
            sections.append(section)
    backend = [{"name": service.name, "port": service.port}]
    rules: list[dict[str, Any]]
    if matches:
        method_matches = []
        for m in matches:
            method: dict[str, Any] = {"type": "Exact", "service": m.service}
            if m.method:
                method["method"] = m.method
            method_matches.append({"method": method})
        reflection = [
            {"method": {"type": "Exact", "service": svc}}
            for svc in REFLECTION_SERVICES
            if svc not in {m.service for m in matches}
        ]
        rules = [{"name": "methods", "matches": method_matches, "backendRefs": backend}]
        if reflection:
            rules.append({"name": "reflection", "matches": reflection, "backendRefs": backend})
    else:
        rules = [{"name": "all", "backendRefs": backend}]
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GRPCRoute",
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
        },
        "spec": {
            "parentRefs": [
                {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "name": gateway.name,
                    "namespace": gateway.namespace,
                    "sectionName": section,
                }
                for section in sections
            ],
            "hostnames": list(hostnames),
            "rules": rules,
        },
    }
