"""PeerRef: the pods a policy can name (namespace + pod labels + identity), shared by every
component that runs pods (GrpcService, the ingress and gateway controllers, Linkerd). Each value
may be a plain value or an Output.

Policies (ZeroTrustPolicy, mesh authorization) take component objects and read their `peer`, so
no one writes a label map or a ServiceAccount name by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from ._inputs import fmt

__all__ = ["PeerRef"]


@dataclass(frozen=True)
class PeerRef:
    """A set of pods, as NetworkPolicies and Linkerd policies select them."""

    namespace: pulumi.Input[str]
    """The pods' namespace."""
    pod_labels: pulumi.Input[dict[str, pulumi.Input[str]]] = field(hash=False)
    """Labels that select exactly these pods within the namespace."""
    service_account: pulumi.Input[str] | None = None
    """The pods' ServiceAccount (their Linkerd identity), when known."""
    meshed: bool = False
    """True when the pods run a Linkerd proxy."""
    ports: tuple[pulumi.Input[int], ...] = ()
    """Container ports other pods may call (empty: the pods serve nothing to others)."""

    @property
    def mesh_identity(self) -> Any:
        """Linkerd identity (default cluster domain `cluster.local`); an Output when the
        ServiceAccount or namespace is one."""
        if self.service_account is None:
            return None
        return fmt(
            "{}.{}.serviceaccount.identity.linkerd.cluster.local",
            self.service_account,
            self.namespace,
        )
