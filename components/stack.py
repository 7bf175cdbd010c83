"""The deployment a stack describes: the stack config schema and the function that builds it.

`__main__.py` calls `build_from_config(pulumi.Config())`; tests and other programs call
`build(StackConfig)` directly. Everything is validated before any resource registers: unknown
keys, wrong types and impossible combinations fail with the key path (`services[0].replicas`)
and the fix, because a Pulumi program that fails halfway has already created what it
registered.

The assembly uses only the public components. Connections are declared once
(`connections: [{client, server}]`) and produce both the NetworkPolicies (ZeroTrustPolicy) and
the Linkerd authorization (MeshAuthorization) for both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_dns_label,
    field_validator,
    model_validator,
    validate_model,
)
from .certificates import CertificateAuthority, CertificateAuthorityArgs
from .gateway_api_crds import GatewayApiCrds
from .grpc_gateway import GrpcGateway, GrpcGatewayArgs
from .grpc_ingress import GATEWAY_PATH_REFUSED, GrpcIngress, GrpcIngressArgs
from .grpc_service import GrpcService, GrpcServiceArgs
from .linkerd_control_plane import LinkerdControlPlane, LinkerdControlPlaneArgs
from .mesh_authorization import MeshAuthorization
from .mesh_enabled_namespace import MeshEnabledNamespace, MeshEnabledNamespaceArgs
from .nginx_gateway_fabric import NginxGatewayFabric, NginxGatewayFabricArgs
from .nginx_ingress_controller import NginxIngressController, NginxIngressControllerArgs
from .peers import PeerRef
from .zero_trust_policy import Allow, ZeroTrustPolicy, ZeroTrustPolicyArgs

__all__ = [
    "CertificatesConfig",
    "ConnectionConfig",
    "Deployment",
    "GatewayConfig",
    "IngressConfig",
    "MeshConfig",
    "NamespaceConfig",
    "PoliciesConfig",
    "RouteConfig",
    "ServiceConfig",
    "StackConfig",
    "build",
    "build_from_config",
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


class ServiceConfig(GrpcServiceArgs):
    """One entry of `services`: a GrpcService's arguments plus its `name`."""

    name: str
    """Component name, and the Kubernetes name of the Service unless `service_name` is set."""

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
    `gateway-api` (NGINX Gateway Fabric + GRPCRoute). Default ingress-nginx, the founding
    document's path; new stacks should prefer gateway-api."""
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


class PoliciesConfig(ArgsModel):
    """`policies`: network-level zero trust: a ZeroTrustPolicy in every namespace of
    `namespaces` that holds services. The ingress controller's and the gateway's namespaces are
    not isolated (their pods' traffic is the chart's and the implementation's); add raw
    NetworkPolicies there if you need them."""

    zero_trust: bool = True
    """Default-deny NetworkPolicies plus the allows `connections` and the ingress routes need
    (default True)."""
    dns: bool = True
    """Allow DNS to kube-dns (default True)."""
    metrics_from_namespaces: tuple[str, ...] = ()
    """Namespaces (e.g. a Prometheus one) allowed to scrape meshed pods' proxy metrics."""

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
            if ns.mesh and ns.pod_security in ("restricted", "baseline") and not uses_cni:
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


@dataclass
class Deployment:
    """What `build` created, by name."""

    config: StackConfig
    namespaces: dict[str, MeshEnabledNamespace | k8s.core.v1.Namespace] = field(
        default_factory=dict
    )
    services: dict[str, GrpcService] = field(default_factory=dict)
    routes: dict[str, GrpcIngress] = field(default_factory=dict)
    control_plane: LinkerdControlPlane | None = None
    ca: CertificateAuthority | None = None
    ingress_controller: NginxIngressController | None = None
    gateway_controller: NginxGatewayFabric | None = None
    gateway: GrpcGateway | None = None
    authorizations: dict[str, MeshAuthorization] = field(default_factory=dict)
    policies: dict[str, ZeroTrustPolicy] = field(default_factory=dict)


