"""MeshAuthorization: only named client identities may call a GrpcService's gRPC port, enforced
by the Linkerd proxy in front of every pod (`Server` + `MeshTLSAuthentication` +
`AuthorizationPolicy`). EdgeAuthorization: a meshed edge (ingress controller, gateway data plane)
keeps accepting the plain traffic it exists for, from the load balancer and from the API server
calling its admission webhook, whatever the default inbound policy (`Server` +
`NetworkAuthentication` + `AuthorizationPolicy` per entry and webhook port).

NetworkPolicies stop at L3/L4: they admit an address, not a workload, and cannot tell one caller
from another behind the same pod network. Linkerd proves each meshed caller's ServiceAccount with
mTLS, so the rule "checkout may call orders" holds whatever IP checkout has.

Kubelet health probes are not meshed callers. Linkerd auto-authorizes only httpGet probes, and
GrpcService uses native gRPC probes, so under any authenticated or deny policy they would be
refused. They are therefore moved to the service's plaintext `health_port`, covered by a second
`Server` that a `NetworkAuthentication` opens to the probe networks (docs/linkerd.md weighs this
against skipping the proxy for that port).

Names, namespaces, labels and CIDRs may be Outputs of other resources (a namespace from a
Namespace resource orders every policy object after it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ._inputs import contains_output, fmt, gate, is_output, lift
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    check_each,
    field_validator,
    validate_model,
)
from .grpc_service import HEALTH_PORT_NAME, PORT_NAME, GrpcService, GrpcServiceRef
from .linkerd_control_plane import LinkerdControlPlane
from .peers import PeerRef
from .zero_trust_policy import ANYWHERE, EdgeWorkload

__all__ = [
    "POLICY_GROUP",
    "EdgeAuthorization",
    "EdgeAuthorizationArgs",
    "MeshAuthorization",
    "MeshAuthorizationArgs",
    "ServiceAccountRef",
]

POLICY_GROUP = "policy.linkerd.io"
# Versions served (and stored) by linkerd-crds edge-26.8.3.
SERVER_API_VERSION = f"{POLICY_GROUP}/v1beta3"
AUTH_API_VERSION = f"{POLICY_GROUP}/v1alpha1"


def _show(value: Any) -> str:
    """A value for an error message: its repr, or "(an Output)" when it is not known yet."""
    return "(an Output)" if contains_output(value) else repr(value)


def _account_problems(namespace: Any, name: Any, prefix: str = "") -> list[str]:
    """What is wrong with a ServiceAccount reference, one line per field; Outputs are skipped
    (checked once they resolve)."""
    problems = []
    if not is_output(namespace):
        try:
            check_dns_label(namespace, what="namespace", must_start_with_letter=False)
        except (ValueError, TypeError) as exc:
            problems.append(f"{prefix}namespace: got {namespace!r}; {exc}")
    if not is_output(name):
        try:
            check_dns_subdomain(name, what="ServiceAccount name")
        except (ValueError, TypeError) as exc:
            problems.append(f"{prefix}name: got {name!r}; {exc}")
    return problems


@dataclass(frozen=True)
class ServiceAccountRef:
    """A Kubernetes ServiceAccount, i.e. a Linkerd mesh identity, for clients that are not
    grpc-kube components (e.g. a Job, or a workload deployed by another tool). Either value may
    be an Output (e.g. of another stack); plain values are checked at once, Outputs by
    MeshAuthorization when they resolve."""

    namespace: pulumi.Input[str]
    """The ServiceAccount's namespace."""
    name: pulumi.Input[str]
    """The ServiceAccount's name."""

    def __post_init__(self) -> None:
        problems = _account_problems(self.namespace, self.name)
        if problems:
            raise InvalidArgumentError("ServiceAccountRef", problems)

    @property
    def mesh_identity(self) -> Any:
        """Linkerd identity (default cluster domain `cluster.local`); an Output when either
        value is one."""
        return fmt("{}.{}.serviceaccount.identity.linkerd.cluster.local", self.name, self.namespace)


