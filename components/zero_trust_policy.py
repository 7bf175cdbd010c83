"""ZeroTrustPolicy: default-deny NetworkPolicies for one namespace, plus the allows the stack
needs, written from the objects that need them.

Kubernetes lets every pod reach every other pod until a NetworkPolicy selects it. This component
isolates every pod of a namespace for ingress and egress, then opens only what was declared:
"GrpcService A may call GrpcService B" (ports read from B, never typed), "this ingress or gateway
may reach the services it fronts", DNS, and, when the namespace is meshed, what Linkerd's proxies
need (peer proxies on 4143, the control plane's identity pods on 8080 and destination pods on
8086/8090). Anything else is a typed raw rule, validated before anything registers.
NetworkPolicies are L3/L4 only; inside the mesh, Linkerd's own authorization policy is the L7
control.

Namespaces, labels, ports and CIDRs may be Outputs of other resources (a namespace from a
Namespace resource orders every policy after it). Which NetworkPolicies exist is still decided
when the program runs, from plain facts; see ZeroTrustPolicy for what must be plain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import pulumi
import pulumi_kubernetes as k8s
import pydantic
from pydantic import ValidationInfo

from ._inputs import DeferredChecks, contains_output, gate, is_output, lift
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    check_each,
    check_label_map,
    check_port,
    field_validator,
    model_validator,
    validate_model,
)
from .grpc_service import GrpcService, GrpcServiceRef
from .linkerd_control_plane import CONTROL_PLANE_PORTS as LINKERD_CONTROL_PLANE_PORTS
from .linkerd_control_plane import PROXY_ADMIN_PORT as LINKERD_PROXY_ADMIN_PORT
from .linkerd_control_plane import PROXY_INBOUND_PORT as LINKERD_PROXY_INBOUND_PORT
from .peers import PeerRef

__all__ = [
    "ANYWHERE",
    "DNS_PORT",
    "LINKERD_COMPONENT_LABEL",
    "LINKERD_CONTROL_PLANE_PORTS",
    "LINKERD_CONTROL_PLANE_SERVERS",
    "LINKERD_PROXY_ADMIN_PORT",
    "LINKERD_PROXY_INBOUND_PORT",
    "NAMESPACE_NAME_LABEL",
    "Allow",
    "EdgePeer",
    "EdgeWorkload",
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
    "check_edge_cidrs",
    "plan_policies",
    "render_raw_policy",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Immutable label the API server puts on every namespace (GA since Kubernetes 1.22)."""
DNS_PORT = 53

_IDENTITY_PORT, _DESTINATION_PORT, _POLICY_PORT = LINKERD_CONTROL_PLANE_PORTS
LINKERD_COMPONENT_LABEL = "linkerd.io/control-plane-component"
"""Label the linkerd-control-plane chart puts on each control-plane pod, naming its component."""
LINKERD_CONTROL_PLANE_SERVERS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("identity", (_IDENTITY_PORT,)),
    ("destination", (_DESTINATION_PORT, _POLICY_PORT)),
)
"""What a proxy dials in the Linkerd control plane, by the component of the pods that serve it
(`linkerd.io/control-plane-component`): identity on 8080; destination on 8086 and, in its
`policy` container, the policy controller on 8090 (linkerd-control-plane chart, edge-26.8.3:
templates/identity.yaml, templates/destination.yaml, and the proxy's
LINKERD2_PROXY_{IDENTITY,DESTINATION,POLICY}_SVC_ADDR in partials/templates/_proxy.tpl)."""

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


def _show(value: Any) -> str:
    """A value for an error message: its repr, or "(an Output)" when it is not known yet."""
    return "(an Output)" if contains_output(value) else repr(value)


def _text(value: Any) -> str:
    """A value inside prose: as it is, or "(an Output)"."""
    return "(an Output)" if contains_output(value) else str(value)


def _labels(value: Any) -> Any:
    """A label map as sent: a copy of a plain map, an Output as it is."""
    return dict(value) if isinstance(value, Mapping) else value


def _as_selector_input(value: Any) -> Any:
    """Accept a plain label map as shorthand for `LabelSelector(match_labels=...)`."""
    if isinstance(value, Mapping) and not (
        set(value) <= {"match_labels", "match_expressions"}
        and any(not isinstance(v, str) for v in value.values())
    ):
        return {"match_labels": dict(value)}
    return value


# --- raw, typed rules -----------------------------------------------------------------------
#
# Values (label keys and values, namespaces, CIDRs, ports, protocols) may be Outputs: rendered
# once they resolve, after the same checks. The shape of a rule (which peers, rules and
# selectors exist, the operators, the switches) stays plain. A shorthand (a label map for a
# selector, an int for a port) is a shape, so it is converted with pydantic's own validators,
# whatever Outputs it holds.


