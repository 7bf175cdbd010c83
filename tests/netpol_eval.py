"""A small NetworkPolicy evaluator for tests: given NetworkPolicy objects (as sent), decide
whether a connection is allowed under Kubernetes semantics.

- A pod is isolated for ingress (egress) when any policy in its namespace selects it and lists
  `Ingress` (`Egress`) in its policyTypes. (Without policyTypes, Kubernetes assumes `Ingress`,
  plus `Egress` when the policy has egress rules.)
- An isolated pod accepts (sends) only what the union of those policies' rules allows; a
  non-isolated pod accepts (sends) everything.
- A connection needs egress allowed at the source AND ingress allowed at the destination.
- A rule with no `from`/`to` matches every peer; with no `ports` every port. A peer with only a
  podSelector means pods of the policy's namespace; with a namespaceSelector, pods of matching
  namespaces (and matching podSelector if both); an ipBlock matches addresses in `cidr` and not
  in any `except` (pods match by their IP when they have one).
- Ports: protocol defaults to TCP; `port` may be a number, a range up to `endPort`, or a named
  container port of the destination pod; no `port` means every port of the protocol.

Not modelled (a real CNI decides these): traffic from the pod's own node (kubelet probes are
allowed by Kubernetes' definition), Service IP translation (give the pod's container port),
and reply traffic (always allowed for an allowed connection).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """A pod as policies see it."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    namespace_labels: Mapping[str, str] | None = field(default=None, hash=False)
    """Labels of the pod's namespace (default: only `kubernetes.io/metadata.name`, which the
    API server sets on every namespace)."""
    ip: str | None = None
    named_ports: Mapping[str, int] = field(default_factory=dict, hash=False)
    """Container port names -> numbers, for policies that name ports."""
    name: str = "pod"

    @property
    def ns_labels(self) -> Mapping[str, str]:
        base = {NAMESPACE_NAME_LABEL: self.namespace}
        return {**base, **(self.namespace_labels or {})}


@dataclass(frozen=True)
class Address:
    """An endpoint outside the cluster (or any address no pod owns)."""

    ip: str
    name: str = "address"


Endpoint = Pod | Address


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics; `{}` matches everything."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown selector operator {op!r}")
    return True


def policy_types(policy: Mapping[str, Any]) -> list[str]:
    spec = policy["spec"]
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _selects(policy: Mapping[str, Any], pod: Pod) -> bool:
    return policy["metadata"]["namespace"] == pod.namespace and selector_matches(
        policy["spec"].get("podSelector", {}), pod.labels
    )


def _peer_matches(peer: Mapping[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        net = ipaddress.ip_network(block["cidr"])
        if ip.version != net.version or ip not in net:
            return False
        return not any(
            ip in ipaddress.ip_network(e)
            for e in block.get("except") or []
            if ipaddress.ip_network(e).version == ip.version
        )
    if not isinstance(other, Pod):
        return False  # selectors only ever match pods
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], other.ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selector_matches(peer.get("podSelector"), other.labels)


def _port_matches(
    entries: Iterable[Mapping[str, Any]] | None, dst: Endpoint, port: int, protocol: str
) -> bool:
    entries = list(entries or [])
    if not entries:
        return True
    for entry in entries:
        if entry.get("protocol", "TCP") != protocol:
            continue
        p = entry.get("port")
        if p is None:
            return True
        if isinstance(p, str):
            if isinstance(dst, Pod) and dst.named_ports.get(p) == port:
                return True
            continue
        if p <= port <= entry.get("endPort", p):
            return True
    return False


def _rule_allows(
    rule: Mapping[str, Any],
    peers_key: str,
    policy_ns: str,
    other: Endpoint,
    dst: Endpoint,
    port: int,
    protocol: str,
) -> bool:
    peers = rule.get(peers_key) or []
    if peers and not any(_peer_matches(p, policy_ns, other) for p in peers):
        return False
    return _port_matches(rule.get("ports"), dst, port, protocol)


def _direction(
    policies: Iterable[Mapping[str, Any]],
    pod: Pod,
    direction: str,
    other: Endpoint,
    dst: Endpoint,
    port: int,
    protocol: str,
) -> Verdict:
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = [p for p in policies if _selects(p, pod) and direction in policy_types(p)]
    if not isolating:
        return Verdict(True, f"{pod.name} is not isolated for {direction}")
    for policy in isolating:
        for i, rule in enumerate(policy["spec"].get(rules_key) or []):
            if _rule_allows(rule, peers_key, pod.namespace, other, dst, port, protocol):
                name = policy["metadata"]["name"]
                return Verdict(True, f"{direction} allowed by {name} {rules_key}[{i}]")
    names = sorted(p["metadata"]["name"] for p in isolating)
    return Verdict(False, f"{direction} of {pod.name} denied: no rule in {names} matches")


def check(
    policies: Iterable[Mapping[str, Any]],
    src: Endpoint,
    dst: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> Verdict:
    """May `src` open a connection to `dst` on `port`/`protocol`? Needs egress at the source
    and ingress at the destination (each only checked for pods)."""
    policies = [p for p in policies if p.get("kind") == "NetworkPolicy"]
    reasons = []
    if isinstance(src, Pod):
        out = _direction(policies, src, "Egress", dst, dst, port, protocol)
        if not out:
            return out
        reasons.append(out.reason)
    if isinstance(dst, Pod):
        inn = _direction(policies, dst, "Ingress", src, dst, port, protocol)
        if not inn:
            return inn
        reasons.append(inn.reason)
    return Verdict(True, "; ".join(reasons))
