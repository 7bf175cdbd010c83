"""ZeroTrustPolicy: default-deny NetworkPolicies for one namespace, plus the allows the stack
needs, written from the objects that need them.

Kubernetes lets every pod reach every other pod until a NetworkPolicy selects it. This component
isolates every pod of a namespace for ingress and egress, then opens only what was declared:
"GrpcService A may call GrpcService B" (ports read from B, never typed), "this ingress or gateway
may reach the services it fronts", DNS, and, when the namespace is meshed, what Linkerd's proxies
need (peer proxies on 4143, the control plane on 8080/8086/8090). Anything else is a typed raw
rule, validated before anything registers. NetworkPolicies are L3/L4 only; inside the mesh,
Linkerd's own authorization policy is the L7 control.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ValidationInfo

from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    check_label_map,
    check_port,
    field_validator,
    model_validator,
)
from .grpc_service import GrpcService, GrpcServiceRef
from .linkerd_control_plane import CONTROL_PLANE_PORTS as LINKERD_CONTROL_PLANE_PORTS
from .linkerd_control_plane import PROXY_ADMIN_PORT as LINKERD_PROXY_ADMIN_PORT
from .linkerd_control_plane import PROXY_INBOUND_PORT as LINKERD_PROXY_INBOUND_PORT
from .peers import PeerRef

__all__ = [
    "DNS_PORT",
    "LINKERD_CONTROL_PLANE_PORTS",
    "LINKERD_PROXY_ADMIN_PORT",
    "LINKERD_PROXY_INBOUND_PORT",
    "NAMESPACE_NAME_LABEL",
    "Allow",
    "IngressLike",
    "IpBlock",
    "LabelSelector",
    "LabelSelectorRequirement",
    "MeshNamespaceLike",
    "NetworkPeer",
    "PolicyPlan",
    "PolicyPort",
    "PolicyRule",
    "RawNetworkPolicy",
    "ZeroTrustPolicy",
    "ZeroTrustPolicyArgs",
    "check_cidr",
    "plan_policies",
    "render_raw_policy",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Immutable label the API server puts on every namespace (GA since Kubernetes 1.22)."""
DNS_PORT = 53

PROTOCOLS = ("TCP", "UDP", "SCTP")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

PolicyType = Literal["Ingress", "Egress"]


# --- validation helpers ---------------------------------------------------------------------


def _check_named_port(value: str) -> str:
    if value.isdigit():
        raise ValueError(
            f"port {value!r} is a string of digits, which Kubernetes reads as a port *name*. "
            f"Fix: give the number {int(value)} (an int), not a string."
        )
    if (
        len(value) > 15
        or not _IANA_SVC_NAME.match(value)
        or "--" in value
        or not any(c.isalpha() for c in value)
    ):
        raise ValueError(
            f"named port {value!r} is not a valid port name: 1-15 lowercase letters, digits and "
            "'-', with at least one letter, no '--', not starting or ending with '-'. Fix: use "
            "the container port's name (e.g. 'grpc') or its number."
        )
    return value


def _namespace(value: str, what: str = "namespace") -> str:
    return check_dns_label(value, what=what, must_start_with_letter=False)


def _as_selector_input(value: Any) -> Any:
    """Accept a plain label map as shorthand for `LabelSelector(match_labels=...)`."""
    if isinstance(value, Mapping) and not (
        set(value) <= {"match_labels", "match_expressions"}
        and any(not isinstance(v, str) for v in value.values())
    ):
        return {"match_labels": dict(value)}
    return value


# --- raw, typed rules -----------------------------------------------------------------------