class LabelSelectorRequirement(ArgsModel):
    """One `matchExpressions` entry of a label selector."""

    key: pulumi.Input[str]
    """Label key the expression tests."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """`In`/`NotIn` compare the label's value with `values`; `Exists`/`DoesNotExist` test the
    key only. Plain: it decides whether `values` is sent."""
    values: pulumi.Input[list[pulumi.Input[str]]] = []
    """Values for `In`/`NotIn` (required there); must be empty for `Exists` and
    `DoesNotExist`."""

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        check_label_map({v: ""}, what="label selector")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v: list[str], info: ValidationInfo) -> list[str]:
        key = info.data.get("key")
        key = key if isinstance(key, str) else "key"
        check_each(
            v,
            lambda value: check_label_map({key: value}, what="label selector"),
            title="LabelSelectorRequirement",
        )
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
        """The Kubernetes form (of resolved values)."""
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        values: Any = self.values
        if values:
            out["values"] = list(values)
        return out


class LabelSelector(ArgsModel):
    """A Kubernetes label selector. Anywhere a selector is taken, a plain `{"key": "value"}` map
    is shorthand for `LabelSelector(match_labels={...})`."""

    match_labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
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
        """True when the selector matches everything (`{}`). Labels that are an Output count as
        not empty here; the checks that need to know run again once they resolve."""
        if is_output(self.match_labels):
            return False
        return not self.match_labels and not self.match_expressions

    def to_k8s(self) -> dict[str, Any]:
        """The Kubernetes form (of resolved values)."""
        out: dict[str, Any] = {}
        labels: Any = self.match_labels
        if labels:
            out["matchLabels"] = dict(labels)
        if self.match_expressions:
            out["matchExpressions"] = [e.to_k8s() for e in self.match_expressions]
        return out


class IpBlock(ArgsModel):
    """An address range (`ipBlock`): meant for addresses outside the cluster, since pod IPs
    change."""

    cidr: pulumi.Input[str]
    """The range, e.g. `172.17.0.0/16` or `2001:db8::/64` (canonical form, mask required)."""
    except_: pulumi.Input[list[pulumi.Input[str]]] = []
    """Sub-ranges to leave out (Kubernetes `except`; default none). Each must lie strictly
    inside `cidr`; every bad entry is reported, each under its index."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return check_cidr(v)

    @field_validator("except_")
    @classmethod
    def _except(cls, v: list[str], info: ValidationInfo) -> list[str]:
        cidr = info.data.get("cidr")
        # No plain, valid cidr: it was reported on its own, or is an Output whose value is
        # compared with these entries when it resolves.
        net = ipaddress.ip_network(cidr) if isinstance(cidr, str) else None

        def one(item: str) -> None:
            check_cidr(item, what="except CIDR")
            if net is None:
                return
            sub = ipaddress.ip_network(item)
            if sub.version != net.version or not sub.subnet_of(net) or sub == net:  # type: ignore[arg-type]
                raise ValueError(
                    f"{item!r} is not strictly inside cidr {cidr!r}; Kubernetes rejects an except "
                    "entry that is not a smaller range within cidr. Fix: use a sub-range of "
                    f"{cidr} (a longer prefix inside it), or widen cidr."
                )

        check_each(v, one, title="IpBlock")
        return v

    def to_k8s(self) -> dict[str, Any]:
        """The Kubernetes form (of resolved values)."""
        out: dict[str, Any] = {"cidr": self.cidr}
        excluded: Any = self.except_
        if excluded:
            out["except"] = list(excluded)
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
    namespace: pulumi.Input[str] | None = None
    """Shorthand for a namespace_selector on `kubernetes.io/metadata.name` (default None)."""
    ip_block: IpBlock | None = None
    """An address range (default None); cannot be combined with selectors in one peer."""
    select_all: bool = False
    """Set True to allow an empty selector on purpose (`pod_selector={}`: every pod in the
    policy's namespace; `namespace_selector={}`: every pod in every namespace). Default False,
    because an empty selector silently matches everything."""

    @pydantic.field_validator("pod_selector", "namespace_selector", mode="before")
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
        """The Kubernetes form (of resolved values)."""
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
    port, with its protocol. In a rule's `ports`, a bare int or name (or an Output of one) is
    shorthand for a TCP PolicyPort."""

    port: pulumi.Input[int | str] | None = None
    """Port number (1-65535) or container port name (default None: every port of the
    protocol)."""
    end_port: pulumi.Input[int] | None = None
    """Last port of a range starting at `port` (default None: a single port). Needs a numeric
    `port` and must not be below it."""
    protocol: pulumi.Input[str] = "TCP"
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
        if is_output(port):  # compared once it resolves
            return v
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
        """The Kubernetes form (of resolved values)."""
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
    """Ports on the destination pod or address; an int or a name (or an Output of one) is
    shorthand for a TCP port. Required unless all_ports."""
    any_peer: bool = False
    """Allow every source/destination, inside and outside the cluster (default False)."""
    all_ports: bool = False
    """Allow every port and protocol (default False)."""

    @pydantic.field_validator("ports", mode="before")
    @classmethod
    def _port_shorthand(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return tuple(
                {"port": p}
                if (isinstance(p, (int, str)) and not isinstance(p, bool)) or is_output(p)
                else p
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
        """The Kubernetes form (of resolved values)."""
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
    """metadata.name of the NetworkPolicy, used verbatim. Plain: it also names the Pulumi
    resource (`<component>-raw-<name>`), which must be known when the program runs."""
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
    labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """metadata.labels (default none)."""
    all_pods: bool = False
    """Set True to apply the rules to every pod of the namespace (empty pod_selector). Default
    False, because an empty selector silently matches everything."""

    @pydantic.field_validator("pod_selector", mode="before")
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


def render_raw_policy(namespace: pulumi.Input[str], policy: RawNetworkPolicy) -> Any:
    """The NetworkPolicy object for a raw policy, exactly as written (no labels added); an
    Output of it when the namespace or a value in the policy is one."""
    return lift(_render_raw_policy, namespace, policy)


def _render_raw_policy(namespace: str, policy: RawNetworkPolicy) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": policy.name, "namespace": namespace}
    labels: Any = policy.labels
    if labels:
        metadata["labels"] = dict(labels)
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


# --- edge workloads --------------------------------------------------------------------------


ANYWHERE = ("0.0.0.0/0", "::/0")
"""Every IPv4 and IPv6 address: the default source of an edge's entry and webhook ports."""


def _check_cidr_list(v: list[str], *, title: str, empty: str) -> list[str]:
    if not v:
        raise ValueError(empty)
    check_each(v, check_cidr, title=title)
    if len(set(v)) != len(v):
        raise ValueError("a CIDR is listed twice. Fix: list each once.")
    return v


def check_edge_cidrs(v: list[str], *, title: str) -> list[str]:
    """A list of source or destination networks for edge traffic: not empty (that would deny
    the traffic outright), each a canonical CIDR (every bad entry reported under its index),
    none twice."""
    return _check_cidr_list(
        v,
        title=title,
        empty=(
            "an empty list would leave that traffic denied. Fix: list the networks, or keep "
            "the default."
        ),
    )


def _check_port_list(v: Sequence[Any], *, title: str) -> Sequence[Any]:
    def one(port: Any) -> None:
        if is_output(port):
            return  # checked when it resolves (the args are gated)
        if isinstance(port, bool) or not isinstance(port, int):
            raise ValueError(f"a port must be a number, got {port!r}. Fix: give e.g. 443.")
        check_port(port)

    check_each(v, one, title=title)
    plain_ports = [p for p in v if not is_output(p)]
    if len(set(plain_ports)) != len(plain_ports):
        raise ValueError("a port is listed twice. Fix: list each once.")
    return v


