"""MeshAuthorization: only named client identities may call a GrpcService's gRPC port, enforced
by the Linkerd proxy in front of every pod (`Server` + `MeshTLSAuthentication` +
`AuthorizationPolicy`).

NetworkPolicies stop at L3/L4: they admit an address, not a workload, and cannot tell one caller
from another behind the same pod network. Linkerd proves each meshed caller's ServiceAccount with
mTLS, so the rule "checkout may call orders" holds whatever IP checkout has.

Kubelet health probes are not meshed callers. Linkerd auto-authorizes only httpGet probes, and
GrpcService uses native gRPC probes, so under any authenticated or deny policy they would be
refused. They are therefore moved to the service's plaintext `health_port`, covered by a second
`Server` that a `NetworkAuthentication` opens to the probe networks (docs/linkerd.md weighs this
against skipping the proxy for that port).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    field_validator,
)
from .grpc_service import HEALTH_PORT_NAME, PORT_NAME, GrpcService
from .linkerd_control_plane import LinkerdControlPlane
from .peers import PeerRef

__all__ = [
    "POLICY_GROUP",
    "MeshAuthorization",
    "MeshAuthorizationArgs",
    "ServiceAccountRef",
]

POLICY_GROUP = "policy.linkerd.io"
# Versions served (and stored) by linkerd-crds edge-26.8.3.
SERVER_API_VERSION = f"{POLICY_GROUP}/v1beta3"
AUTH_API_VERSION = f"{POLICY_GROUP}/v1alpha1"


@dataclass(frozen=True)
class ServiceAccountRef:
    """A Kubernetes ServiceAccount, i.e. a Linkerd mesh identity, for clients that are not
    grpc-kube components (e.g. a Job, or a workload deployed by another tool)."""

    namespace: str
    name: str

    def __post_init__(self) -> None:
        problems = []
        try:
            check_dns_label(self.namespace, what="namespace", must_start_with_letter=False)
        except (ValueError, TypeError) as exc:
            problems.append(f"namespace: got {self.namespace!r}; {exc}")
        try:
            check_dns_subdomain(self.name, what="ServiceAccount name")
        except (ValueError, TypeError) as exc:
            problems.append(f"name: got {self.name!r}; {exc}")
        if problems:
            raise InvalidArgumentError("ServiceAccountRef", problems)

    @property
    def mesh_identity(self) -> str:
        """Linkerd identity (default cluster domain `cluster.local`)."""
        return f"{self.name}.{self.namespace}.serviceaccount.identity.linkerd.cluster.local"


class MeshAuthorizationArgs(ArgsModel):
    """Arguments of MeshAuthorization. All optional."""

    probe_networks: tuple[str, ...] = ("0.0.0.0/0", "::/0")
    """Source networks allowed to call the health port without a mesh identity (kubelet probes
    come from the node). Default: everywhere, the same as Linkerd's own
    `policyController.probeNetworks` for httpGet probes. The health port serves only
    grpc.health.v1, so this exposes whether the server is up, nothing else; narrow it to your
    node CIDRs where they are known, and let NetworkPolicies limit who reaches the port."""

    @field_validator("probe_networks")
    @classmethod
    def _cidrs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError(
                "no probe network would leave kubelet probes denied and the pods never Ready. "
                "Fix: list the node CIDRs, or keep the default ('0.0.0.0/0', '::/0')."
            )
        for cidr in v:
            check_cidr(cidr, what="network")
        return v


Client = GrpcService | PeerRef | ServiceAccountRef


def _client_ref(index: int, client: object) -> tuple[ServiceAccountRef | None, str | None]:
    """The ServiceAccount of one allowed client, or a problem line."""
    where = f"allow[{index}]"
    if isinstance(client, GrpcService):
        return ServiceAccountRef(client.ref.namespace, client.ref.service_account), None
    if isinstance(client, ServiceAccountRef):
        return client, None
    if isinstance(client, PeerRef):
        if client.service_account is None:
            return None, (
                f"{where}: got a PeerRef of pods in {client.namespace!r} "
                f"({client.pod_labels}) without a service_account; Linkerd authorizes "
                "identities, and these pods have no single one (e.g. the control plane's peer). "
                "Fix: pass a PeerRef with service_account set, the GrpcService, or "
                "ServiceAccountRef(namespace, name)."
            )
        return ServiceAccountRef(client.namespace, client.service_account), None
    hint = ""
    if isinstance(client, str):
        hint = " Names are not accepted, so a typo cannot silently authorize nobody."
    return None, (
        f"{where}: got {type(client).__name__} {client!r:.60}; allowed clients are GrpcService "
        f"objects, PeerRefs with a service_account (e.g. a gateway's .peer) or "
        f"ServiceAccountRef(namespace, name).{hint} Fix: pass the object itself."
    )


class MeshAuthorization(Component):
    """Linkerd policy for one GrpcService: its gRPC port accepts only the `allow`ed mesh
    identities; its health port (if any) accepts kubelet probes from `probe_networks`."""

    server_name: str
    """Name of the Linkerd `Server` covering the gRPC port (`<service>-grpc`)."""
    health_server_name: str | None
    """Name of the `Server` covering the health port, or None without a health port."""
    clients: tuple[ServiceAccountRef, ...]
    """The allowed ServiceAccounts, deduplicated, in a stable order."""
    identities: tuple[str, ...]
    """Their Linkerd identities (default cluster domain), for logs and `linkerd authz`."""

    def __init__(
        self,
        name: str,
        args: MeshAuthorizationArgs | None = None,
        *,
        server: GrpcService,
        allow: Sequence[Client],
        control_plane: LinkerdControlPlane | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = MeshAuthorizationArgs() if args is None else args
        if not isinstance(args, MeshAuthorizationArgs):
            raise TypeError(
                f"MeshAuthorization {name!r}: args must be a MeshAuthorizationArgs, got "
                f"{type(args).__name__}. Fix: MeshAuthorization(name, MeshAuthorizationArgs(), "
                "server=..., allow=[...])."
            )
        where = f"MeshAuthorization {name!r}"
        if not isinstance(server, GrpcService):
            raise InvalidArgumentError(
                where,
                [
                    f"server: got {type(server).__name__}; MeshAuthorization reads the pods, "
                    "ports and probes from the GrpcService itself. Fix: pass the GrpcService."
                ],
            )
        problems: list[str] = []
        info = server.ref
        if server.args.probes.enabled and info.health_port is None:
            problems.append(
                f"server: {info.name!r} has kubelet gRPC probes on its gRPC port, which this "
                "authorization closes to everyone but the allowed identities; Linkerd "
                "auto-authorizes only httpGet probes, so the pods would never become Ready. "
                "Fix: serve grpc.health.v1 on a separate port, GrpcServiceArgs(health_port=8086); "
                "MeshAuthorization then authorizes the probes on it."
            )
        if control_plane is not None and not isinstance(control_plane, LinkerdControlPlane):
            problems.append(
                f"control_plane: got {type(control_plane).__name__}. Fix: pass the "
                "LinkerdControlPlane (the policy CRDs must exist first), or None."
            )
        refs: dict[tuple[str, str], ServiceAccountRef] = {}
        if isinstance(allow, (str, bytes)) or not isinstance(allow, Sequence):
            problems.append(
                f"allow: got {type(allow).__name__}; expected a list of clients. "
                "Fix: allow=[client_service, gateway.peer, ...]."
            )
        elif not allow:
            problems.append(
                "allow: got no clients, which would admit nobody on the gRPC port. Fix: name at "
                "least one client; to shut the service off, scale it down instead."
            )
        else:
            for i, client in enumerate(allow):
                ref, problem = _client_ref(i, client)
                if problem:
                    problems.append(problem)
                elif ref is not None:
                    refs[(ref.namespace, ref.name)] = ref
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("MeshAuthorization", name, opts)
        self.args = args
        self.clients = tuple(refs[k] for k in sorted(refs))
        self.identities = tuple(c.mesh_identity for c in self.clients)
        self.server_name = f"{info.name}-grpc"
        self.health_server_name = f"{info.name}-grpc-health" if info.health_port else None

        if info.headless:
            pulumi.log.warn(
                f"{where}: {info.name!r} is a headless Service. Its clients dial pod addresses "
                "directly, so Linkerd adds mTLS and this authorization but no per-request "
                "balancing; keep client-side round_robin (client_service_config), or drop "
                "headless=True to let the mesh balance.",
                resource=self,
            )

        base_deps: list[pulumi.Resource] = [control_plane] if control_plane is not None else []
        labels = {"app.kubernetes.io/managed-by": "grpc-kube"}

        def meta(k8s_name: str) -> dict[str, Any]:
            return {"name": k8s_name, "namespace": info.namespace, "labels": labels}

        def custom(
            pulumi_name: str,
            api_version: str,
            kind: str,
            k8s_name: str,
            spec: dict[str, Any],
            after: Sequence[pulumi.Resource] = (),
        ) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                pulumi_name,
                api_version=api_version,
                kind=kind,
                metadata=meta(k8s_name),
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*base_deps, *after]),
            )

        def target(kind: str, k8s_name: str) -> dict[str, str]:
            return {"group": POLICY_GROUP, "kind": kind, "name": k8s_name}

        def server_spec(port_name: str, protocol: str) -> dict[str, Any]:
            return {
                "podSelector": {"matchLabels": dict(info.selector_labels)},
                # By name, as GrpcService names its container ports: survives port changes.
                "port": port_name,
                "proxyProtocol": protocol,
                # Explicit (it is the v1beta3 default): what no AuthorizationPolicy admits is
                # refused, whatever the namespace's default inbound policy says.
                "accessPolicy": "deny",
            }

        clients_name = f"{info.name}-grpc-clients"
        self.authentication = custom(
            f"{name}-clients",
            AUTH_API_VERSION,
            "MeshTLSAuthentication",
            clients_name,
            {
                # By reference, not identity string: independent of the trust domain.
                "identityRefs": [
                    {"kind": "ServiceAccount", "name": c.name, "namespace": c.namespace}
                    for c in self.clients
                ]
            },
        )
        self.policy = custom(
            f"{name}-policy",
            AUTH_API_VERSION,
            "AuthorizationPolicy",
            self.server_name,
            {
                "targetRef": target("Server", self.server_name),
                "requiredAuthenticationRefs": [target("MeshTLSAuthentication", clients_name)],
            },
            after=[self.authentication],
        )
        # The Server last: once it exists, the port refuses whatever no policy admits, so
        # creating it after its policy leaves no window in which running callers are denied
        # (and `pulumi destroy` removes it first for the same reason).
        self.server = custom(
            f"{name}-server",
            SERVER_API_VERSION,
            "Server",
            self.server_name,
            # A server that terminates TLS itself sends TLS records, not HTTP/2 frames.
            server_spec(PORT_NAME, "TLS" if info.tls else "gRPC"),
            after=[self.policy],
        )

        self.health_server: k8s.apiextensions.CustomResource | None = None
        if self.health_server_name is not None:
            probes_name = f"{info.name}-probes"
            probe_auth = custom(
                f"{name}-probes",
                AUTH_API_VERSION,
                "NetworkAuthentication",
                probes_name,
                {"networks": [{"cidr": cidr} for cidr in args.probe_networks]},
            )
            health_policy = custom(
                f"{name}-health-policy",
                AUTH_API_VERSION,
                "AuthorizationPolicy",
                self.health_server_name,
                {
                    "targetRef": target("Server", self.health_server_name),
                    "requiredAuthenticationRefs": [target("NetworkAuthentication", probes_name)],
                },
                after=[probe_auth],
            )
            # The health port is always plaintext h2c (kubelet gRPC probes cannot speak TLS).
            self.health_server = custom(
                f"{name}-health-server",
                SERVER_API_VERSION,
                "Server",
                self.health_server_name,
                server_spec(HEALTH_PORT_NAME, "gRPC"),
                after=[health_policy],
            )

        outputs: dict[str, Any] = {
            "server_name": self.server_name,
            "identities": list(self.identities),
        }
        if self.health_server_name is not None:
            outputs["health_server_name"] = self.health_server_name
        self.register_outputs(outputs)