class MeshAuthorizationArgs(ArgsModel):
    """Arguments of MeshAuthorization. All optional."""

    probe_networks: pulumi.Input[list[pulumi.Input[str]]] = ["0.0.0.0/0", "::/0"]
    """Source networks allowed to call the health port without a mesh identity (kubelet probes
    come from the node). Default: everywhere, the same as Linkerd's own
    `policyController.probeNetworks` for httpGet probes. The health port serves only
    grpc.health.v1, so this exposes whether the server is up, nothing else; narrow it to your
    node CIDRs where they are known (e.g. an Output of your network's resource), and let
    NetworkPolicies limit who reaches the port. Every bad entry is reported, under its index."""

    @field_validator("probe_networks")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(
                "no probe network would leave kubelet probes denied and the pods never Ready. "
                "Fix: list the node CIDRs, or keep the default ('0.0.0.0/0', '::/0')."
            )
        check_each(v, lambda cidr: check_cidr(cidr, what="network"), title="MeshAuthorizationArgs")
        return v


Client = GrpcService | GrpcServiceRef | PeerRef | ServiceAccountRef


def _client_ref(
    index: int, client: object, where: str, gated: dict[int, GrpcServiceRef]
) -> tuple[ServiceAccountRef | None, str | None]:
    """The ServiceAccount of one allowed client, or a problem line."""
    at = f"allow[{index}]"
    if isinstance(client, GrpcService):
        client = client.ref
    if isinstance(client, GrpcServiceRef):
        # A ref built by hand is checked by GrpcServiceRef's rules when its Outputs resolve.
        if id(client) not in gated:
            gated[id(client)] = gate(client, where=f"{where} {at}")
        ref = gated[id(client)]
        return ServiceAccountRef(ref.namespace, ref.account), None
    if isinstance(client, ServiceAccountRef):
        return client, None
    if isinstance(client, PeerRef):
        if client.service_account is None:
            return None, (
                f"{at}: got a PeerRef of pods in {_show(client.namespace)} "
                f"({client.pod_labels if not contains_output(client.pod_labels) else 'labels'}) "
                "without a service_account; Linkerd authorizes identities, and these pods have "
                "no single one (e.g. the control plane's peer). Fix: pass a PeerRef with "
                "service_account set, the GrpcService, or ServiceAccountRef(namespace, name)."
            )
        try:
            return ServiceAccountRef(client.namespace, client.service_account), None
        except InvalidArgumentError as exc:
            return None, "; ".join(f"{at}.{p}" for p in exc.problems)
    hint = ""
    if isinstance(client, str):
        hint = " Names are not accepted, so a typo cannot silently authorize nobody."
    return None, (
        f"{at}: got {type(client).__name__} {client!r:.60}; allowed clients are GrpcService "
        f"objects (or their .ref), PeerRefs with a service_account (e.g. a gateway's .peer) or "
        f"ServiceAccountRef(namespace, name).{hint} Fix: pass the object itself."
    )


def _unique_sorted(
    accounts: Sequence[Sequence[Any]], paths: Sequence[str], where: str
) -> tuple[ServiceAccountRef, ...]:
    """The allowed accounts, checked, deduplicated and in a stable order (resolved values)."""
    pairs = [(str(namespace), str(name)) for namespace, name in accounts]
    problems = [
        p
        for (namespace, name), path in zip(accounts, paths, strict=True)
        for p in _account_problems(namespace, name, prefix=f"{path}.")
    ]
    if problems:
        raise InvalidArgumentError(where, problems, resolved=True)
    return tuple(ServiceAccountRef(ns, name) for ns, name in sorted(set(pairs)))


