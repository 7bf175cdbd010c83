"""The deployment a stack describes: the stack config schema and GrpcPlatform, the component
that builds it.

`__main__.py` runs `GrpcPlatform("grpc-kube", read_config(pulumi.Config()))` and exports its
`stack_outputs`; other programs build a GrpcPlatform from a StackConfig or a plain dict, with
their own `opts`. Everything is validated before any resource registers: unknown keys, wrong
types and impossible combinations fail with the key path (`services[0].replicas`) and the fix,
because a Pulumi program that fails halfway has already created what it registered.

The assembly uses only the public components. Connections are declared once
(`connections: [{client, server}]`) and produce both the NetworkPolicies (ZeroTrustPolicy) and
the Linkerd authorization (MeshAuthorization) for both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from ._inputs import fmt, plain
from ._namespaces import admits_linkerd_init, namespace_metadata, pod_security_level
from ._ordering import Component
from ._validation import (
    ArgsModel,
    FieldError,
    InvalidArgumentError,
    check_dns_label,
    field_validator,
    model_validator,
    validate_model,
)
from .certificates import CertificateAuthority, CertificateAuthorityArgs, renewal_window_problem
from .gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs
from .grpc_gateway import GrpcGateway, GrpcGatewayArgs
from .grpc_ingress import GATEWAY_PATH_REFUSED, GrpcIngress, GrpcIngressArgs
from .grpc_route import GrpcRoute, GrpcRouteArgs
from .grpc_service import GrpcService, GrpcServiceArgs
from .linkerd_control_plane import LinkerdControlPlane, LinkerdControlPlaneArgs
from .mesh_authorization import EdgeAuthorization, EdgeAuthorizationArgs, MeshAuthorization
from .mesh_enabled_namespace import MeshEnabledNamespace, MeshEnabledNamespaceArgs
from .nginx_gateway_fabric import NginxGatewayFabric, NginxGatewayFabricArgs
from .nginx_ingress_controller import NginxIngressController, NginxIngressControllerArgs
from .peers import PeerRef
from .zero_trust_policy import (
    ANYWHERE,
    Allow,
    EdgeWorkload,
    ZeroTrustPolicy,
    ZeroTrustPolicyArgs,
    check_edge_cidrs,
)

__all__ = [
    "CertificatesConfig",
    "ConnectionConfig",
    "EdgeConfig",
    "GatewayConfig",
    "GrpcPlatform",
    "IngressConfig",
    "MeshConfig",
    "NamespaceConfig",
    "PoliciesConfig",
    "RouteConfig",
    "ServiceConfig",
    "StackConfig",
    "load_config",
    "read_config",
]

# In `callers()`, the ingress controller or gateway (not a DNS label, so no service's name).
INGRESS_CALLER = "<ingress>"

# Namespaces a stack must not create, adopt or police.
RESERVED_NAMESPACES = {
    "kube-system": "Kubernetes' own",
    "kube-public": "Kubernetes' own",
    "kube-node-lease": "Kubernetes' own",
    "linkerd": "the Linkerd control plane's, configured by its chart",
    "cert-manager": "cert-manager's",
}


class NamespaceConfig(MeshEnabledNamespaceArgs):
    """One entry of `namespaces`: a namespace the stack creates (or, with `existing`, adopts).
    Every service's namespace must be listed, so its Pod Security level and mesh are explicit."""

    name: str  # required here (optional on MeshEnabledNamespaceArgs)
    """Namespace name."""
    mesh: bool = False
    """Mesh it with Linkerd (default False; needs the `mesh` key). Every service in it is
    then injected, and its connections get mesh authorization."""

    @model_validator(mode="after")
    def _plain(self) -> NamespaceConfig:
        mesh_only = sorted({"default_inbound_policy", "linkerd_cni"} & self.model_fields_set)
        if not self.mesh and mesh_only:
            raise ValueError(
                f"{mesh_only[0]} applies to meshed namespaces only. Fix: set mesh: true, or "
                "remove it."
            )
        return self


class MeshConfig(LinkerdControlPlaneArgs):
    """`mesh`: install Linkerd (omit the key for no mesh)."""

    authorization: bool = True
    """For each service in a meshed namespace with declared callers (`connections`, ingress
    routes), admit only those callers' mesh identities on its gRPC port (MeshAuthorization).
    Default True. Such services need a `health_port` so kubelet probes stay authorized."""


class CertificatesConfig(ArgsModel):
    """`certificates`: the stack's CA, which issues edge (ingress/gateway) certificates and the
    certificates of GRPCS backends. Its PEM is the `ca_cert_pem` stack output."""

    ca_common_name: str | None = None
    """Subject CN of the CA (default `grpc-kube <stack> CA`)."""
    ca_validity_hours: int = Field(default=87600, ge=1)
    """CA validity (default 87600 h = 10 years)."""
    ca_early_renewal_hours: int = Field(default=8760, ge=0)
    """Re-create the CA this close to expiry (default 8760 h = 1 year)."""

    @model_validator(mode="after")
    def _renewal(self) -> CertificatesConfig:
        problem = renewal_window_problem(
            self.ca_early_renewal_hours,
            self.ca_validity_hours,
            early_field="ca_early_renewal_hours",
            validity_field="ca_validity_hours",
        )
        if problem:
            raise FieldError("ca_early_renewal_hours", self.ca_early_renewal_hours, problem)
        return self