def _edge_labels(v: Any) -> Any:
    if isinstance(v, Mapping):
        check_label_map(v, what="pod_labels")
        if not v:
            raise ValueError(
                "an empty selector would select every pod of the namespace. Fix: give the "
                "pods' labels."
            )
    return v


class EdgePeer(ArgsModel):
    """Pods in another namespace that an edge workload exchanges traffic with, e.g. NGINX
    Gateway Fabric's control plane for a gateway's data plane (and the data plane for the
    control plane)."""

    namespace: pulumi.Input[str]
    """The pods' namespace."""
    pod_labels: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Labels that select exactly those pods (not empty)."""
    ports: tuple[pulumi.Input[int], ...]
    """The destination ports of the connection: the edge workload's own ports in `allow_from`,
    the peer's ports in `allow_to` (at least one)."""

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return _namespace(v)

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        return _edge_labels(v)  # type: ignore[no-any-return]

    @pydantic.field_validator("ports")
    @classmethod
    def _ports(cls, v: tuple[Any, ...]) -> tuple[Any, ...]:
        if not v:
            raise ValueError("no ports, so nothing would be allowed. Fix: list the ports.")
        _check_port_list(v, title="EdgePeer")
        return v


class EdgeWorkload(ArgsModel):
    """Pods at the edge of the cluster, in the ZeroTrustPolicy's namespace: an ingress
    controller, a gateway's data plane, a gateway control plane, or a chart's Job that talks to
    the Kubernetes API. Traffic they exchange with the outside world cannot be written as a
    connection between workloads, so it is declared here; the backends they front still come
    from `ingresses=` (their egress, with 4143 when meshed).

    `NginxIngressController.edge_workloads`, `NginxGatewayFabric.edge_workloads(...)` and
    `GrpcGateway.edge_workload` describe the pods their charts run; build one yourself for
    another controller."""

    name: str
    """Names its NetworkPolicies: `<prefix>-<name>-ingress`, `-egress` and (meshed, in an
    unmeshed namespace) `-linkerd`. The pods' Deployment or Job name reads best. Plain: it
    names resources."""
    pod_labels: dict[str, str]
    """Labels that select exactly these pods (not empty). Plain: policies are merged by labels,
    so the controller's egress to the backends of `ingresses=` lands in the same policy."""
    entry_ports: tuple[pulumi.Input[int], ...] = ()
    """Container ports clients outside the cluster (the load balancer) connect to, opened to
    the policy's `edge_client_cidrs` (default none)."""
    webhook_ports: tuple[pulumi.Input[int], ...] = ()
    """Container ports of admission webhooks the API server calls, opened to the policy's
    `webhook_client_cidrs` (default none)."""
    kubernetes_api: bool = False
    """The pods call the Kubernetes API (controllers, certificate Jobs): egress to the
    policy's `kubernetes_api_cidrs` on `kubernetes_api_ports` (default False). Plain: it
    decides whether the rule exists."""
    metrics_ports: tuple[pulumi.Input[int], ...] = ()
    """Prometheus ports of the pods, opened only to the policy's `metrics_from_namespaces`
    (default none: closed)."""
    meshed: bool = False
    """The pods run a Linkerd proxy (default False): they then also get egress to the Linkerd
    control plane (and 4191 from `metrics_from_namespaces`). Plain: it decides which policies
    exist."""
    allow_from: tuple[EdgePeer, ...] = ()
    """Pods in other namespaces that may connect to these, on `ports` of these pods (default
    none)."""
    allow_to: tuple[EdgePeer, ...] = ()
    """Pods in other namespaces these may connect to, on `ports` of those pods (default
    none)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_subdomain(v, what="edge workload name")

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        return _edge_labels(v)  # type: ignore[no-any-return]

    @pydantic.field_validator("entry_ports", "webhook_ports", "metrics_ports")
    @classmethod
    def _ports(cls, v: tuple[Any, ...]) -> tuple[Any, ...]:
        _check_port_list(v, title="EdgeWorkload")
        return v

    @pydantic.model_validator(mode="after")
    def _allows_something(self) -> EdgeWorkload:
        if not (
            self.entry_ports
            or self.webhook_ports
            or self.kubernetes_api
            or self.metrics_ports
            or self.meshed
            or self.allow_from
            or self.allow_to
        ):
            raise ValueError(
                f"edge workload {self.name!r} declares no traffic, so it adds nothing to the "
                "default deny. Fix: set entry_ports, webhook_ports, kubernetes_api, "
                "metrics_ports, allow_from or allow_to, or leave the workload out."
            )
        return self


# --- component arguments and object references ---------------------------------------------


class ZeroTrustPolicyArgs(ArgsModel):
    """Arguments of ZeroTrustPolicy. Only `namespace` is required."""

    namespace: pulumi.Input[str]
    """The namespace whose pods are isolated. One ZeroTrustPolicy per namespace. Given as the
    name Output of a Namespace resource, every policy waits for that namespace."""
    dns: bool = True
    """Allow every pod UDP and TCP 53 to the cluster DNS pods (default True: a default-deny
    egress policy otherwise breaks every name lookup, including gRPC's `dns:///` targets).
    Plain: it decides whether the DNS policy exists."""
    dns_namespace: pulumi.Input[str] = "kube-system"
    """Namespace of the cluster DNS pods (default `kube-system`)."""
    dns_pod_labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {"k8s-app": "kube-dns"}
    """Labels of the cluster DNS pods (default `k8s-app: kube-dns`, the label CoreDNS keeps for
    compatibility; Canonical Kubernetes uses `k8s-app: coredns`)."""
    linkerd_namespace: pulumi.Input[str] = "linkerd"
    """Namespace of the Linkerd control plane, for the proxies' egress when meshed (default
    `linkerd`)."""
    metrics_from_namespaces: pulumi.Input[list[pulumi.Input[str]]] = []
    """Namespaces allowed to scrape the Linkerd proxies' admin port 4191, e.g. `linkerd-viz`
    or your Prometheus namespace, and the `metrics_ports` of edge workloads (default none:
    closed, so `linkerd viz` shows no traffic metrics until you add its namespace). Needs a
    meshed namespace, meshed services, or an edge workload with metrics_ports."""
    name_prefix: str | None = None
    """Prefix of the generated NetworkPolicy names and of their `app.kubernetes.io/part-of`
    label (default: the component's name). Plain: the names are known when the program runs."""
    raw_policies: tuple[RawNetworkPolicy, ...] = ()
    """Extra NetworkPolicies written rule by rule (default none). The list is plain (each entry
    is one NetworkPolicy); values inside the rules may be Outputs."""
    edge: tuple[EdgeWorkload, ...] = ()
    """Edge pods in this namespace (ingress controller, gateway data plane or control plane,
    their charts' Jobs) and the traffic they exchange with the world: entry ports, webhook
    ports, the Kubernetes API, metrics, other namespaces' pods (default none). The list is
    plain; ports and CIDRs may be Outputs."""
    edge_client_cidrs: pulumi.Input[list[pulumi.Input[str]]] = list(ANYWHERE)
    """Sources allowed to reach the edge workloads' `entry_ports` (default everywhere,
    `0.0.0.0/0` and `::/0`: an entry point serves the internet). Narrow it to your clients'
    or load balancer's ranges; with a LoadBalancer Service whose `externalTrafficPolicy` is
    `Cluster`, connections arrive from node addresses, so include the node CIDRs. Every bad
    entry is reported, under its index."""
    webhook_client_cidrs: pulumi.Input[list[pulumi.Input[str]]] = list(ANYWHERE)
    """Sources allowed to call the edge workloads' `webhook_ports`: the API server's addresses
    as the pods see them (default everywhere, since they differ by cluster: the control plane
    nodes, or node addresses when the API server reaches webhooks through a tunnel such as
    konnectivity). Narrow it where they are known; a webhook with `failurePolicy: Fail` that
    the API server cannot reach blocks every object it validates."""
    kubernetes_api_cidrs: pulumi.Input[list[pulumi.Input[str]]] = ["0.0.0.0/0"]
    """Where edge workloads with `kubernetes_api` reach the API server (default `0.0.0.0/0`:
    its address differs by cluster). Narrow it to the API server's endpoint addresses
    (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`); add
    `::/0` or the IPv6 endpoints on an IPv6 cluster."""
    kubernetes_api_ports: pulumi.Input[list[pulumi.Input[int]]] = [443, 6443]
    """Ports of the API server's endpoints (default 443 and 6443). Pods dial the `kubernetes`
    Service on 443, but a NetworkPolicy is enforced after kube-proxy (or the eBPF dataplane)
    has translated the Service address to an endpoint, so the rule must name the port the API
    server itself listens on: 443 on many managed clusters, 6443 on kubeadm, kind, k3s and most
    self-managed ones (the endpointslice above shows it). Both by default, so a controller is
    not cut off from the API on either kind of cluster; keep only yours to narrow it."""

    @field_validator("namespace", "dns_namespace", "linkerd_namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return _namespace(v)

    @field_validator("metrics_from_namespaces")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        check_each(v, _namespace, title="ZeroTrustPolicyArgs")
        if len(set(v)) != len(v):
            raise ValueError("a namespace is listed twice. Fix: list each once.")
        return v

    @field_validator("edge_client_cidrs", "webhook_client_cidrs", "kubernetes_api_cidrs")
    @classmethod
    def _edge_cidrs(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return _check_cidr_list(
            v,
            title="ZeroTrustPolicyArgs",
            empty=(
                f"an empty {info.field_name} would leave that traffic denied. Fix: list the "
                "networks, or keep the default."
            ),
        )

    @field_validator("kubernetes_api_ports")
    @classmethod
    def _api_ports(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError(
                "no port would leave the controllers without the Kubernetes API. Fix: give the "
                "API server's endpoint port(s), or keep the default [443, 6443]."
            )
        check_each(
            v, lambda p: check_port(p, what="kubernetes_api_ports"), title="ZeroTrustPolicyArgs"
        )
        return v

    @pydantic.model_validator(mode="after")
    def _unique_edges(self) -> ZeroTrustPolicyArgs:
        names = [e.name for e in self.edge]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"edge workload name {dup[0]!r} is used twice. Fix: rename one.")
        keys = [tuple(sorted(e.pod_labels.items())) for e in self.edge]
        for i, key in enumerate(keys):
            if key in keys[:i]:
                raise ValueError(
                    f"edge workloads {self.edge[keys.index(key)].name!r} and "
                    f"{self.edge[i].name!r} select the same pods ({dict(key)}). Fix: merge "
                    "them into one."
                )
        return self

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

    # pydantic's validator, which runs even when other fields (say a raw policy's labels) are
    # Outputs: plain namespaces are compared at once, Outputs once they resolve.
    @pydantic.model_validator(mode="after")
    def _not_system(self) -> ZeroTrustPolicyArgs:
        for other, what in (
            (self.dns_namespace, "cluster DNS"),
            (self.linkerd_namespace, "the Linkerd control plane"),
        ):
            if is_output(self.namespace) or is_output(other):
                continue
            if self.namespace == other:
                raise ValueError(
                    f"namespace {self.namespace!r} runs {what}; default-deny there cuts off "
                    "every pod that depends on it (and the API server's webhooks). Fix: protect "
                    "your application namespaces, not this one."
                )
        return self

    # Raw policy names are plain (they name resources), so duplicates are refused at once even
    # when other values here are Outputs: pydantic's validator, which does not skip them.
    @pydantic.model_validator(mode="after")
    def _unique_raw_names(self) -> ZeroTrustPolicyArgs:
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
    """What ZeroTrustPolicy reads from a MeshEnabledNamespace: its name (plain or an Output) and
    whether Linkerd injects its pods (plain)."""

    @property
    def name(self) -> pulumi.Input[str]: ...

    @property
    def meshed(self) -> bool: ...


@dataclass(frozen=True)
class Allow:
    """Intent: pods of `client` may call `server` on the server's container port.

    Each side is a GrpcService, its `ref` (a GrpcServiceRef, also for a service deployed
    elsewhere), or a PeerRef with `ports` for pods grpc-kube does not create (the server's
    ports are read from it; a GrpcService's health port is never opened to callers).
    """

    client: GrpcService | GrpcServiceRef | PeerRef
    """The calling pods."""
    server: GrpcService | GrpcServiceRef | PeerRef
    """The called pods."""


# --- planning (plain functions, no engine) --------------------------------------------------


@dataclass(frozen=True)
class _Side:
    at: str
    """Where the side was given (`connections[0].server`), for error messages."""
    name: Any
    """The workload's name in policy names (plain, or an Output / None when unknown)."""
    peer: PeerRef


@dataclass
class _Workload:
    name: str
    labels: dict[str, str]
    meshed: bool
    ingress: list[dict[str, Any]] = field(default_factory=list)
    egress: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PolicyPlan:
    """What a ZeroTrustPolicy will create: NetworkPolicy objects keyed by Pulumi child suffix.
    Values are plain when every input is; Outputs sit where inputs were Outputs."""

    objects: list[tuple[str, dict[str, Any]]]
    warnings: list[str]
    meshed: bool
    names: list[str] = field(default_factory=list)
    """The NetworkPolicy names (always plain), in the order of `objects`."""


class _Scope:
    """Decides, when the program runs, which sides of a connection are in the policy's
    namespace: that decides which NetworkPolicies exist.

    Plain names compare by value. Two Outputs (the usual case: both are the name of one
    Namespace resource) are taken to be the same namespace; a plain name and an Output are taken
    to be different namespaces. Either assumption is checked when the values resolve, and a
    wrong one fails the deployment naming the property, before any policy is sent."""

    def __init__(self, namespace: Any, deferred: DeferredChecks) -> None:
        self.namespace = namespace
        self._deferred = deferred
        self._assumed: set[str] = set()

    def local(self, value: Any, at: str) -> bool:
        """Whether `value` (a side's namespace) is this policy's namespace."""
        ns = self.namespace
        if value is ns:
            return True
        if not is_output(value) and not is_output(ns):
            return bool(value == ns)
        same = is_output(value) and is_output(ns)
        if at not in self._assumed:
            self._assumed.add(at)
            self._deferred.check(_assumption_check(at, same), value, ns)
        return same

    def same(self, value: Any, at: str) -> bool:
        """For a value declared to be this namespace (a MeshEnabledNamespace's name): compared
        now when both are plain, else taken to match and compared when they resolve."""
        ns = self.namespace
        if value is ns:
            return True
        if not is_output(value) and not is_output(ns):
            return bool(value == ns)
        if at not in self._assumed:
            self._assumed.add(at)
            self._deferred.check(_declared_check(at), value, ns)
        return True


def _assumption_check(at: str, same: bool) -> Callable[[Any, Any], list[str]]:
    def check(value: Any, ns: Any) -> list[str]:
        if (value == ns) == same:
            return []
        if same:
            return [
                f"{at}: resolved to namespace {value!r}, but this policy protects {ns!r}. Both "
                "were Outputs, which are taken to be the same namespace (so its pods got "
                "NetworkPolicies here). Fix: give the namespaces of connections across "
                "namespaces as plain names."
            ]
        return [
            f"{at}: resolved to {value!r}, this policy's own namespace, but one of the two was "
            "an Output and the other a plain name, which are taken to be different namespaces "
            "(so its pods got no NetworkPolicies here). Fix: give both the same way: plain "
            "names, or both the name Output of the one Namespace resource."
        ]

    return check


def _declared_check(at: str) -> Callable[[Any, Any], list[str]]:
    def check(value: Any, ns: Any) -> list[str]:
        if value == ns:
            return []
        return [
            f"{at}: resolved to {value!r}, but this policy protects {ns!r}. Fix: pass the "
            "MeshEnabledNamespace of this namespace, or mesh=True/False."
        ]

    return check


def _mixed_hint(*values: Any) -> str:
    if any(is_output(v) for v in values):
        return (
            " (Namespaces are compared when the program runs, and a plain name never counts as "
            "the same namespace as an Output: give the policy's namespace and its pods' the "
            "same way.)"
        )
    return ""


def _label_name(labels: Mapping[str, str]) -> str:
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if key in labels:
            return labels[key]
    return "workload"


def _nonempty_labels(at: str, namespace: Any) -> Callable[[Any], list[str]]:
    def check(labels: Any) -> list[str]:
        if labels:
            return []
        return [
            f"{at}: the PeerRef's pod_labels resolved to {labels!r}; it would select every pod "
            f"of namespace {_show(namespace)}. Fix: give the pods' labels."
        ]

    return check


def _side(
    obj: Any,
    at: str,
    problems: list[str],
    deferred: DeferredChecks,
    *,
    server: bool,
    where: str,
    gated: dict[int, GrpcServiceRef],
) -> _Side | None:
    if isinstance(obj, GrpcService):
        obj = obj.ref
    if isinstance(obj, GrpcServiceRef):
        # A ref built by hand holds values no component has checked: they are checked here,
        # by GrpcServiceRef's rules, when they resolve (a GrpcService's own are already). One
        # gated copy per ref, so a connection declared twice still yields equal rules.
        if id(obj) not in gated:
            gated[id(obj)] = gate(obj, where=f"{where} {at}")
            deferred.wait_for(gated[id(obj)])
        ref = gated[id(obj)]
        return _Side(at, ref.name, ref.peer)
    if isinstance(obj, PeerRef):
        labels: Any = obj.pod_labels
        if is_output(labels):
            deferred.check(_nonempty_labels(at, obj.namespace), labels)
        elif not labels:
            problems.append(
                f"{at}: got a PeerRef with no pod_labels; it would select every pod of "
                f"namespace {_show(obj.namespace)}. Fix: give the pods' labels."
            )
            return None
        if server and not obj.ports:
            problems.append(
                f"{at}: got a PeerRef with no ports, so there is nothing to allow. Fix: pass "
                "the GrpcService, or a PeerRef with ports=(...)."
            )
            return None
        if contains_output(labels):
            return _Side(at, None, obj)
        name = re.sub(r"[^a-z0-9-]+", "-", _label_name(labels).lower()).strip("-")
        return _Side(at, name[:40].rstrip("-") or "workload", obj)
    problems.append(
        f"{at}: got {type(obj).__name__}; a connection names the workloads it joins. Fix: "
        "pass a GrpcService (or its .ref, a GrpcServiceRef), or a PeerRef for pods grpc-kube "
        "does not create."
    )
    return None


def _mesh_state(mesh: bool | MeshNamespaceLike, scope: _Scope, problems: list[str]) -> bool:
    if isinstance(mesh, bool):
        return mesh
    if isinstance(mesh, MeshNamespaceLike):
        name_ok = isinstance(mesh.name, str) or is_output(mesh.name)
        if not name_ok or not scope.same(mesh.name, "mesh.name"):
            problems.append(
                f"mesh: got the mesh namespace {_show(mesh.name)}, but this policy protects "
                f"{_show(scope.namespace)}. Fix: pass the MeshEnabledNamespace of this "
                "namespace, or mesh=True/False."
            )
            return False
        if not isinstance(mesh.meshed, bool):
            problems.append(
                f"mesh: its `meshed` is {_show(mesh.meshed)}, not True or False; it decides "
                "which NetworkPolicies exist, so it must be known when the program runs. Fix: "
                "pass a MeshEnabledNamespace, or mesh=True/False."
            )
            return False
        return mesh.meshed
    problems.append(
        f"mesh: got {type(mesh).__name__}; expected True/False or a MeshEnabledNamespace (an "
        "object with `name` and `meshed`). Fix: pass one of those."
    )
    return False


def _tcp(ports: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _linkerd_spec(
    pod_selector: dict[str, Any], metrics_from: Sequence[str], linkerd_namespace: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": ["Egress"]}
    if metrics_from:
        spec["policyTypes"] = ["Ingress", "Egress"]
        spec["ingress"] = [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: m}}}
                    for m in metrics_from
                ],
                "ports": _tcp([LINKERD_PROXY_ADMIN_PORT]),
            }
        ]
    # One rule per control-plane component, on the ports it serves: the namespace alone would
    # open all three ports on every pod there, the proxy injector and the heartbeat included.
    spec["egress"] = [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: linkerd_namespace}},
                    "podSelector": {"matchLabels": {LINKERD_COMPONENT_LABEL: component}},
                }
            ],
            "ports": _tcp(ports),
        }
        for component, ports in LINKERD_CONTROL_PLANE_SERVERS
    ]
    return spec