def _needs_ca(cfg: StackConfig) -> bool:
    ing = cfg.ingress
    if ing is None:
        return False
    if ing.via == "gateway-api":
        return ing.gateway.tls_secret_name is None
    return any(not r.tls.existing or r.backend_protocol == "GRPCS" for r in ing.routes)


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def build(config: StackConfig, *, stack: str | None = None) -> Deployment:
    """Create everything `config` describes and export the stack outputs. Cross-key problems
    (`config.problems()`) are raised before anything registers."""
    problems = config.problems()
    if problems:
        raise InvalidArgumentError("stack config", problems)
    stack = stack or pulumi.get_stack()
    out = Deployment(config=config)
    meshed_ns = {n.name for n in config.namespaces if n.mesh}
    via = config.ingress.via if config.ingress else None

    crds = None
    if config.mesh is not None or via == "gateway-api":
        # One owner for the Gateway API CRDs: Linkerd and the gateway both read them.
        crds = GatewayApiCrds("gateway-api")
    if config.mesh is not None:
        cp_args = LinkerdControlPlaneArgs(
            **config.mesh.model_dump(exclude={"authorization"}, exclude_unset=True)
        )
        out.control_plane = LinkerdControlPlane("linkerd", cp_args, gateway_api_crds=crds)

    for ns in config.namespaces:
        if ns.mesh:
            ns_args = MeshEnabledNamespaceArgs(
                **ns.model_dump(exclude={"mesh"}, exclude_unset=True)
            )
            out.namespaces[ns.name] = MeshEnabledNamespace(
                ns.name, ns_args, control_plane=out.control_plane
            )
        elif not ns.existing:
            level = ns.pod_security or "restricted"
            out.namespaces[ns.name] = k8s.core.v1.Namespace(
                f"{ns.name}-namespace",
                metadata={
                    "name": ns.name,
                    "labels": {
                        **ns.labels,
                        "pod-security.kubernetes.io/enforce": level,
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "app.kubernetes.io/managed-by": "grpc-kube",
                    },
                },
            )

    for svc in config.services:
        updates: dict[str, Any] = {"mesh": True} if svc.namespace in meshed_ns else {}
        args = GrpcServiceArgs(
            **{**svc.model_dump(exclude={"name"}, exclude_unset=True), **updates}
        )
        deps = [out.namespaces[svc.namespace]] if svc.namespace in out.namespaces else []
        out.services[svc.name] = GrpcService(
            svc.name, args, opts=pulumi.ResourceOptions(depends_on=deps)
        )

    if _needs_ca(config):
        c = config.certificates
        out.ca = CertificateAuthority(
            "stack-ca",
            CertificateAuthorityArgs(
                common_name=c.ca_common_name or f"grpc-kube {stack} CA",
                validity_hours=c.ca_validity_hours,
                early_renewal_hours=c.ca_early_renewal_hours,
            ),
        )

    if config.ingress is not None:
        _build_ingress(config.ingress, out, crds)

    if config.mesh is not None and config.mesh.authorization:
        _build_authorizations(config, out)
    if config.policies.zero_trust:
        _build_policies(config, out)
    _export(config, out)
    return out


def _build_ingress(ing: IngressConfig, out: Deployment, crds: GatewayApiCrds | None) -> None:
    entry: NginxIngressController | GrpcGateway
    # A meshed entry point must start after the Linkerd injector exists (the webhook fails
    # open: its pods would run unmeshed and service-upstream would pin connections again).
    mesh_wait: list[pulumi.Resource] = [out.control_plane] if out.control_plane else []
    if ing.via == "ingress-nginx":
        out.ingress_controller = NginxIngressController(
            "ingress-nginx",
            ing.controller,
            opts=pulumi.ResourceOptions(depends_on=mesh_wait if ing.controller.mesh else []),
        )
        entry = out.ingress_controller
    else:
        assert crds is not None
        out.gateway_controller = NginxGatewayFabric(
            "gateway-controller", ing.gateway_controller, gateway_api_crds=crds
        )
        hosts = ing.gateway.hostnames or tuple(dict.fromkeys(r.host for r in ing.routes))
        route_ns = ing.gateway.route_namespaces or tuple(
            dict.fromkeys(
                out.services[ref].ref.namespace
                for r in ing.routes
                for ref in ([r.service] if r.service else []) + list(r.routes.values())
            )
        )
        gw_args = GrpcGatewayArgs(
            **{
                **ing.gateway.model_dump(exclude_unset=True),
                "hostnames": hosts,
                "route_namespaces": route_ns,
            }
        )
        gw_wait = [out.namespaces[gw_args.namespace]] if gw_args.namespace in out.namespaces else []
        out.gateway = GrpcGateway(
            "grpc-gateway",
            gw_args,
            controller=out.gateway_controller,
            ca=out.ca,
            opts=pulumi.ResourceOptions(depends_on=gw_wait + (mesh_wait if gw_args.mesh else [])),
        )
        entry = out.gateway
    for route in ing.routes:
        args = GrpcIngressArgs(
            **route.model_dump(exclude={"name", "service", "routes"}, exclude_unset=True)
        )
        out.routes[route.name] = GrpcIngress(
            route.name,
            args,
            service=out.services[route.service] if route.service else None,
            routes={k: out.services[v] for k, v in route.routes.items()} or None,
            controller=entry,
            ca=out.ca if ing.via == "ingress-nginx" else None,
            # Its Ingress/GRPCRoute and TLS Secrets live in the services' namespace.
            opts=pulumi.ResourceOptions(depends_on=_namespace_of(route, out)),
        )


def _namespace_of(route: RouteConfig, out: Deployment) -> list[pulumi.Resource]:
    ref = route.service or next(iter(route.routes.values()))
    ns = out.services[ref].ref.namespace
    return [out.namespaces[ns]] if ns in out.namespaces else []


def _entry_peer(out: Deployment) -> PeerRef | None:
    if out.ingress_controller is not None:
        return out.ingress_controller.peer
    if out.gateway is not None:
        return out.gateway.peer
    return None


