"""PeerRef: the pods a policy can name (namespace + pod labels + identity), shared by every
component that runs pods (GrpcService, the ingress and gateway controllers, Linkerd).

Policies (ZeroTrustPolicy, mesh authorization) take component objects and read their `peer`, so
no one writes a label map or a ServiceAccount name by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PeerRef"]


@dataclass(frozen=True)
class PeerRef:
    """A set of pods, as NetworkPolicies and Linkerd policies select them."""

    namespace: str
    """The pods' namespace."""
    pod_labels: dict[str, str] = field(hash=False)
    """Labels that select exactly these pods within the namespace."""
    service_account: str | None = None
    """The pods' ServiceAccount (their Linkerd identity), when known."""
    meshed: bool = False
    """True when the pods run a Linkerd proxy."""
    ports: tuple[int, ...] = ()
    """Container ports other pods may call (empty: the pods serve nothing to others)."""

    @property
    def mesh_identity(self) -> str | None:
        """Linkerd identity (default cluster domain `cluster.local`)."""
        if self.service_account is None:
            return None
        return (
            f"{self.service_account}.{self.namespace}.serviceaccount.identity.linkerd.cluster.local"
        )