def _ip_peers(cidrs: Any) -> Any:
    return lift(lambda cs: [{"ipBlock": {"cidr": c}} for c in cs], cidrs)


def _namespaced_peer(peer: EdgePeer) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: peer.namespace}},
        "podSelector": {"matchLabels": _labels(peer.pod_labels)},
    }


def _edge_ingress(e: EdgeWorkload, args: ZeroTrustPolicyArgs) -> list[Any]:
    """Ingress rules of one edge workload, in a fixed order: entry, webhook, named peers,
    metrics."""
    rules: list[Any] = []
    if e.entry_ports:
        rules.append({"from": _ip_peers(args.edge_client_cidrs), "ports": _tcp(e.entry_ports)})
    if e.webhook_ports:
        rules.append({"from": _ip_peers(args.webhook_client_cidrs), "ports": _tcp(e.webhook_ports)})
    for peer in e.allow_from:
        rules.append({"from": [_namespaced_peer(peer)], "ports": _tcp(peer.ports)})
    if e.metrics_ports:
        ports = _tcp(e.metrics_ports)

        def metrics_rule(namespaces: Sequence[str]) -> dict[str, Any] | None:
            if not namespaces:
                return None
            return {
                "from": [
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: m}}}
                    for m in namespaces
                ],
                "ports": ports,
            }

        rule = lift(metrics_rule, args.metrics_from_namespaces)
        if rule is not None:
            rules.append(rule)
    return rules