def _build_authorizations(config: StackConfig, out: Deployment) -> None:
    meshed_ns = {n.name for n in config.namespaces if n.mesh}
    entry = _entry_peer(out)
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
            f"{server}-authz",
            server=svc,
            allow=allow,
            control_plane=out.control_plane,
            opts=pulumi.ResourceOptions(depends_on=[out.namespaces[svc.ref.namespace]]),
        )


def _build_policies(config: StackConfig, out: Deployment) -> None:
    connections = [
        Allow(out.services[c.client], out.services[c.server]) for c in config.connections
    ]
    for ns in config.namespaces:
        in_ns = [s for s in out.services.values() if s.ref.namespace == ns.name]
        if not in_ns:
            continue
        local = [
            a
            for a in connections
            if ns.name in (a.client.ref.namespace, a.server.ref.namespace)  # type: ignore[union-attr]
        ]
        ingresses = [r for r in out.routes.values() if r.namespace == ns.name]
        ns_obj = out.namespaces.get(ns.name)
        mesh: bool | MeshEnabledNamespace = (
            ns_obj if isinstance(ns_obj, MeshEnabledNamespace) else False
        )
        deps = [ns_obj] if ns_obj is not None else []
        out.policies[ns.name] = ZeroTrustPolicy(
            f"{ns.name}-zero-trust",
            ZeroTrustPolicyArgs(
                namespace=ns.name,
                dns=config.policies.dns,
                metrics_from_namespaces=config.policies.metrics_from_namespaces,
            ),
            connections=local,
            ingresses=ingresses,
            mesh=mesh,
            opts=pulumi.ResourceOptions(depends_on=deps),
        )


def _export(config: StackConfig, out: Deployment) -> None:
    pulumi.export(
        "services",
        {
            name: {
                "dns_name": s.ref.dns_name,
                "port": s.ref.port,
                **({"client_target": s.ref.client_target} if s.ref.headless else {}),
            }
            for name, s in out.services.items()
        },
    )
    if out.routes:
        pulumi.export(
            "endpoints", {n: r.host.apply(lambda h: f"{h}:443") for n, r in out.routes.items()}
        )
        pulumi.export("grpcurl_commands", {n: r.grpcurl_command for n, r in out.routes.items()})
    if out.ca is not None:
        pulumi.export("ca_cert_pem", out.ca.cert_pem)
    if out.control_plane is not None and out.control_plane.trust_anchor_pem is not None:
        pulumi.export("linkerd_trust_anchor_pem", out.control_plane.trust_anchor_pem)
        if out.control_plane.issuer_expiry is not None:
            pulumi.export("linkerd_issuer_expiry", out.control_plane.issuer_expiry)
    pulumi.export("troubleshooting", troubleshooting(config, out))


def troubleshooting(config: StackConfig, out: Deployment) -> list[str]:
    """The founding document's troubleshooting list, as commands for this stack."""
    steps: list[str] = []
    for name, svc in out.services.items():
        i = svc.ref
        steps.append(
            f"# {name}: backend logs\n"
            f"kubectl -n {i.namespace} logs -l {_selector(i.selector_labels)} "
            "--all-containers --tail=100"
        )
    entry = _entry_peer(out)
    if entry is not None:
        what = "ingress controller" if out.ingress_controller is not None else "gateway"
        steps.append(
            f"# {what} logs (raise verbosity with the controller's log level if they are quiet)\n"
            f"kubectl -n {entry.namespace} logs -l {_selector(entry.pod_labels)} --tail=200"
        )
    for name, route in out.routes.items():
        steps.append(f"# {name}: call through the entry point (needs server reflection)")
        for b in route.backends:
            steps.append(
                f"# {name} -> {b.name}: Service port and route backend port must match ({b.port})\n"
                f"kubectl -n {b.namespace} get service {b.name} "
                "-o jsonpath='{.spec.ports[0].port}'"
            )
        for first in route.backends[:1]:
            svc_cfg = next(s for s in config.services if (s.service_name or s.name) == first.name)
            replicas = svc_cfg.autoscaling.min_replicas if svc_cfg.autoscaling else svc_cfg.replicas
            cacert = " --tls --cacert ca.crt" if out.ca is not None else " --tls"
            steps.append(
                f"# {name}: do calls spread over the pods? "
                "(pulumi stack output ca_cert_pem > ca.crt)\n"
                f"grpc-lb-check {route.args.host}:443{cacert} --authority {route.args.host} "
                f"--expect-backends {replicas}"
            )
    steps.append(
        "# Go servers: set http2_debug: true on the service (GODEBUG=http2debug=2), pulumi up, "
        "then read the backend logs"
    )
    if out.control_plane is not None:
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


def load_config(raw: dict[str, Any]) -> StackConfig:
    """Validate raw stack config; every problem is reported with its key path."""
    config = validate_model(StackConfig, raw, where="stack config")
    problems = config.problems()
    if problems:
        raise InvalidArgumentError("stack config", problems)
    return config


def build_from_config(cfg: pulumi.Config) -> Deployment:
    return build(load_config(read_config(cfg)))