class MeshAuthorization(Component):
    """Linkerd policy for one GrpcService: its gRPC port accepts only the `allow`ed mesh
    identities; its health port (if any) accepts kubelet probes from `probe_networks`.

    `server` is a GrpcService or its GrpcServiceRef (e.g. for a service deployed elsewhere);
    `allow` lists GrpcServices, GrpcServiceRefs, PeerRefs with a service_account, or
    ServiceAccountRefs. Their names, namespaces and labels may be Outputs: the Linkerd objects
    then carry them, and a namespace from a Namespace resource orders them after it. Which
    objects exist is decided when the program runs, from plain facts: whether the server has a
    `health_port` (its number may be an Output), `tls`, `headless`, and for a GrpcService whether
    its probes are on.
    """

    server_name: pulumi.Input[str]
    """Name of the Linkerd `Server` covering the gRPC port (`<service>-grpc`); plain when the
    Service name is, else an Output."""
    health_server_name: pulumi.Input[str] | None
    """Name of the `Server` covering the health port, or None without a health port."""
    clients: tuple[ServiceAccountRef, ...] | pulumi.Output[tuple[ServiceAccountRef, ...]]
    """The allowed ServiceAccounts, deduplicated, in a stable order; an Output of them when a
    client's name or namespace is one."""
    identities: tuple[str, ...] | pulumi.Output[tuple[str, ...]]
    """Their Linkerd identities (default cluster domain), for logs and `linkerd authz`; an
    Output when the clients are."""

    def __init__(
        self,
        name: str,
        args: MeshAuthorizationArgs | Mapping[str, Any] | None = None,
        *,
        server: GrpcService | GrpcServiceRef,
        allow: Sequence[Client],
        control_plane: LinkerdControlPlane | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"MeshAuthorization {name!r}"
        args = validate_model(MeshAuthorizationArgs, {} if args is None else args, where=where)
        problems: list[str] = []
        gated: dict[int, GrpcServiceRef] = {}
        if isinstance(server, GrpcService):
            probes_on: bool | None = server.args.probes.enabled
            ref = server.ref
        elif isinstance(server, GrpcServiceRef):
            probes_on = None  # unknown: the pods are not ours to read
            ref = server
        else:
            raise InvalidArgumentError(
                where,
                [
                    f"server: got {type(server).__name__}; MeshAuthorization reads the pods, "
                    "ports and probes from the service itself. Fix: pass the GrpcService, or its "
                    "GrpcServiceRef for a service deployed elsewhere."
                ],
            )
        if probes_on and ref.health_port is None:
            problems.append(
                f"server: {_show(ref.name)} has kubelet gRPC probes on its gRPC port, which this "
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
        refs: list[tuple[ServiceAccountRef, str]] = []
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
                account, problem = _client_ref(i, client, where, gated)
                if problem:
                    problems.append(problem)
                elif account is not None:
                    refs.append((account, f"allow[{i}]"))
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("MeshAuthorization", name, opts)
        # Values that arrived as Outputs reach the objects only once they pass the same checks.
        self.args = args = gate(args, where=where)
        info = gate(ref, where=f"{where} server")
        paths = [path for _, path in refs]
        # Deduplicated and sorted by value, so computed once the values are known; resolved
        # client values are checked there too (ServiceAccountRefs built from Outputs).
        self.clients = lift(
            lambda *accounts: _unique_sorted(accounts, paths, where),
            *[[a.namespace, a.name] for a, _ in refs],
        )
        self.identities = lift(
            lambda clients: tuple(c.mesh_identity for c in clients), self.clients
        )
        self.server_name = fmt("{}-grpc", info.name)
        self.health_server_name = (
            fmt("{}-grpc-health", info.name) if info.health_port is not None else None
        )

        if info.headless:
            pulumi.log.warn(
                f"{where}: {_show(info.name)} is a headless Service. Its clients dial pod "
                "addresses directly, so Linkerd adds mTLS and this authorization but no "
                "per-request balancing; keep client-side round_robin (client_service_config), "
                "or drop headless=True to let the mesh balance.",
                resource=self,
            )
        if probes_on is None and info.health_port is None:
            pulumi.log.warn(
                f"{where}: the GrpcServiceRef {_show(info.name)} has no health_port, so only "
                "the gRPC port gets a Server, closed to all but the allowed identities. If its "
                "pods have kubelet gRPC probes on that port, Linkerd refuses them and the pods "
                "never become Ready; set health_port in the ref when the pods serve "
                "grpc.health.v1 on a separate port.",
                resource=self,
            )

        base_deps: list[pulumi.Resource] = [control_plane] if control_plane is not None else []
        labels = {"app.kubernetes.io/managed-by": "grpc-kube"}

        def meta(k8s_name: Any) -> dict[str, Any]:
            return {"name": k8s_name, "namespace": info.namespace, "labels": labels}

        def custom(
            pulumi_name: str,
            api_version: str,
            kind: str,
            k8s_name: Any,
            spec: Any,
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

        def target(kind: str, k8s_name: Any) -> dict[str, Any]:
            return {"group": POLICY_GROUP, "kind": kind, "name": k8s_name}

        pod_labels = info.pod_labels

        def server_spec(port_name: str, protocol: str) -> dict[str, Any]:
            return {
                "podSelector": {
                    "matchLabels": dict(pod_labels)
                    if isinstance(pod_labels, Mapping)
                    else pod_labels
                },
                # By name, as GrpcService names its container ports: survives port changes.
                "port": port_name,
                "proxyProtocol": protocol,
                # Explicit (it is the v1beta3 default): what no AuthorizationPolicy admits is
                # refused, whatever the namespace's default inbound policy says.
                "accessPolicy": "deny",
            }

        clients_name = fmt("{}-grpc-clients", info.name)
        self.authentication = custom(
            f"{name}-clients",
            AUTH_API_VERSION,
            "MeshTLSAuthentication",
            clients_name,
            {
                # By reference, not identity string: independent of the trust domain.
                "identityRefs": lift(
                    lambda clients: [
                        {"kind": "ServiceAccount", "name": c.name, "namespace": c.namespace}
                        for c in clients
                    ],
                    self.clients,
                )
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
            probes_name = fmt("{}-probes", info.name)
            probe_auth = custom(
                f"{name}-probes",
                AUTH_API_VERSION,
                "NetworkAuthentication",
                probes_name,
                {
                    "networks": lift(
                        lambda networks: [{"cidr": cidr} for cidr in networks],
                        args.probe_networks,
                    )
                },
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
            "identities": lift(list, self.identities),
        }
        if self.health_server_name is not None:
            outputs["health_server_name"] = self.health_server_name
        self.register_outputs(outputs)


# --- the edge ---------------------------------------------------------------------------------


def _namespace_problems(namespace: Any) -> list[str]:
    try:
        check_dns_label(namespace, what="namespace", must_start_with_letter=False)
    except (ValueError, TypeError) as exc:
        return [f"namespace: got {namespace!r}; {exc}"]
    return []


def _resolved_namespace(namespace: str, where: str) -> str:
    problems = _namespace_problems(namespace)
    if problems:
        raise InvalidArgumentError(where, problems, resolved=True)
    return namespace


class EdgeAuthorizationArgs(ArgsModel):
    """Arguments of EdgeAuthorization. All optional."""

    client_networks: pulumi.Input[list[pulumi.Input[str]]] = list(ANYWHERE)
    """Source networks allowed on the edge's entry ports without a mesh identity (default
    everywhere, `0.0.0.0/0` and `::/0`: clients and the load balancer are not meshed). Give the
    same ranges as ZeroTrustPolicyArgs `edge_client_cidrs`, so the network and the proxy agree.
    Every bad entry is reported, under its index."""
    webhook_client_networks: pulumi.Input[list[pulumi.Input[str]]] = list(ANYWHERE)
    """Source networks allowed on the edge's webhook ports: the API server's addresses as the
    pods see them (default everywhere, since they differ by cluster). A webhook with
    `failurePolicy: Fail` the API server cannot reach blocks every object it validates."""

    @field_validator("client_networks", "webhook_client_networks")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(
                "no network would leave the port refused to everyone. Fix: list the networks, "
                "or keep the default ('0.0.0.0/0', '::/0')."
            )
        check_each(v, lambda cidr: check_cidr(cidr, what="network"), title="EdgeAuthorizationArgs")
        return v


class EdgeAuthorization(Component):
    """Linkerd policy for a meshed edge workload (an EdgeWorkload with `meshed=True`): each of
    its `entry_ports` and `webhook_ports` gets a `Server` admitting the configured networks
    without a mesh identity, so the edge keeps working under a strict default inbound policy
    (`all-authenticated`, `deny`...), while everything behind it stays as strict as
    configured.

    Per entry port `<p>`: Server and AuthorizationPolicy `<workload>-entry-<p>`, requiring the
    NetworkAuthentication `<workload>-clients` (`client_networks`). Per webhook port: Server and
    AuthorizationPolicy `<workload>-webhook-<p>`, requiring `<workload>-api-server`
    (`webhook_client_networks`). `proxyProtocol: unknown` (Linkerd detects it): entry ports
    carry HTTP/1 or TLS that the edge itself terminates, and on both the client speaks first, so
    detection reads them correctly at no cost.

    The workload's name, labels and ports name and select the objects, so they are plain; the
    namespace and the networks may be Outputs."""

    server_names: tuple[str, ...]
    """The Servers, entry ports first."""
    servers: tuple[k8s.apiextensions.CustomResource, ...]
    """The Server objects (create ordering: each after its policy)."""

    def __init__(
        self,
        name: str,
        args: EdgeAuthorizationArgs | Mapping[str, Any] | None = None,
        *,
        namespace: pulumi.Input[str],
        workload: EdgeWorkload,
        control_plane: LinkerdControlPlane | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"EdgeAuthorization {name!r}"
        args = validate_model(EdgeAuthorizationArgs, {} if args is None else args, where=where)
        problems: list[str] = []
        if not isinstance(workload, EdgeWorkload):
            raise InvalidArgumentError(
                where,
                [
                    f"workload: got {type(workload).__name__}. Fix: pass an EdgeWorkload, e.g. "
                    "NginxIngressController.edge_workloads[0] or GrpcGateway.edge_workload."
                ],
            )
        if not workload.meshed:
            problems.append(
                f"workload: {workload.name!r} is not meshed, so no Linkerd proxy would enforce "
                "these objects. Fix: mesh the edge, or leave EdgeAuthorization out."
            )
        if not workload.entry_ports and not workload.webhook_ports:
            problems.append(
                f"workload: {workload.name!r} has no entry_ports or webhook_ports, so there is "
                "nothing to admit. Fix: pass the controller or data plane workload."
            )
        ports = (*workload.entry_ports, *workload.webhook_ports)
        if any(contains_output(p) for p in ports):
            problems.append(
                f"workload: {workload.name!r} has a port given as an Output; ports name the "
                "Servers, so they must be known when the program runs. Fix: give them plain."
            )
        if not is_output(namespace):
            problems += _namespace_problems(namespace)
        if control_plane is not None and not isinstance(control_plane, LinkerdControlPlane):
            problems.append(
                f"control_plane: got {type(control_plane).__name__}. Fix: pass the "
                "LinkerdControlPlane (the policy CRDs must exist first), or None."
            )
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("EdgeAuthorization", name, opts)
        # Values that arrived as Outputs reach the objects only once they pass the same checks.
        self.args = args = gate(args, where=where)
        base_deps: list[pulumi.Resource] = [control_plane] if control_plane is not None else []
        labels = {"app.kubernetes.io/managed-by": "grpc-kube"}
        base = workload.name
        if is_output(namespace):
            # Checked by the same rule when it resolves; a bad one reaches no object.
            namespace = lift(lambda ns: _resolved_namespace(ns, where), namespace)

        def custom(
            pulumi_name: str, kind: str, k8s_name: str, spec: Any, after: Sequence[Any] = ()
        ) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                pulumi_name,
                api_version=SERVER_API_VERSION if kind == "Server" else AUTH_API_VERSION,
                kind=kind,
                metadata={"name": k8s_name, "namespace": namespace, "labels": labels},
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*base_deps, *after]),
            )

        def target(kind: str, k8s_name: str) -> dict[str, Any]:
            return {"group": POLICY_GROUP, "kind": kind, "name": k8s_name}

        names: list[str] = []
        servers: list[k8s.apiextensions.CustomResource] = []
        for role, auth_suffix, networks, role_ports in (
            ("entry", "clients", args.client_networks, workload.entry_ports),
            ("webhook", "api-server", args.webhook_client_networks, workload.webhook_ports),
        ):
            if not role_ports:
                continue
            auth_name = f"{base}-{auth_suffix}"
            auth = custom(
                f"{name}-{auth_suffix}",
                "NetworkAuthentication",
                auth_name,
                {"networks": lift(lambda ns: [{"cidr": c} for c in ns], networks)},
            )
            for port in role_ports:
                server_name = f"{base}-{role}-{port}"
                policy = custom(
                    f"{name}-{role}-{port}-policy",
                    "AuthorizationPolicy",
                    server_name,
                    {
                        "targetRef": target("Server", server_name),
                        "requiredAuthenticationRefs": [target("NetworkAuthentication", auth_name)],
                    },
                    after=[auth],
                )
                # The Server last: once it exists the port refuses what no policy admits (see
                # MeshAuthorization).
                servers.append(
                    custom(
                        f"{name}-{role}-{port}-server",
                        "Server",
                        server_name,
                        {
                            "podSelector": {"matchLabels": dict(workload.pod_labels)},
                            "port": port,
                            "proxyProtocol": "unknown",
                            "accessPolicy": "deny",
                        },
                        after=[policy],
                    )
                )
                names.append(server_name)
        self.server_names = tuple(names)
        self.servers = tuple(servers)
        self.register_outputs({"server_names": list(names)})