def _edge_egress(e: EdgeWorkload, args: ZeroTrustPolicyArgs) -> list[Any]:
    """Egress rules of one edge workload: the Kubernetes API, then named peers."""
    rules: list[Any] = []
    if e.kubernetes_api:
        rules.append(
            {
                "to": _ip_peers(args.kubernetes_api_cidrs),
                "ports": lift(_tcp, args.kubernetes_api_ports),
            }
        )
    for peer in e.allow_to:
        rules.append({"to": [_namespaced_peer(peer)], "ports": _tcp(peer.ports)})
    return rules


def _metrics_need_mesh(ns: Any) -> Callable[[Any], list[str]]:
    def check(metrics: Any) -> list[str]:
        if not metrics:
            return []
        return [
            f"metrics_from_namespaces: resolved to {list(metrics)}, but nothing in namespace "
            f"{_show(ns)} is meshed, so there is no proxy admin port to scrape. Fix: pass "
            "mesh=True (or the MeshEnabledNamespace), or remove metrics_from_namespaces."
        ]

    return check


def plan_policies(
    name: str,
    args: ZeroTrustPolicyArgs | Mapping[str, Any],
    *,
    connections: Sequence[Allow] = (),
    ingresses: Sequence[IngressLike] = (),
    mesh: bool | MeshNamespaceLike = False,
) -> PolicyPlan:
    """Everything ZeroTrustPolicy decides, without the engine: validates the object references
    and returns the NetworkPolicies to create. Raises InvalidArgumentError listing every
    problem. With Outputs among the inputs, the objects hold Outputs (see ZeroTrustPolicy)."""
    where = f"ZeroTrustPolicy {name!r}"
    args = validate_model(ZeroTrustPolicyArgs, args, where=where)
    problems: list[str] = []
    deferred = DeferredChecks(where)
    deferred.wait_for(args)
    prefix = args.name_prefix if args.name_prefix is not None else name
    try:
        check_dns_subdomain(prefix, what="ZeroTrustPolicy name")
    except ValueError as exc:
        field = "name_prefix" if args.name_prefix is not None else "name"
        problems.append(f"{field}: got {prefix!r}; it prefixes the NetworkPolicy names, and {exc}")
    ns = args.namespace
    scope = _Scope(ns, deferred)
    ns_meshed = _mesh_state(mesh, scope, problems)

    gated: dict[int, GrpcServiceRef] = {}

    def side(obj: Any, at: str, *, server: bool) -> _Side | None:
        return _side(obj, at, problems, deferred, server=server, where=where, gated=gated)

    # Every allowed connection as (client, server, where), from both kinds of intent.
    edges: list[tuple[_Side, _Side, str]] = []
    for i, conn in enumerate(connections):
        if not isinstance(conn, Allow):
            problems.append(
                f"connections[{i}]: got {type(conn).__name__}. Fix: write "
                "Allow(client_service, server_service)."
            )
            continue
        client = side(conn.client, f"connections[{i}].client", server=False)
        server = side(conn.server, f"connections[{i}].server", server=True)
        if client and server:
            edges.append((client, server, f"connections[{i}]"))
    for i, ing in enumerate(ingresses):
        if not isinstance(ing, IngressLike):
            problems.append(
                f"ingresses[{i}]: got {type(ing).__name__}, which has no `backends` and "
                "`controller_peer`. Fix: pass a GrpcIngress or a Gateway API gateway component."
            )
            continue
        controller = side(ing.controller_peer, f"ingresses[{i}].controller_peer", server=False)
        if controller is None:
            continue
        touches = scope.local(controller.peer.namespace, f"{controller.at}.namespace")
        seen_ns = [controller.peer.namespace]
        for j, backend in enumerate(ing.backends):
            b = side(backend, f"ingresses[{i}].backends[{j}]", server=True)
            if b:
                edges.append((controller, b, f"ingresses[{i}].backends[{j}]"))
                touches = scope.local(b.peer.namespace, f"{b.at}.namespace") or touches
                seen_ns.append(b.peer.namespace)
        if not touches:
            problems.append(
                f"ingresses[{i}]: neither its controller (namespace "
                f"{_show(controller.peer.namespace)}) nor any backend is in namespace "
                f"{_show(ns)}, so it needs no rule here. Fix: pass it to the ZeroTrustPolicy of "
                f"a namespace it touches.{_mixed_hint(ns, *seen_ns)}"
            )

    # Which side of each connection is in this namespace: a plain fact (see _Scope).
    local: dict[str, bool] = {}
    for client, server, _at in edges:
        for s in (client, server):
            if s.at not in local:
                local[s.at] = scope.local(s.peer.namespace, f"{s.at}.namespace")
    for client, server, at in edges:
        if at.startswith("connections") and not (local[client.at] or local[server.at]):
            problems.append(
                f"{at}: {_text(client.name)} ({_text(client.peer.namespace)}) -> "
                f"{_text(server.name)} ({_text(server.peer.namespace)}) has no side in namespace "
                f"{_show(ns)}. Fix: declare it in the ZeroTrustPolicy of the client's and of the "
                "server's namespace."
                + _mixed_hint(ns, client.peer.namespace, server.peer.namespace)
            )
    # Pods in this namespace get NetworkPolicies of their own, named after them and merged by
    # their labels: both must be known when the program runs.
    for s in {s.at: s for c, v, _ in edges for s in (c, v)}.values():
        if local[s.at] and (contains_output(s.name) or contains_output(s.peer.pod_labels)):
            problems.append(
                f"{s.at}: its pods are in namespace {_show(ns)}, so they get NetworkPolicies "
                "of their own, named after the workload and merged by pod labels; its name or "
                "pod labels are Outputs, which are known only during deployment. Fix: give the "
                "Service name (the GrpcService's component name or service_name) and pod "
                "labels as plain values; namespaces and ports may stay Outputs."
            )

    if problems:
        raise InvalidArgumentError(where, problems)

    workloads: dict[tuple[tuple[str, str], ...], _Workload] = {}
    used_names: dict[str, tuple[tuple[str, str], ...]] = {}

    def workload(s: _Side) -> _Workload:
        # Every workload is in this namespace, so its labels alone say which pods it is (and
        # they are plain here, checked above).
        labels: dict[str, str] = dict(s.peer.pod_labels)  # type: ignore[arg-type]
        key = tuple(sorted(labels.items()))
        if key not in workloads:
            base, n = s.name, 2
            wname = base
            while wname in used_names and used_names[wname] != key:
                wname, n = f"{base}-{n}", n + 1
            used_names[wname] = key
            workloads[key] = _Workload(wname, labels, meshed=ns_meshed or s.peer.meshed)
        return workloads[key]

    def selector_of(s: _Side) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not local[s.at]:
            out["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: s.peer.namespace}}
        out["podSelector"] = {"matchLabels": _labels(s.peer.pod_labels)}
        return out

    def maybe_meshed(s: _Side) -> bool:
        # A peer in another namespace may be meshed by its namespace's annotation, which this
        # policy cannot see; 4143 is then allowed whenever the local side is meshed. That is
        # harmless: a proxy's inbound port refuses direct connections without mesh mTLS.
        if not local[s.at]:
            return True
        return ns_meshed or s.peer.meshed

    # Edge workloads first, so their policies carry their declared names and the controller's
    # egress to the backends of `ingresses` (same pod labels) joins the same policy.
    for e in args.edge:
        key = tuple(sorted(e.pod_labels.items()))
        used_names[e.name] = key
        w = _Workload(e.name, dict(e.pod_labels), meshed=ns_meshed or e.meshed)
        workloads[key] = w
        w.ingress += _edge_ingress(e, args)
        w.egress += _edge_egress(e, args)

    for client, server, _at in edges:
        ports = list(server.peer.ports)
        if local[client.at]:
            w = workload(client)
            out_ports = ports + (
                [LINKERD_PROXY_INBOUND_PORT] if w.meshed and maybe_meshed(server) else []
            )
            rule = {"to": [selector_of(server)], "ports": _tcp(out_ports)}
            if rule not in w.egress:
                w.egress.append(rule)
        if local[server.at]:
            w = workload(server)
            in_ports = ports + (
                [LINKERD_PROXY_INBOUND_PORT] if w.meshed and maybe_meshed(client) else []
            )
            rule = {"from": [selector_of(client)], "ports": _tcp(in_ports)}
            if rule not in w.ingress:
                w.ingress.append(rule)

    any_meshed = ns_meshed or any(w.meshed for w in workloads.values())
    metrics = args.metrics_from_namespaces
    edge_metrics = any(e.metrics_ports for e in args.edge)
    if not any_meshed and not edge_metrics:
        if is_output(metrics):
            deferred.check(_metrics_need_mesh(ns), metrics)
        elif metrics:
            problems.append(
                f"metrics_from_namespaces: got {_show(metrics)}, but nothing in namespace "
                f"{_show(ns)} is meshed and no edge workload has metrics_ports, so there is no "
                "metrics port to open. Fix: pass mesh=True (or the MeshEnabledNamespace), or "
                "remove metrics_from_namespaces."
            )
    problems += deferred.now
    if problems:
        raise InvalidArgumentError(where, problems)

    warnings: list[str] = []
    if any_meshed and not args.dns:
        warnings.append(
            f"{where}: dns=False in a meshed namespace: Linkerd proxies resolve the control "
            "plane (linkerd-dst-headless, linkerd-identity-headless, linkerd-policy) by DNS and "
            "never become ready without it. Add a raw egress rule to your DNS servers."
        )

    managed = {"app.kubernetes.io/managed-by": "grpc-kube", "app.kubernetes.io/part-of": prefix}
    # The namespace every object is sent with: it resolves only once the checks of values that
    # arrived as Outputs pass, so a bad one reaches no object.
    sent_ns = deferred.guard(ns)
    names: list[tuple[str, str]] = []  # (Kubernetes name, what generated it)

    def policy(suffix: str, spec: Any) -> tuple[str, dict[str, Any]]:
        k8s_name = f"{prefix}-{suffix}"
        names.append((k8s_name, "generated"))
        return suffix, {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": k8s_name, "namespace": sent_ns, "labels": dict(managed)},
            "spec": spec,
        }

    objects = [policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})]
    if args.dns:
        dns_peer = {
            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: args.dns_namespace}},
            "podSelector": {"matchLabels": _labels(args.dns_pod_labels)},
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

    def linkerd_spec(pod_selector: dict[str, Any]) -> Any:
        # Whether metrics are scraped changes the spec's shape, so it is built from their
        # resolved value when they are an Output.
        return lift(
            lambda m, lns: _linkerd_spec(pod_selector, m, lns), metrics, args.linkerd_namespace
        )

    if ns_meshed:
        objects.append(policy("linkerd", linkerd_spec({})))
    for w in workloads.values():
        selector = {"matchLabels": dict(w.labels)}
        if w.ingress:
            # A rule whose shape waits on an Output (edge metrics) resolves to None when it
            # allows nothing: dropped then, never sent as an empty rule (which allows all).
            ingress = lift(lambda *rules: [r for r in rules if r is not None], *w.ingress)
            objects.append(
                policy(
                    f"{w.name}-ingress",
                    {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": ingress},
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
        rendered = render_raw_policy(sent_ns, raw)
        if is_output(rendered):
            rendered = {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": rendered.apply(lambda o: o["metadata"]),
                "spec": rendered.apply(lambda o: o["spec"]),
            }
        objects.append((f"raw-{raw.name}", rendered))
        names.append((raw.name, "raw"))

    seen: set[str] = set()
    for k8s_name, _kind in names:
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
    return PolicyPlan(objects, warnings, ns_meshed, [n for n, _ in names])


# --- the component --------------------------------------------------------------------------


class ZeroTrustPolicy(Component):
    """Default-deny NetworkPolicies for one namespace, with DNS, declared connections, ingress
    backends, Linkerd's needs when meshed, and raw policies allowed explicitly.

    Namespaces, labels, ports and CIDRs may be Outputs (e.g. the namespace as the name Output of
    a Namespace resource, which then orders every policy after it). Pulumi must know which
    NetworkPolicies exist when the program runs, so these stay plain:

    - `dns`, `mesh` (True/False, or a MeshEnabledNamespace whose `meshed` is plain), the list of
      `raw_policies` and their names, and each side's `meshed` flag;
    - for each side of a connection in this namespace, the workload's name (a GrpcService's
      Service name) and its pod labels: its policies are named after it and merged by labels.

    Which side of a connection is in this namespace is decided by comparing namespaces: plain
    names by value; two Outputs are taken to be the same namespace (the usual case: both are
    the name of one Namespace resource), a plain name and an Output different ones. Each such
    assumption is checked when the values resolve, and a wrong one fails the deployment naming
    the property, before any policy is sent; so across namespaces, give the namespaces as plain
    names. An Output where a plain value is needed is refused with the field named.
    """

    namespace: pulumi.Output[str]
    """The protected namespace."""
    policy_names: pulumi.Output[list[str]]
    """The NetworkPolicy names, once they all exist."""
    objects: tuple[dict[str, Any], ...]
    """The NetworkPolicy objects as sent, e.g. for reachability checks: plain values when every
    input is plain, with Outputs where inputs were Outputs."""
    meshed: bool
    """True when the namespace is meshed (`mesh`)."""

    def __init__(
        self,
        name: str,
        args: ZeroTrustPolicyArgs | Mapping[str, Any],
        *,
        connections: Sequence[Allow] = (),
        ingresses: Sequence[IngressLike] = (),
        mesh: bool | MeshNamespaceLike = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"ZeroTrustPolicy {name!r}"
        args = validate_model(ZeroTrustPolicyArgs, args, where=where)
        # Values that arrived as Outputs reach the policies only once they pass the same checks.
        args = gate(args, where=where)
        plan = plan_policies(name, args, connections=connections, ingresses=ingresses, mesh=mesh)
        super().__init__("ZeroTrustPolicy", name, opts)
        self.args = args
        self.meshed = plan.meshed
        self.objects = tuple(obj for _, obj in plan.objects)
        for warning in plan.warnings:
            pulumi.log.warn(warning, resource=self)
        # A mesh namespace given as a resource is waited for even when the namespace name is
        # plain (a name given as its Output orders the policies by itself).
        depends_on = [mesh] if isinstance(mesh, pulumi.Resource) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        created = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}", metadata=obj["metadata"], spec=obj["spec"], opts=child
            )
            for suffix, obj in plan.objects
        ]
        names = plan.names
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.policy_names = pulumi.Output.all(*[p.id for p in created]).apply(lambda _: names)
        self.register_outputs({"namespace": self.namespace, "policy_names": self.policy_names})