class ServiceConfig(GrpcServiceArgs):
    """One entry of `services`: a GrpcService's arguments plus its `name`. Stack config values
    are plain, so the fields the assembly reads are declared plain here."""

    name: str
    """Component name, and the Kubernetes name of the Service unless `service_name` is set."""
    namespace: str
    """Namespace to deploy into; it must be listed in `namespaces`."""
    service_name: str | None = None
    """Kubernetes name of the Service, Deployment and ServiceAccount (default: `name`)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, what="service name")


class RouteConfig(GrpcIngressArgs):
    """One entry of `ingress.routes`: a GrpcIngress (an Ingress, or a GRPCRoute on the gateway
    path) with the services it fronts, by name."""

    name: str
    """Component name, and the Ingress / GRPCRoute name unless `ingress_name` is set."""
    service: str | None = None
    """The service (a `services[].name`) behind every call not matched by `routes`."""
    routes: dict[str, str] = {}
    """Fully qualified gRPC service name -> a `services[].name`, e.g.
    `{helloworld.Greeter: greeter}` (default none)."""

    @model_validator(mode="after")
    def _backend(self) -> RouteConfig:
        if self.service is None and not self.routes:
            raise ValueError("a route needs a backend. Fix: set service, or routes.")
        return self


class GatewayConfig(GrpcGatewayArgs):
    """`ingress.gateway` on the gateway-api path. `hostnames` and `route_namespaces` default to
    what the routes need."""

    hostnames: tuple[str, ...] = ()
    """Listener hostnames (default: every route's host)."""
    route_namespaces: tuple[str, ...] | Literal["Same", "All"] = ()
    """Namespaces whose routes may attach (default: the namespaces of the routed services)."""

    @field_validator("route_namespaces")
    @classmethod
    def _route_ns(cls, v: tuple[str, ...] | str) -> tuple[str, ...] | str:
        for ns in v if isinstance(v, tuple) else ():
            check_dns_label(ns, what="namespace", must_start_with_letter=False)
        return v

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return GrpcGatewayArgs._hosts(v) if v else v


class IngressConfig(ArgsModel):
    """`ingress`: how clients outside the cluster reach the services."""

    via: Literal["ingress-nginx", "gateway-api"] = "ingress-nginx"
    """`ingress-nginx` (retired upstream in March 2026, kept for existing clusters) or
    `gateway-api` (NGINX Gateway Fabric + GRPCRoute). Default ingress-nginx, the path most
    existing clusters run; new stacks should prefer gateway-api."""
    controller: NginxIngressControllerArgs = NginxIngressControllerArgs()
    """The ingress-nginx controller (via: ingress-nginx)."""
    gateway_controller: NginxGatewayFabricArgs = NginxGatewayFabricArgs()
    """NGINX Gateway Fabric (via: gateway-api)."""
    gateway: GatewayConfig = GatewayConfig()
    """The Gateway (via: gateway-api)."""
    routes: list[RouteConfig] = Field(min_length=1)
    """The published routes (at least one)."""

    @model_validator(mode="after")
    def _path_options(self) -> IngressConfig:
        unused = "gateway_controller" if self.via == "ingress-nginx" else "controller"
        extra = {"gateway"} if self.via == "ingress-nginx" else set()
        stray = sorted(({unused} | extra) & self.model_fields_set)
        if stray:
            raise ValueError(
                f"{stray[0]} is set but unused with via: {self.via}. Fix: remove it, or change via."
            )
        return self


class ConnectionConfig(ArgsModel):
    """One entry of `connections`: `client` may call `server` on its gRPC port."""

    client: str
    """A `services[].name`."""
    server: str
    """A `services[].name`."""


class EdgeConfig(ArgsModel):
    """`policies.edge`: the edge namespaces (the ingress-nginx controller's; the Gateway's data
    plane and the NGINX Gateway Fabric control plane's) and who may reach the edge. The
    networks also feed the Linkerd authorization of a meshed edge (EdgeAuthorization), so the
    network and the proxy admit the same sources."""

    isolate: bool = True
    """Default-deny NetworkPolicies in each edge namespace the stack creates or uses, with
    only the edge's own traffic allowed: entry ports from `client_cidrs`, the admission
    webhook from `webhook_client_cidrs`, the Kubernetes API, the declared backends, DNS, the
    Linkerd control plane when meshed, metrics from `policies.metrics_from_namespaces`
    (default True; needs `policies.zero_trust`). False leaves the edge namespaces open, e.g.
    when a platform team polices a controller it runs."""
    client_cidrs: list[str] = list(ANYWHERE)
    """Sources allowed on the entry ports (default everywhere: `0.0.0.0/0`, `::/0`). With a
    LoadBalancer Service whose `externalTrafficPolicy` is `Cluster`, connections arrive from
    node addresses: include the node CIDRs when you narrow it."""
    webhook_client_cidrs: list[str] = list(ANYWHERE)
    """Sources allowed on ingress-nginx's admission webhook (8443, `failurePolicy: Fail`): the
    API server as the controller pods see it (default everywhere, since it differs by
    cluster)."""
    kubernetes_api_cidrs: list[str] = ["0.0.0.0/0"]
    """Where the controllers reach the Kubernetes API (default `0.0.0.0/0`); the addresses of
    `kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`."""
    kubernetes_api_ports: list[int] = [443, 6443]
    """Ports of the API server's endpoints (default 443 and 6443). NetworkPolicies see the
    endpoint after the `kubernetes` Service (443) is translated, so these are the ports the API
    server listens on: 443 on many managed clusters, 6443 on kubeadm, kind, k3s and most
    self-managed ones. Keep only yours to narrow it."""

    @field_validator("client_cidrs", "webhook_client_cidrs", "kubernetes_api_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return check_edge_cidrs(v, title="EdgeConfig")

    @field_validator("kubernetes_api_ports", mode="before")
    @classmethod
    def _numbers(cls, v: Any) -> Any:
        # YAML `"6443"` is a string; pydantic would quietly make it a number.
        quoted = [p for p in v if isinstance(p, str)] if isinstance(v, list) else []
        if quoted:
            raise ValueError(
                f"ports must be numbers, got the string(s) {quoted}. Fix: write them without "
                "quotes, e.g. [443, 6443]."
            )
        return v

    @field_validator("kubernetes_api_ports")
    @classmethod
    def _ports(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError(
                "no port would leave the controllers without the Kubernetes API. Fix: give the "
                "API server's endpoint ports, e.g. [443] or [6443], or keep the default."
            )
        bad = [p for p in v if not 1 <= p <= 65535]
        if bad:
            raise ValueError(
                f"{bad} not between 1 and 65535. Fix: give the API server's endpoint ports, "
                "e.g. [443] or [6443]."
            )
        return v


class PoliciesConfig(ArgsModel):
    """`policies`: network-level zero trust: a ZeroTrustPolicy in every namespace of
    `namespaces` that holds services, and in each edge namespace (`edge`)."""

    zero_trust: bool = True
    """Default-deny NetworkPolicies plus the allows `connections` and the ingress routes need
    (default True)."""
    dns: bool = True
    """Allow DNS to kube-dns (default True)."""
    metrics_from_namespaces: tuple[str, ...] = ()
    """Namespaces (e.g. a Prometheus one) allowed to scrape meshed pods' proxy metrics and the
    NGINX Gateway Fabric metrics ports (default none)."""
    edge: EdgeConfig = EdgeConfig()
    """The edge namespaces' isolation and who may reach the edge (default: isolated, entry
    and webhook ports open to everywhere, the API on 0.0.0.0/0 port 443)."""

    @field_validator("metrics_from_namespaces")
    @classmethod
    def _metrics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for ns in v:
            check_dns_label(ns, what="namespace", must_start_with_letter=False)
        if len(set(v)) != len(v):
            raise ValueError("a namespace repeats. Fix: list each once.")
        return v


class StackConfig(ArgsModel):
    """The whole stack configuration (keys under the `grpc-kube:` namespace)."""

    namespaces: list[NamespaceConfig] = []
    """Namespaces to create; every service's namespace must be listed."""
    services: list[ServiceConfig] = []
    """The gRPC services to deploy (default none)."""
    mesh: MeshConfig | None = None
    """Install Linkerd (default: no mesh)."""
    certificates: CertificatesConfig = CertificatesConfig()
    """The stack's CA (used when a route or GRPCS backend needs a generated certificate)."""
    ingress: IngressConfig | None = None
    """Publish services outside the cluster (default: not published)."""
    connections: list[ConnectionConfig] = []
    """Which service may call which (drives NetworkPolicies and mesh authorization)."""
    policies: PoliciesConfig = PoliciesConfig()
    """NetworkPolicies."""
    gateway_api_crds: GatewayApiCrdsArgs = GatewayApiCrdsArgs()
    """The Gateway API CRDs, installed once for Linkerd and the gateway when the stack installs
    Linkerd or takes the gateway-api path (default: the pinned upstream release; `existing:
    true` when the cluster already has them, `manifest` for a mirror)."""

    def problems(self) -> list[str]:
        """Cross-key problems, each `path: what is wrong. Fix: ...`."""
        out: list[str] = []
        ns_names = [n.name for n in self.namespaces]
        svc_names = [s.name for s in self.services]
        for kind, names in (("namespaces", ns_names), ("services", svc_names)):
            seen: set[str] = set()
            for i, n in enumerate(names):
                if n in seen:
                    out.append(f"{kind}[{i}].name: {n!r} appears twice. Fix: rename one.")
                seen.add(n)
        meshed = {n.name for n in self.namespaces if n.mesh}
        cni = self.mesh is not None and self.mesh.cni_enabled
        for i, ns in enumerate(self.namespaces):
            if ns.mesh and self.mesh is None:
                out.append(
                    f"namespaces[{i}].mesh: true, but there is no `mesh` key, so no Linkerd "
                    "injector would exist. Fix: add `mesh: {}` (installs Linkerd), or mesh: false."
                )
            if ns.name in RESERVED_NAMESPACES:
                out.append(
                    f"namespaces[{i}].name: {ns.name!r} is a system namespace "
                    f"({RESERVED_NAMESPACES[ns.name]}). Fix: deploy into a namespace of your own."
                )
            uses_cni = ns.linkerd_cni if ns.linkerd_cni is not None else cni
            refused = ns.pod_security is not None and not admits_linkerd_init(ns.pod_security)
            if ns.mesh and refused and not uses_cni:
                out.append(
                    f"namespaces[{i}].pod_security: {ns.pod_security!r} refuses linkerd-init "
                    "(NET_ADMIN, NET_RAW) without the Linkerd CNI plugin, so no meshed pod could "
                    "start. Fix: leave pod_security unset, or set mesh.cni_enabled: true."
                )
        k8s_names: dict[tuple[str, str], int] = {}
        for i, svc in enumerate(self.services):
            if svc.namespace not in ns_names:
                out.append(
                    f"services[{i}].namespace: {svc.namespace!r} is not in `namespaces`. Fix: add "
                    f"`- name: {svc.namespace}` to namespaces."
                )
            if svc.mesh and self.mesh is None:
                out.append(
                    f"services[{i}].mesh: true, but there is no `mesh` key, so no Linkerd "
                    "injector would exist. Fix: add `mesh: {}`, or remove mesh."
                )
            key = (svc.namespace, svc.service_name or svc.name)
            if key in k8s_names:
                out.append(
                    f"services[{i}]: Kubernetes name {key[1]!r} in namespace {key[0]!r} is also "
                    f"services[{k8s_names[key]}]'s; the two would overwrite each other. Fix: "
                    "change name or service_name."
                )
            k8s_names.setdefault(key, i)
        if self.policies.metrics_from_namespaces and not meshed:
            out.append(
                "policies.metrics_from_namespaces: set, but no namespace is meshed, so there is no "
                "proxy metrics port to open. Fix: remove it, or mesh a namespace."
            )
        by_name = {s.name: s for s in self.services}
        for i, conn in enumerate(self.connections):
            for side in ("client", "server"):
                ref = getattr(conn, side)
                if ref not in svc_names:
                    out.append(
                        f"connections[{i}].{side}: {ref!r} is not a service. Fix: use one of "
                        f"{svc_names}."
                    )
            client, server = by_name.get(conn.client), by_name.get(conn.server)
            authz = self.mesh is not None and self.mesh.authorization
            if (
                authz
                and client is not None
                and server is not None
                and server.namespace in meshed
                and not (client.namespace in meshed or client.mesh)
            ):
                out.append(
                    f"connections[{i}].client: {conn.client!r} is not meshed, but "
                    f"{conn.server!r} admits only mesh identities (mesh.authorization), so every "
                    f"call would be refused. Fix: mesh {conn.client!r}'s namespace (or set its "
                    "mesh: true), or mesh.authorization: false."
                )
            if conn.client == conn.server:
                out.append(
                    f"connections[{i}]: a service calling itself needs no rule. Fix: remove it."
                )
        callers = self.callers()
        if self.mesh is not None and self.mesh.authorization:
            for i, svc in enumerate(self.services):
                guarded = svc.namespace in meshed and callers.get(svc.name)
                if guarded and svc.probes.enabled and svc.health_port is None:
                    out.append(
                        f"services[{i}].health_port: unset, but {svc.name!r} gets mesh "
                        "authorization (it has callers in a meshed namespace) and kubelet gRPC "
                        "probes are not mesh identities. Fix: set health_port (e.g. 8086) and "
                        "serve grpc.health.v1 there, or mesh.authorization: false."
                    )
        if self.ingress is not None:
            ing = self.ingress
            controller_meshed = (
                ing.controller.mesh if ing.via == "ingress-nginx" else ing.gateway.mesh
            )
            for r, route in enumerate(ing.routes):
                if ing.via == "gateway-api":
                    # The same refusals GrpcIngress makes, here with key paths and before
                    # anything registers.
                    for fld in sorted(set(GATEWAY_PATH_REFUSED) & route.model_fields_set):
                        out.append(
                            f"ingress.routes[{r}].{fld}: applies to via: ingress-nginx only; "
                            f"{GATEWAY_PATH_REFUSED[fld]}"
                        )
                    if route.routes:
                        out.append(
                            f"ingress.routes[{r}].routes: routing a whole gRPC service needs a "
                            "method-less GRPCRoute match, which NGINX Gateway Fabric 2.6.7 "
                            "drops. Fix: one route per host with service:, or via: ingress-nginx."
                        )
                    tls_svcs = [
                        ref
                        for ref in ([route.service] if route.service else [])
                        if ref in by_name and by_name[ref].tls is not None
                    ]
                    if tls_svcs:
                        out.append(
                            f"ingress.routes[{r}].service: {tls_svcs[0]!r} serves TLS, but the "
                            "gateway-api path sends h2c. Fix: remove the service's tls and mesh "
                            "the gateway and the service for mTLS, or via: ingress-nginx."
                        )
                targets = ([route.service] if route.service else []) + list(route.routes.values())
                for ref in targets:
                    if ref not in by_name:
                        out.append(
                            f"ingress.routes[{r}]: service {ref!r} is not in services. Fix: use "
                            f"one of {svc_names}."
                        )
                        continue
                    svc = by_name[ref]
                    authz = self.mesh is not None and self.mesh.authorization
                    if authz and svc.namespace in meshed and not controller_meshed:
                        where = "controller.mesh" if ing.via == "ingress-nginx" else "gateway.mesh"
                        out.append(
                            f"ingress.{where}: false, but route {route.name!r} fronts {ref!r}, "
                            "whose meshed namespace admits only mesh identities. Fix: set "
                            f"ingress.{where}: true."
                        )
        return out

    def callers(self) -> dict[str, list[str]]:
        """Service name -> the services that call it, from `connections`."""
        out: dict[str, list[str]] = {}
        for conn in self.connections:
            out.setdefault(conn.server, []).append(conn.client)
        if self.ingress is not None:
            for route in self.ingress.routes:
                for ref in ([route.service] if route.service else []) + list(route.routes.values()):
                    out.setdefault(ref, [])
                    if INGRESS_CALLER not in out[ref]:
                        out[ref].append(INGRESS_CALLER)
        return out


def _needs_ca(cfg: StackConfig) -> bool:
    ing = cfg.ingress
    if ing is None:
        return False
    if ing.via == "gateway-api":
        return ing.gateway.tls_secret_name is None
    return any(not r.tls.existing or r.backend_protocol == "GRPCS" for r in ing.routes)


def _selector(labels: pulumi.Input[dict[str, pulumi.Input[str]]]) -> str:
    """`k=v,...` for `kubectl -l`; the assembly's labels are plain (they come from config)."""
    return ",".join(f"{k}={plain(v)}" for k, v in sorted(plain(labels).items()))


class GrpcPlatform(Component):
    """Everything a stack config describes, as one component: Linkerd, namespaces, services,
    the entry point (ingress-nginx or the Gateway API), certificates, mesh authorization and
    NetworkPolicies.

    Like any component it takes `opts`: a Kubernetes provider (`providers=[...]`) reaches every
    child, Helm releases included, so two platforms can go to two clusters from one program;
    `parent=` puts it under a component of yours. It exports nothing itself: `stack_outputs`
    holds what a program usually exports (see `__main__.py`)."""

    config: StackConfig
    """The validated configuration."""
    namespaces: dict[str, pulumi.Resource]
    """Namespaces created (or adopted and meshed), by name."""
    services: dict[str, GrpcService]
    """The GrpcServices, by `services[].name`."""
    routes: dict[str, GrpcIngress | GrpcRoute]
    """The published routes, by `ingress.routes[].name`."""
    control_plane: LinkerdControlPlane | None
    """Linkerd, when `mesh` is set."""
    ca: CertificateAuthority | None
    """The stack's CA, when a route or a GRPCS backend needs generated certificates."""
    ingress_controller: NginxIngressController | None
    """ingress-nginx, on that path."""
    gateway_controller: NginxGatewayFabric | None
    """NGINX Gateway Fabric, on the gateway-api path."""
    gateway: GrpcGateway | None
    """The Gateway, on the gateway-api path."""
    authorizations: dict[str, MeshAuthorization]
    """Linkerd authorization, by server service name."""
    edge_authorizations: dict[str, EdgeAuthorization]
    """Linkerd authorization of the meshed edge (controller or gateway data plane), by
    workload name."""
    policies: dict[str, ZeroTrustPolicy]
    """NetworkPolicies, by namespace."""
    stack_outputs: dict[str, Any]
    """What a program exports for this platform: services, endpoints, grpcurl_commands,
    ca_cert_pem, linkerd_trust_anchor_pem, linkerd_issuer_expiry, troubleshooting."""

    def __init__(
        self,
        name: str,
        args: StackConfig | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        config = load_config(args)
        super().__init__("GrpcPlatform", name, opts)
        self.config = config
        self.namespaces = {}
        self.services = {}
        self.routes = {}
        self.control_plane = None
        self.ca = None
        self.ingress_controller = None
        self.gateway_controller = None
        self.gateway = None
        self.authorizations = {}
        self.edge_authorizations = {}
        self.policies = {}
        self._prefix = name
        self._build()
        self.stack_outputs = self._outputs()
        self.register_outputs(self.stack_outputs)

    def _child_opts(
        self, depends_on: list[pulumi.Resource] | None = None
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on or None)

    def _child_name(self, child: str) -> str:
        """Children are named `<platform>-<child>`, so two platforms fit in one program."""
        return f"{self._prefix}-{child}"

    def _build(self) -> None:
        config = self.config
        meshed_ns = {n.name for n in config.namespaces if n.mesh}
        via = config.ingress.via if config.ingress else None

        crds = None
        installs_linkerd = config.mesh is not None and not config.mesh.install.existing
        if installs_linkerd or via == "gateway-api":
            # One owner for the Gateway API CRDs: Linkerd and the gateway both read them. An
            # existing Linkerd read them when it started: the stack has nothing to add for it.
            crds = GatewayApiCrds(
                self._child_name("gateway-api"), config.gateway_api_crds, opts=self._child_opts()
            )
        if config.mesh is not None:
            cp_args = LinkerdControlPlaneArgs(
                **config.mesh.model_dump(exclude={"authorization"}, exclude_unset=True)
            )
            self.control_plane = LinkerdControlPlane(
                self._child_name("linkerd"), cp_args, gateway_api_crds=crds, opts=self._child_opts()
            )

        for ns in config.namespaces:
            if ns.mesh:
                ns_args = MeshEnabledNamespaceArgs(
                    **ns.model_dump(exclude={"mesh"}, exclude_unset=True)
                )
                self.namespaces[ns.name] = MeshEnabledNamespace(
                    self._child_name(ns.name),
                    ns_args,
                    control_plane=self.control_plane,
                    opts=self._child_opts(),
                )
            elif not ns.existing:
                level = pod_security_level(ns.pod_security, mesh=False, linkerd_cni=False)
                self.namespaces[ns.name] = k8s.core.v1.Namespace(
                    self._child_name(f"{ns.name}-namespace"),
                    metadata=namespace_metadata(ns.name, enforce=level, labels=ns.labels),
                    opts=self._child_opts(),
                )

        for svc in config.services:
            updates: dict[str, Any] = {"mesh": True} if svc.namespace in meshed_ns else {}
            # Kubernetes names stay the configured ones (clients dial them); only the Pulumi
            # names carry the platform's prefix.
            updates["service_name"] = svc.service_name or svc.name
            args = GrpcServiceArgs(
                **{**svc.model_dump(exclude={"name"}, exclude_unset=True), **updates}
            )
            self.services[svc.name] = GrpcService(
                self._child_name(svc.name),
                args,
                opts=self._child_opts(self._namespace_wait(svc.namespace)),
            )

        if _needs_ca(config):
            c = config.certificates
            self.ca = CertificateAuthority(
                self._child_name("stack-ca"),
                CertificateAuthorityArgs(
                    common_name=c.ca_common_name or f"grpc-kube {pulumi.get_stack()} CA",
                    validity_hours=c.ca_validity_hours,
                    early_renewal_hours=c.ca_early_renewal_hours,
                ),
                opts=self._child_opts(),
            )

        if config.ingress is not None:
            self._build_ingress(config.ingress, crds)
        if config.mesh is not None and config.mesh.authorization:
            self._build_authorizations()
        if config.policies.zero_trust:
            self._build_policies()

    def _namespace_wait(self, namespace: str) -> list[pulumi.Resource]:
        ns = self.namespaces.get(namespace)
        return [ns] if ns is not None else []

    def _build_ingress(self, ing: IngressConfig, crds: GatewayApiCrds | None) -> None:
        out = self
        # A meshed entry point must start after the Linkerd injector exists (the webhook fails
        # open: its pods would run unmeshed and service-upstream would pin connections again).
        mesh_wait: list[pulumi.Resource] = [out.control_plane] if out.control_plane else []
        if ing.via == "ingress-nginx":
            out.ingress_controller = NginxIngressController(
                self._child_name("ingress-nginx"),
                ing.controller,
                opts=self._child_opts(mesh_wait if ing.controller.mesh else None),
            )
            ns_resource = out.ingress_controller.namespace_resource
            self._build_edge_authorization(
                out.ingress_controller.edge_workloads[0],
                namespace=ing.controller.namespace,
                wait=[ns_resource] if ns_resource is not None else [],
            )
        else:
            assert crds is not None
            out.gateway_controller = NginxGatewayFabric(
                self._child_name("gateway-controller"),
                ing.gateway_controller,
                gateway_api_crds=crds,
                opts=self._child_opts(),
            )
            hosts = ing.gateway.hostnames or tuple(dict.fromkeys(plain(r.host) for r in ing.routes))
            route_ns = ing.gateway.route_namespaces or tuple(
                dict.fromkeys(
                    plain(out.services[ref].ref.namespace)
                    for r in ing.routes
                    for ref in ([r.service] if r.service else []) + list(r.routes.values())
                )
            )
            gw_args = GrpcGatewayArgs(
                **{
                    **ing.gateway.model_dump(exclude_unset=True),
                    "hostnames": hosts,
                    "route_namespaces": route_ns,
                    "gateway_name": ing.gateway.gateway_name or "grpc-gateway",
                }
            )
            gw_wait = (
                [out.namespaces[gw_args.namespace]] if gw_args.namespace in out.namespaces else []
            )
            # The Gateway is an object of the CRDs: an installed controller's release waits for
            # them, an existing one installs nothing that would.
            gw_wait.append(crds)
            out.gateway = GrpcGateway(
                self._child_name("grpc-gateway"),
                gw_args,
                controller=out.gateway_controller,
                ca=out.ca,
                opts=self._child_opts(gw_wait + (mesh_wait if gw_args.mesh else [])),
            )
            # NGF starts the data plane once the Gateway exists; its Servers need the namespace
            # only (the stack's, or the one GrpcGateway creates).
            gw_ns = out.namespaces.get(plain(gw_args.namespace))
            self._build_edge_authorization(
                out.gateway.edge_workload,
                namespace=gw_args.namespace,
                wait=[gw_ns] if gw_ns is not None else [out.gateway],
            )
        # The controller's admission webhook (failurePolicy Fail) validates every Ingress: under
        # a strict inbound policy it answers the API server only once its Server exists.
        edge_wait: list[pulumi.Resource] = (
            list(out.edge_authorizations.values()) if ing.via == "ingress-nginx" else []
        )
        for route in ing.routes:
            # Its Ingress/GRPCRoute and TLS Secrets live in the services' namespace.
            opts = self._child_opts(self._namespace_of(route) + edge_wait)
            if ing.via == "ingress-nginx":
                assert out.ingress_controller is not None
                out.routes[route.name] = GrpcIngress(
                    self._child_name(route.name),
                    GrpcIngressArgs(
                        **route.model_dump(
                            exclude={"name", "service", "routes"}, exclude_unset=True
                        ),
                        ingress_name=route.ingress_name or route.name,
                    ),
                    service=out.services[route.service] if route.service else None,
                    routes={k: out.services[v] for k, v in route.routes.items()} or None,
                    controller=out.ingress_controller,
                    ca=out.ca,
                    opts=opts,
                )
            else:  # problems() refused the ingress-nginx-only options and `routes` already
                assert out.gateway is not None and route.service is not None
                out.routes[route.name] = GrpcRoute(
                    self._child_name(route.name),
                    GrpcRouteArgs(
                        **route.model_dump(
                            include={"host", "max_message_bytes", "grpcurl_method", "labels"},
                            exclude_unset=True,
                        ),
                        route_name=route.ingress_name or route.name,
                    ),
                    service=out.services[route.service],
                    gateway=out.gateway,
                    opts=opts,
                )

    def _build_edge_authorization(
        self, workload: EdgeWorkload, *, namespace: Any, wait: list[pulumi.Resource]
    ) -> None:
        """A meshed edge gets Linkerd Servers on its entry and webhook ports admitting the
        configured networks, so a strict default inbound policy does not cut it off from the
        load balancer and the API server; nothing behind it is loosened."""
        if not workload.meshed or self.config.mesh is None:
            return
        edge = self.config.policies.edge
        self.edge_authorizations[workload.name] = EdgeAuthorization(
            self._child_name(f"{workload.name}-edge-authz"),
            EdgeAuthorizationArgs(
                client_networks=edge.client_cidrs,
                webhook_client_networks=edge.webhook_client_cidrs,
            ),
            namespace=namespace,
            workload=workload,
            control_plane=self.control_plane,
            opts=self._child_opts(wait),
        )

    def _namespace_of(self, route: RouteConfig) -> list[pulumi.Resource]:
        out = self
        ref = route.service or next(iter(route.routes.values()))
        ns = out.services[ref].ref.namespace
        return [out.namespaces[ns]] if ns in out.namespaces else []

    def _entry_peer(self) -> PeerRef | None:
        out = self
        if out.ingress_controller is not None:
            return out.ingress_controller.peer
        if out.gateway is not None:
            return out.gateway.peer
        return None

    def _build_authorizations(self) -> None:
        config, out = self.config, self
        meshed_ns = {n.name for n in config.namespaces if n.mesh}
        entry = self._entry_peer()
        for server, callers in config.callers().items():
            svc = out.services[server]
            if svc.ref.namespace not in meshed_ns or not callers:
                continue
            allow: list[GrpcService | PeerRef] = [
                out.services[c] for c in callers if c != INGRESS_CALLER
            ]
            if INGRESS_CALLER in callers and entry is not None:
                allow.append(entry)
            out.authorizations[server] = MeshAuthorization(
                self._child_name(f"{server}-authz"),
                server=svc,
                allow=allow,
                control_plane=out.control_plane,
                opts=self._child_opts([out.namespaces[svc.ref.namespace]]),
            )

    def _edge_namespaces(self) -> dict[str, tuple[list[EdgeWorkload], list[pulumi.Resource]]]:
        """Namespace -> (its edge workloads, what its policies wait for), for the edge namespaces
        this stack creates or uses."""
        out: dict[str, tuple[list[EdgeWorkload], list[pulumi.Resource]]] = {}

        def add(ns: Any, workloads: Sequence[EdgeWorkload], wait: pulumi.Resource) -> None:
            entry = out.setdefault(plain(ns), ([], []))
            entry[0].extend(workloads)
            entry[1].append(wait)

        # Each installer's namespace is its own child: the policies wait for the component, so
        # a first install runs before the namespace is locked down.
        if self.ingress_controller is not None:
            ctrl = self.ingress_controller
            add(ctrl.args.namespace, ctrl.edge_workloads, ctrl)
        if self.gateway is not None and self.gateway_controller is not None:
            gw, ngf = self.gateway, self.gateway_controller
            add(ngf.args.namespace, ngf.edge_workloads(data_planes=[gw.peer]), ngf)
            add(gw.args.namespace, [gw.edge_workload], gw)
        return out

    def _build_policies(self) -> None:
        config, out = self.config, self
        connections = [
            Allow(out.services[c.client], out.services[c.server]) for c in config.connections
        ]
        edges = self._edge_namespaces() if config.policies.edge.isolate else {}
        service_ns = [
            ns.name
            for ns in config.namespaces
            if any(s.ref.namespace == ns.name for s in out.services.values())
        ]
        for name in dict.fromkeys([*service_ns, *edges]):
            local = [
                a
                for a in connections
                if name in (a.client.ref.namespace, a.server.ref.namespace)  # type: ignore[union-attr]
            ]
            # Routes whose backends are here (their ingress), or whose controller is (its egress).
            ingresses = [
                r
                for r in out.routes.values()
                if name in (r.backends[0].namespace, r.controller_peer.namespace)
            ]
            ns_obj = out.namespaces.get(name)
            mesh: bool | MeshEnabledNamespace = (
                ns_obj if isinstance(ns_obj, MeshEnabledNamespace) else False
            )
            edge_workloads, edge_wait = edges.get(name, ([], []))
            deps = ([ns_obj] if ns_obj is not None else []) + edge_wait
            edge = config.policies.edge
            metrics = config.policies.metrics_from_namespaces
            if name not in service_ns and not (
                mesh or any(w.meshed or w.metrics_ports for w in edge_workloads)
            ):
                # An edge namespace with no proxy and no metrics port has nothing to scrape.
                metrics = ()
            out.policies[name] = ZeroTrustPolicy(
                self._child_name(f"{name}-zero-trust"),
                ZeroTrustPolicyArgs(
                    name_prefix=f"{name}-zero-trust",
                    namespace=name,
                    dns=config.policies.dns,
                    metrics_from_namespaces=metrics,
                    edge=tuple(edge_workloads),
                    edge_client_cidrs=edge.client_cidrs,
                    webhook_client_cidrs=edge.webhook_client_cidrs,
                    kubernetes_api_cidrs=edge.kubernetes_api_cidrs,
                    kubernetes_api_ports=edge.kubernetes_api_ports,
                ),
                connections=local,
                ingresses=ingresses,
                mesh=mesh,
                opts=self._child_opts(deps),
            )

    def _outputs(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "services": {
                name: {
                    "dns_name": s.ref.dns_name,
                    "port": s.ref.port,
                    **({"client_target": s.ref.client_target} if s.ref.headless else {}),
                }
                for name, s in self.services.items()
            }
        }
        if self.routes:
            out["endpoints"] = {
                n: r.host.apply(lambda h: f"{h}:443") for n, r in self.routes.items()
            }
            out["grpcurl_commands"] = {n: r.grpcurl_command for n, r in self.routes.items()}
        if self.ca is not None:
            out["ca_cert_pem"] = self.ca.cert_pem
        cp = self.control_plane
        if cp is not None and cp.trust_anchor_pem is not None:
            out["linkerd_trust_anchor_pem"] = cp.trust_anchor_pem
            if cp.issuer_expiry is not None:
                out["linkerd_issuer_expiry"] = cp.issuer_expiry
        out["troubleshooting"] = self.troubleshooting()
        return out

    def troubleshooting(self) -> list[Any]:
        """What to check when calls fail or do not spread, as commands for this stack: each
        entry is a `# why` line followed by the command (an Output where the command holds one,
        e.g. the route's host)."""
        steps: list[Any] = []
        for name, svc in self.services.items():
            r = svc.ref
            steps.append(
                f"# {name}: backend logs\n"
                f"kubectl -n {r.namespace} logs -l {_selector(r.pod_labels)} "
                "--all-containers --tail=100"
            )
        entry = self._entry_peer()
        if entry is not None:
            what = "ingress controller" if self.ingress_controller is not None else "gateway"
            steps.append(
                f"# {what} logs (raise verbosity with the controller's log level if they are quiet)"
                f"\nkubectl -n {entry.namespace} logs -l {_selector(entry.pod_labels)} --tail=200"
            )
        for name, route in self.routes.items():
            heading = f"# {name}: call through the entry point (needs server reflection)"
            steps.append(fmt("{}\n{}", heading, route.grpcurl_command))
            for b in route.backends:
                steps.append(
                    f"# {name} -> {b.name}: Service port and route backend port must match "
                    f"({b.port})\nkubectl -n {b.namespace} get service {b.name} "
                    "-o jsonpath='{.spec.ports[0].port}'"
                )
            for first in route.backends[:1]:
                svc_cfg = next(
                    s for s in self.config.services if (s.service_name or s.name) == first.name
                )
                replicas = (
                    svc_cfg.autoscaling.min_replicas if svc_cfg.autoscaling else svc_cfg.replicas
                )
                cacert = " --tls --cacert ca.crt" if self.ca is not None else " --tls"
                steps.append(
                    f"# {name}: do calls spread over the pods? "
                    "(pulumi stack output ca_cert_pem > ca.crt)\n"
                    f"grpc-lb-check {route.args.host}:443{cacert} --authority {route.args.host} "
                    f"--expect-backends {replicas}"
                )
        for name, svc in list(self.services.items())[:1]:
            r = svc.ref
            steps.append(
                f"# Go servers: every HTTP/2 frame in the logs (set http2_debug: true on "
                f"{name} and run pulumi up first; it sets GODEBUG=http2debug=2)\n"
                f"kubectl -n {r.namespace} logs -l {_selector(r.pod_labels)} --tail=200 "
                "| grep http2"
            )
        if self.control_plane is not None:
            steps.append(
                "# mesh health and per-request stats\nlinkerd check && linkerd viz stat deploy -A"
            )
        return steps


def read_config(cfg: pulumi.Config) -> dict[str, Any]:
    """Every key of this project's config namespace, structured values decoded.

    Reads all keys, not only the known ones, so a misspelled top-level key is reported instead of
    silently ignored.
    """
    from pulumi.runtime import config as runtime_config

    prefix = f"{cfg.name}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for full_key in sorted(keys):
        if full_key.startswith(prefix):
            key = full_key[len(prefix) :]
            try:
                raw[key] = cfg.get_object(key)
            except pulumi.ConfigTypeError:  # a plain string that is not JSON
                raw[key] = cfg.get(key)
    return raw


def load_config(raw: StackConfig | Mapping[str, Any]) -> StackConfig:
    """Validate raw stack config; every problem is reported with its key path, before anything
    registers."""
    config = validate_model(StackConfig, raw, where="stack config")
    problems = config.problems()
    if problems:
        raise InvalidArgumentError("stack config", problems)
    return config