class LabelSelectorRequirement(ArgsModel):
    """One `matchExpressions` entry of a label selector."""

    key: str
    """Label key the expression tests."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """`In`/`NotIn` compare the label's value with `values`; `Exists`/`DoesNotExist` test the
    key only."""
    values: tuple[str, ...] = ()
    """Values for `In`/`NotIn` (required there); must be empty for `Exists` and
    `DoesNotExist`."""

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        check_label_map({v: ""}, what="label selector")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        key = info.data.get("key", "key")
        for value in v:
            check_label_map({key: value}, what="label selector")
        return v

    @model_validator(mode="after")
    def _operator_values(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(
                f"operator {self.operator} needs at least one value in `values`. Fix: list the "
                "values, or use Exists/DoesNotExist to test the key alone."
            )
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(
                f"operator {self.operator} tests the key only and takes no `values`. Fix: remove "
                "values, or use In/NotIn."
            )
        return self

    def to_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            out["values"] = list(self.values)
        return out


class LabelSelector(ArgsModel):
    """A Kubernetes label selector. Anywhere a selector is taken, a plain `{"key": "value"}` map
    is shorthand for `LabelSelector(match_labels={...})`."""

    match_labels: dict[str, str] = {}
    """Labels that must all match (default none)."""
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()
    """Expressions that must all hold (default none)."""

    @field_validator("match_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v, what="label selector")
        return v

    @property
    def is_empty(self) -> bool:
        """True when the selector matches everything (`{}`)."""
        return not self.match_labels and not self.match_expressions

    def to_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [e.to_k8s() for e in self.match_expressions]
        return out


class IpBlock(ArgsModel):
    """An address range (`ipBlock`): meant for addresses outside the cluster, since pod IPs
    change."""

    cidr: str
    """The range, e.g. `172.17.0.0/16` or `2001:db8::/64` (canonical form, mask required)."""
    except_: tuple[str, ...] = ()
    """Sub-ranges to leave out (Kubernetes `except`; default none). Each must lie strictly
    inside `cidr`."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return check_cidr(v)

    @field_validator("except_")
    @classmethod
    def _except(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for item in v:
            check_cidr(item, what="except CIDR")
        cidr = info.data.get("cidr")
        if cidr is None:  # cidr itself was invalid and is reported on its own
            return v
        net = ipaddress.ip_network(cidr)
        for item in v:
            sub = ipaddress.ip_network(item)
            if sub.version != net.version or not sub.subnet_of(net) or sub == net:  # type: ignore[arg-type]
                raise ValueError(
                    f"{item!r} is not strictly inside cidr {cidr!r}; Kubernetes rejects an except "
                    "entry that is not a smaller range within cidr. Fix: use a sub-range of "
                    f"{cidr} (a longer prefix inside it), or widen cidr."
                )
        return v

    def to_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cidr": self.cidr}
        if self.except_:
            out["except"] = list(self.except_)
        return out


class NetworkPeer(ArgsModel):
    """One `from`/`to` entry: pods (pod_selector), namespaces (namespace_selector or
    namespace), both at once (pods in those namespaces), or an ip_block.

    Empty selectors match everything and are refused unless `select_all=True` says so.
    """

    pod_selector: LabelSelector | None = None
    """Pods, in the policy's namespace unless a namespace selector is also given (default
    None)."""
    namespace_selector: LabelSelector | None = None
    """Namespaces by label (default None). With pod_selector: those pods in those namespaces."""
    namespace: str | None = None
    """Shorthand for a namespace_selector on `kubernetes.io/metadata.name` (default None)."""
    ip_block: IpBlock | None = None
    """An address range (default None); cannot be combined with selectors in one peer."""
    select_all: bool = False
    """Set True to allow an empty selector on purpose (`pod_selector={}`: every pod in the
    policy's namespace; `namespace_selector={}`: every pod in every namespace). Default False,
    because an empty selector silently matches everything."""

    @field_validator("pod_selector", "namespace_selector", mode="before")
    @classmethod
    def _selector_shorthand(cls, v: Any) -> Any:
        return _as_selector_input(v)

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str | None) -> str | None:
        return None if v is None else _namespace(v)

    @model_validator(mode="after")
    def _shape(self) -> NetworkPeer:
        ns_sel = self.namespace_selector is not None or self.namespace is not None
        if self.pod_selector is None and not ns_sel and self.ip_block is None:
            raise ValueError(
                "the peer names nothing. Fix: set pod_selector, namespace_selector/namespace, "
                "or ip_block."
            )
        if self.ip_block is not None and (self.pod_selector is not None or ns_sel):
            raise ValueError(
                "ip_block cannot be combined with pod_selector or a namespace selector in one "
                "peer (Kubernetes rejects it). Fix: make them two peers in the same rule."
            )
        if self.namespace is not None and self.namespace_selector is not None:
            raise ValueError(
                "namespace and namespace_selector are both set. Fix: keep one (namespace is "
                "shorthand for a selector on kubernetes.io/metadata.name)."
            )
        empty_pods = (
            self.pod_selector is not None
            and self.pod_selector.is_empty
            and not ns_sel
            and not self.select_all
        )
        if empty_pods:
            raise ValueError(
                "pod_selector is empty and there is no namespace selector, which selects every "
                "pod in the policy's namespace. Fix: give pod labels, or set select_all=True if "
                "you mean every pod in the namespace."
            )
        if (
            self.namespace_selector is not None
            and self.namespace_selector.is_empty
            and not self.select_all
        ):
            raise ValueError(
                "namespace_selector is empty, which selects every namespace in the cluster. "
                "Fix: give namespace labels or a namespace name, or set select_all=True if you "
                "mean every namespace."
            )
        any_empty = (self.pod_selector is not None and self.pod_selector.is_empty) or (
            self.namespace_selector is not None and self.namespace_selector.is_empty
        )
        if self.select_all and not any_empty:
            raise ValueError(
                "select_all is set but no selector is empty, so it does nothing. Fix: remove "
                "select_all."
            )
        return self

    def to_k8s(self) -> dict[str, Any]:
        if self.ip_block is not None:
            return {"ipBlock": self.ip_block.to_k8s()}
        out: dict[str, Any] = {}
        if self.namespace is not None:
            out["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: self.namespace}}
        elif self.namespace_selector is not None:
            out["namespaceSelector"] = self.namespace_selector.to_k8s()
        if self.pod_selector is not None:
            out["podSelector"] = self.pod_selector.to_k8s()
        return out


class PolicyPort(ArgsModel):
    """One `ports` entry: a port number, a port range (port..end_port) or a named container
    port, with its protocol. In a rule's `ports`, a bare int or name is shorthand for a TCP
    PolicyPort."""

    port: int | str | None = None
    """Port number (1-65535) or container port name (default None: every port of the
    protocol)."""
    end_port: int | None = None
    """Last port of a range starting at `port` (default None: a single port). Needs a numeric
    `port` and must not be below it."""
    protocol: str = "TCP"
    """`TCP` (default), `UDP` or `SCTP`: the protocols NetworkPolicy filters."""

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a port must be a number or a port name, not a bool.")
        if isinstance(v, int):
            return check_port(v)
        if isinstance(v, str):
            return _check_named_port(v)
        return v

    @field_validator("end_port")
    @classmethod
    def _end_port(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is None:
            return None
        check_port(v, what="end_port")
        if "port" not in info.data:  # port itself was invalid and is reported on its own
            return v
        port = info.data["port"]
        if port is None:
            raise ValueError("end_port is set without port. Fix: set port to the first port.")
        if isinstance(port, str):
            raise ValueError(
                f"end_port cannot follow a named port ({port!r}); Kubernetes port ranges are "
                "numeric. Fix: give the first port as a number."
            )
        if v < port:
            raise ValueError(f"end_port is below port ({port}). Fix: swap them, or raise end_port.")
        return v

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol(cls, v: Any) -> Any:
        if isinstance(v, str) and v in PROTOCOLS:
            return v
        if isinstance(v, str) and v.upper() in PROTOCOLS:
            raise ValueError(
                f"protocol names are upper case in Kubernetes. Fix: use {v.upper()!r}."
            )
        raise ValueError(
            "unknown protocol: NetworkPolicy filters TCP, UDP and SCTP only (gRPC and HTTP run "
            "over TCP; ICMP cannot be filtered by a NetworkPolicy). Fix: use 'TCP', 'UDP' or "
            "'SCTP'."
        )

    def to_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": self.protocol}
        if self.port is not None:
            out["port"] = self.port
        if self.end_port is not None:
            out["endPort"] = self.end_port
        return out


class PolicyRule(ArgsModel):
    """One ingress or egress rule: traffic from/to any of `peers` on any of `ports`.

    An empty `peers` or `ports` list means "everything" to Kubernetes, so each needs an explicit
    `any_peer=True` / `all_ports=True` instead.
    """

    peers: tuple[NetworkPeer, ...] = ()
    """Sources (ingress) or destinations (egress). Required unless any_peer."""
    ports: tuple[PolicyPort, ...] = ()
    """Ports on the destination pod or address; an int or a name is shorthand for a TCP port.
    Required unless all_ports."""
    any_peer: bool = False
    """Allow every source/destination, inside and outside the cluster (default False)."""
    all_ports: bool = False
    """Allow every port and protocol (default False)."""

    @field_validator("ports", mode="before")
    @classmethod
    def _port_shorthand(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return tuple(
                {"port": p} if isinstance(p, (int, str)) and not isinstance(p, bool) else p
                for p in v
            )
        return v

    @model_validator(mode="after")
    def _explicit(self) -> PolicyRule:
        if not self.peers and not self.any_peer:
            raise ValueError(
                "peers is empty, which Kubernetes reads as every source or destination, inside "
                "and outside the cluster. Fix: list the peers, or set any_peer=True if you mean "
                "anyone."
            )
        if self.peers and self.any_peer:
            raise ValueError("any_peer=True contradicts the listed peers. Fix: keep one.")
        if not self.ports and not self.all_ports:
            raise ValueError(
                "ports is empty, which Kubernetes reads as every port. Fix: list the ports "
                "(e.g. ports=(50051,)), or set all_ports=True if you mean every port."
            )
        if self.ports and self.all_ports:
            raise ValueError("all_ports=True contradicts the listed ports. Fix: keep one.")
        return self

    def to_k8s(self, direction: PolicyType) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.peers:
            out["from" if direction == "Ingress" else "to"] = [p.to_k8s() for p in self.peers]
        if self.ports:
            out["ports"] = [p.to_k8s() for p in self.ports]
        return out


class RawNetworkPolicy(ArgsModel):
    """A NetworkPolicy written rule by rule, for anything the intent-based allows do not cover.
    It is rendered exactly as written (name, labels, selectors, rules), in the ZeroTrustPolicy's
    namespace."""

    name: str
    """metadata.name of the NetworkPolicy, used verbatim."""
    pod_selector: LabelSelector
    """The pods the rules apply to (a label map is shorthand). An empty selector (every pod in
    the namespace) needs all_pods=True."""
    ingress: tuple[PolicyRule, ...] = ()
    """Allowed incoming traffic (default none)."""
    egress: tuple[PolicyRule, ...] = ()
    """Allowed outgoing traffic (default none)."""
    policy_types: tuple[PolicyType, ...] | None = None
    """`policyTypes` (default None: `Ingress` if there are ingress rules, `Egress` if there are
    egress rules). Listing a type without rules denies that direction for the selected pods."""
    labels: dict[str, str] = {}
    """metadata.labels (default none)."""
    all_pods: bool = False
    """Set True to apply the rules to every pod of the namespace (empty pod_selector). Default
    False, because an empty selector silently matches everything."""

    @field_validator("pod_selector", mode="before")
    @classmethod
    def _selector_shorthand(cls, v: Any) -> Any:
        return _as_selector_input(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_subdomain(v, what="NetworkPolicy name")

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RawNetworkPolicy:
        if self.pod_selector.is_empty and not self.all_pods:
            raise ValueError(
                "pod_selector is empty, which applies the rules to every pod in the namespace. "
                "Fix: give pod labels, or set all_pods=True if you mean every pod."
            )
        if self.all_pods and not self.pod_selector.is_empty:
            raise ValueError("all_pods=True contradicts a non-empty pod_selector. Fix: keep one.")
        types = self.policy_types
        if types is not None:
            if len(set(types)) != len(types):
                raise ValueError(f"policy_types {list(types)} repeats a type. Fix: list each once.")
            for direction, rules in (("Ingress", self.ingress), ("Egress", self.egress)):
                if rules and direction not in types:
                    raise ValueError(
                        f"{direction.lower()} rules are given but policy_types {list(types)} "
                        f"lacks {direction!r}, so Kubernetes would ignore them. Fix: add "
                        f"{direction!r} to policy_types, or leave policy_types unset."
                    )
        if not self.ingress and not self.egress and not types:
            raise ValueError(
                "the policy has no rules and no policy_types, so it changes nothing (the "
                "ZeroTrustPolicy already denies by default). Fix: add ingress/egress rules."
            )
        return self

    @property
    def effective_policy_types(self) -> list[PolicyType]:
        if self.policy_types is not None:
            return list(self.policy_types)
        out: list[PolicyType] = []
        if self.ingress:
            out.append("Ingress")
        if self.egress:
            out.append("Egress")
        return out


def render_raw_policy(namespace: str, policy: RawNetworkPolicy) -> dict[str, Any]:
    """The NetworkPolicy object for a raw policy, exactly as written (no labels added)."""
    metadata: dict[str, Any] = {"name": policy.name, "namespace": namespace}
    if policy.labels:
        metadata["labels"] = dict(policy.labels)
    spec: dict[str, Any] = {
        "podSelector": policy.pod_selector.to_k8s(),
        "policyTypes": policy.effective_policy_types,
    }
    if policy.ingress:
        spec["ingress"] = [r.to_k8s("Ingress") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [r.to_k8s("Egress") for r in policy.egress]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": spec,
    }


# --- component arguments and object references ---------------------------------------------


class ZeroTrustPolicyArgs(ArgsModel):
    """Arguments of ZeroTrustPolicy. Only `namespace` is required."""

    namespace: str
    """The namespace whose pods are isolated. One ZeroTrustPolicy per namespace."""
    dns: bool = True
    """Allow every pod UDP and TCP 53 to the cluster DNS pods (default True: a default-deny
    egress policy otherwise breaks every name lookup, including gRPC's `dns:///` targets)."""
    dns_namespace: str = "kube-system"
    """Namespace of the cluster DNS pods (default `kube-system`)."""
    dns_pod_labels: dict[str, str] = {"k8s-app": "kube-dns"}
    """Labels of the cluster DNS pods (default `k8s-app: kube-dns`, the label CoreDNS keeps for
    compatibility; Canonical Kubernetes uses `k8s-app: coredns`)."""
    linkerd_namespace: str = "linkerd"
    """Namespace of the Linkerd control plane, for the proxies' egress when meshed (default
    `linkerd`)."""
    metrics_from_namespaces: tuple[str, ...] = ()
    """Namespaces allowed to scrape the Linkerd proxies' admin port 4191, e.g. `linkerd-viz`
    or your Prometheus namespace (default none: closed, so `linkerd viz` shows no traffic
    metrics until you add its namespace). Needs a meshed namespace or meshed services."""
    raw_policies: tuple[RawNetworkPolicy, ...] = ()
    """Extra NetworkPolicies written rule by rule (default none)."""

    @field_validator("namespace", "dns_namespace", "linkerd_namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return _namespace(v)

    @field_validator("metrics_from_namespaces")
    @classmethod
    def _metrics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for ns in v:
            _namespace(ns)
        if len(set(v)) != len(v):
            raise ValueError("a namespace is listed twice. Fix: list each once.")
        return v

    @field_validator("dns_pod_labels")
    @classmethod
    def _dns_labels(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError(
                "empty labels would allow DNS to every pod of the DNS namespace. Fix: give the "
                "DNS pods' labels (e.g. {'k8s-app': 'kube-dns'})."
            )
        check_label_map(v)
        return v

    @model_validator(mode="after")
    def _not_system(self) -> ZeroTrustPolicyArgs:
        for other, what in (
            (self.dns_namespace, "cluster DNS"),
            (self.linkerd_namespace, "the Linkerd control plane"),
        ):
            if self.namespace == other:
                raise ValueError(
                    f"namespace {self.namespace!r} runs {what}; default-deny there cuts off "
                    "every pod that depends on it (and the API server's webhooks). Fix: protect "
                    "your application namespaces, not this one."
                )
        names = [p.name for p in self.raw_policies]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"raw_policies name {dup[0]!r} is used twice. Fix: rename one.")
        return self


@runtime_checkable
class IngressLike(Protocol):
    """What ZeroTrustPolicy reads from a GrpcIngress or a Gateway API gateway: the services it
    fronts and the controller pods that connect to them."""

    backends: tuple[GrpcServiceRef, ...]
    controller_peer: PeerRef


@runtime_checkable
class MeshNamespaceLike(Protocol):
    """What ZeroTrustPolicy reads from a MeshEnabledNamespace: its name and whether Linkerd
    injects its pods."""

    name: str
    meshed: bool


@dataclass(frozen=True)
class Allow:
    """Intent: pods of `client` may call `server` on the server's container port.

    Each accepts a GrpcService (or its `info`) or a PeerRef with `ports` (the server's ports are
    read from it; a GrpcService's health port is never opened to callers).
    """

    client: GrpcService | GrpcServiceRef | PeerRef
    server: GrpcService | GrpcServiceRef | PeerRef


# --- planning (plain functions, no engine) --------------------------------------------------


@dataclass(frozen=True)
class _Side:
    name: str
    peer: PeerRef

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (self.peer.namespace, tuple(sorted(self.peer.pod_labels.items())))


@dataclass
class _Workload:
    name: str
    labels: dict[str, str]
    meshed: bool
    ingress: list[dict[str, Any]] = field(default_factory=list)
    egress: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PolicyPlan:
    """What a ZeroTrustPolicy will create: NetworkPolicy objects keyed by Pulumi child suffix."""

    objects: list[tuple[str, dict[str, Any]]]
    warnings: list[str]
    meshed: bool


def _label_name(labels: Mapping[str, str]) -> str:
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if key in labels:
            return labels[key]
    return "workload"


def _side(obj: Any, where: str, problems: list[str], *, server: bool) -> _Side | None:
    if isinstance(obj, GrpcService):
        obj = obj.ref
    if isinstance(obj, GrpcServiceRef):
        return _Side(obj.name, obj.peer)
    if isinstance(obj, PeerRef):
        if not obj.pod_labels:
            problems.append(
                f"{where}: got a PeerRef with no pod_labels; it would select every pod of "
                f"namespace {obj.namespace!r}. Fix: give the pods' labels."
            )
            return None
        if server and not obj.ports:
            problems.append(
                f"{where}: got a PeerRef with no ports, so there is nothing to allow. Fix: pass "
                "the GrpcService, or a PeerRef with ports=(...)."
            )
            return None
        name = re.sub(r"[^a-z0-9-]+", "-", _label_name(obj.pod_labels).lower()).strip("-")
        return _Side(name[:40].rstrip("-") or "workload", obj)
    problems.append(
        f"{where}: got {type(obj).__name__}; a connection names the workloads it joins. Fix: "
        "pass a GrpcService (or its .ref), or a PeerRef for pods grpc-kube does not create."
    )
    return None


def _mesh_state(mesh: bool | MeshNamespaceLike, namespace: str, problems: list[str]) -> bool:
    if isinstance(mesh, bool):
        return mesh
    if isinstance(mesh, MeshNamespaceLike):
        if not isinstance(mesh.name, str) or mesh.name != namespace:
            problems.append(
                f"mesh: got the mesh namespace {mesh.name!r}, but this policy protects "
                f"{namespace!r}. Fix: pass the MeshEnabledNamespace of {namespace!r}, or "
                "mesh=True/False."
            )
            return False
        return bool(mesh.meshed)
    problems.append(
        f"mesh: got {type(mesh).__name__}; expected True/False or a MeshEnabledNamespace (an "
        "object with `name` and `meshed`). Fix: pass one of those."
    )
    return False


def _tcp(ports: Iterable[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def plan_policies(
    name: str,
    args: ZeroTrustPolicyArgs,
    *,
    connections: Sequence[Allow] = (),
    ingresses: Sequence[IngressLike] = (),
    mesh: bool | MeshNamespaceLike = False,
) -> PolicyPlan:
    """Everything ZeroTrustPolicy decides, without the engine: validates the object references
    and returns the NetworkPolicies to create. Raises InvalidArgumentError listing every
    problem."""
    where = f"ZeroTrustPolicy {name!r}"
    problems: list[str] = []
    try:
        check_dns_subdomain(name, what="ZeroTrustPolicy name")
    except ValueError as exc:
        problems.append(f"name: got {name!r}; it prefixes the NetworkPolicy names, and {exc}")
    ns = args.namespace
    ns_meshed = _mesh_state(mesh, ns, problems)

    # Every allowed connection as (client, server, where), from both kinds of intent.
    edges: list[tuple[_Side, _Side, str]] = []
    for i, conn in enumerate(connections):
        if not isinstance(conn, Allow):
            problems.append(
                f"connections[{i}]: got {type(conn).__name__}. Fix: write "
                "Allow(client_service, server_service)."
            )
            continue
        client = _side(conn.client, f"connections[{i}].client", problems, server=False)
        server = _side(conn.server, f"connections[{i}].server", problems, server=True)
        if client and server:
            edges.append((client, server, f"connections[{i}]"))
    for i, ing in enumerate(ingresses):
        if not isinstance(ing, IngressLike):
            problems.append(
                f"ingresses[{i}]: got {type(ing).__name__}, which has no `backends` and "
                "`controller_peer`. Fix: pass a GrpcIngress or a Gateway API gateway component."
            )
            continue
        controller = _side(
            ing.controller_peer, f"ingresses[{i}].controller_peer", problems, server=False
        )
        if controller is None:
            continue
        touches = controller.peer.namespace == ns
        for j, backend in enumerate(ing.backends):
            side = _side(backend, f"ingresses[{i}].backends[{j}]", problems, server=True)
            if side:
                edges.append((controller, side, f"ingresses[{i}].backends[{j}]"))
                touches = touches or side.peer.namespace == ns
        if not touches:
            problems.append(
                f"ingresses[{i}]: neither its controller (namespace "
                f"{controller.peer.namespace!r}) nor any backend is in namespace {ns!r}, so it "
                "needs no rule here. Fix: pass it to the ZeroTrustPolicy of a namespace it "
                "touches."
            )
    for client, server, at in edges:
        if at.startswith("connections") and ns not in (
            client.peer.namespace,
            server.peer.namespace,
        ):
            problems.append(
                f"{at}: {client.name} ({client.peer.namespace}) -> {server.name} "
                f"({server.peer.namespace}) has no side in namespace {ns!r}. Fix: declare it in "
                "the ZeroTrustPolicy of the client's and of the server's namespace."
            )

    workloads: dict[tuple[str, tuple[tuple[str, str], ...]], _Workload] = {}
    used_names: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}

    def workload(side: _Side) -> _Workload:
        key = side.key
        if key not in workloads:
            base, n = side.name, 2
            wname = base
            while wname in used_names and used_names[wname] != key:
                wname, n = f"{base}-{n}", n + 1
            used_names[wname] = key
            workloads[key] = _Workload(
                wname, dict(side.peer.pod_labels), meshed=ns_meshed or side.peer.meshed
            )
        return workloads[key]

    def selector_of(peer: PeerRef) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if peer.namespace != ns:
            out["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: peer.namespace}}
        out["podSelector"] = {"matchLabels": dict(peer.pod_labels)}
        return out

    def maybe_meshed(peer: PeerRef) -> bool:
        # A peer in another namespace may be meshed by its namespace's annotation, which this
        # policy cannot see; 4143 is then allowed whenever the local side is meshed. That is
        # harmless: a proxy's inbound port refuses direct connections without mesh mTLS.
        if peer.namespace != ns:
            return True
        return ns_meshed or peer.meshed

    for client, server, _at in edges:
        ports = list(server.peer.ports)
        if client.peer.namespace == ns:
            w = workload(client)
            out_ports = ports + (
                [LINKERD_PROXY_INBOUND_PORT] if w.meshed and maybe_meshed(server.peer) else []
            )
            rule = {"to": [selector_of(server.peer)], "ports": _tcp(out_ports)}
            if rule not in w.egress:
                w.egress.append(rule)
        if server.peer.namespace == ns:
            w = workload(server)
            in_ports = ports + (
                [LINKERD_PROXY_INBOUND_PORT] if w.meshed and maybe_meshed(client.peer) else []
            )
            rule = {"from": [selector_of(client.peer)], "ports": _tcp(in_ports)}
            if rule not in w.ingress:
                w.ingress.append(rule)

    any_meshed = ns_meshed or any(w.meshed for w in workloads.values())
    if args.metrics_from_namespaces and not any_meshed:
        problems.append(
            f"metrics_from_namespaces: got {list(args.metrics_from_namespaces)}, but nothing in "
            f"namespace {ns!r} is meshed, so there is no proxy admin port to scrape. Fix: pass "
            "mesh=True (or the MeshEnabledNamespace), or remove metrics_from_namespaces."
        )
    if problems:
        raise InvalidArgumentError(where, problems)

    warnings: list[str] = []
    if any_meshed and not args.dns:
        warnings.append(
            f"{where}: dns=False in a meshed namespace: Linkerd proxies resolve the control "
            "plane (linkerd-dst-headless, linkerd-identity-headless, linkerd-policy) by DNS and "
            "never become ready without it. Add a raw egress rule to your DNS servers."
        )

    managed = {"app.kubernetes.io/managed-by": "grpc-kube", "app.kubernetes.io/part-of": name}

    def policy(suffix: str, spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        k8s_name = f"{name}-{suffix}"
        return suffix, {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": k8s_name, "namespace": ns, "labels": dict(managed)},
            "spec": spec,
        }

    objects = [policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})]
    if args.dns:
        dns_peer = {
            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: args.dns_namespace}},
            "podSelector": {"matchLabels": dict(args.dns_pod_labels)},
        }
        objects.append(
            policy(
                "dns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [dns_peer],
                            "ports": [
                                {"protocol": "UDP", "port": DNS_PORT},
                                {"protocol": "TCP", "port": DNS_PORT},
                            ],
                        }
                    ],
                },
            )
        )

    def linkerd_spec(pod_selector: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": ["Egress"]}
        if args.metrics_from_namespaces:
            spec["policyTypes"] = ["Ingress", "Egress"]
            spec["ingress"] = [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: m}}}
                        for m in args.metrics_from_namespaces
                    ],
                    "ports": _tcp([LINKERD_PROXY_ADMIN_PORT]),
                }
            ]
        spec["egress"] = [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {NAMESPACE_NAME_LABEL: args.linkerd_namespace}
                        }
                    }
                ],
                "ports": _tcp(LINKERD_CONTROL_PLANE_PORTS),
            }
        ]
        return spec

    if ns_meshed:
        objects.append(policy("linkerd", linkerd_spec({})))
    for w in workloads.values():
        selector = {"matchLabels": dict(w.labels)}
        if w.ingress:
            objects.append(
                policy(
                    f"{w.name}-ingress",
                    {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": w.ingress},
                )
            )
        if w.egress:
            objects.append(
                policy(
                    f"{w.name}-egress",
                    {"podSelector": selector, "policyTypes": ["Egress"], "egress": w.egress},
                )
            )
        if w.meshed and not ns_meshed:
            objects.append(policy(f"{w.name}-linkerd", linkerd_spec(selector)))
    for raw in args.raw_policies:
        objects.append((f"raw-{raw.name}", render_raw_policy(ns, raw)))

    seen: set[str] = set()
    for _suffix, obj in objects:
        k8s_name = obj["metadata"]["name"]
        if k8s_name in seen:
            problems.append(
                f"raw_policies: NetworkPolicy name {k8s_name!r} is also generated by this "
                "ZeroTrustPolicy. Fix: rename the raw policy."
            )
        elif len(k8s_name) > 253:
            problems.append(
                f"name: got {name!r}; the NetworkPolicy name {k8s_name[:60]!r}... is longer than "
                "Kubernetes' 253 characters. Fix: use a shorter ZeroTrustPolicy name."
            )
        seen.add(k8s_name)
    if problems:
        raise InvalidArgumentError(where, problems)
    return PolicyPlan(objects, warnings, ns_meshed)


# --- the component --------------------------------------------------------------------------


class ZeroTrustPolicy(Component):
    """Default-deny NetworkPolicies for one namespace, with DNS, declared connections, ingress
    backends, Linkerd's needs when meshed, and raw policies allowed explicitly."""

    namespace: pulumi.Output[str]
    policy_names: pulumi.Output[list[str]]
    objects: tuple[dict[str, Any], ...]
    """The NetworkPolicy objects as sent (plain values), e.g. for reachability checks."""
    meshed: bool

    def __init__(
        self,
        name: str,
        args: ZeroTrustPolicyArgs,
        *,
        connections: Sequence[Allow] = (),
        ingresses: Sequence[IngressLike] = (),
        mesh: bool | MeshNamespaceLike = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not isinstance(args, ZeroTrustPolicyArgs):
            raise TypeError(
                f"ZeroTrustPolicy {name!r}: args must be a ZeroTrustPolicyArgs, got "
                f"{type(args).__name__}. Fix: ZeroTrustPolicy(name, "
                "ZeroTrustPolicyArgs(namespace=...), connections=[...])."
            )
        plan = plan_policies(name, args, connections=connections, ingresses=ingresses, mesh=mesh)
        super().__init__("ZeroTrustPolicy", name, opts)
        self.args = args
        self.meshed = plan.meshed
        self.objects = tuple(obj for _, obj in plan.objects)
        for warning in plan.warnings:
            pulumi.log.warn(warning, resource=self)
        # Namespaced objects need their namespace: wait for it when it is a resource here.
        depends_on = [mesh] if isinstance(mesh, pulumi.Resource) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        created = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}", metadata=obj["metadata"], spec=obj["spec"], opts=child
            )
            for suffix, obj in plan.objects
        ]
        names = [obj["metadata"]["name"] for _, obj in plan.objects]
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.policy_names = pulumi.Output.all(*[p.id for p in created]).apply(lambda _: names)
        self.register_outputs({"namespace": self.namespace, "policy_names": self.policy_names})
