"""Pod Security Standards for the namespaces grpc-kube creates, written in one place.

Every namespace grpc-kube creates enforces a Pod Security level, and warns and audits at
`restricted` so a workload that would break `restricted` is reported when it is applied, even
where a lower level is enforced. The level follows from one fact: a meshed pod without the
linkerd2-cni plugin gets Linkerd's `linkerd-init` container, which adds NET_ADMIN and NET_RAW,
and only `privileged` admits that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi

from ._inputs import is_output, lift

__all__ = [
    "MANAGED_BY",
    "PSS_LABEL_PREFIX",
    "PodSecurityLevel",
    "admits_linkerd_init",
    "namespace_metadata",
    "pod_security_level",
]

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]

PSS_LABEL_PREFIX = "pod-security.kubernetes.io"
MANAGED_BY = {"app.kubernetes.io/managed-by": "grpc-kube"}


def pod_security_level(requested: str | None, *, mesh: bool, linkerd_cni: bool) -> str:
    """The level to enforce: `requested` when given, else `privileged` for pods that get
    `linkerd-init` (meshed without the CNI plugin) and `restricted` for every other pod."""
    if requested is not None:
        return requested
    return "privileged" if mesh and not linkerd_cni else "restricted"


def admits_linkerd_init(level: str) -> bool:
    """Whether pods with Linkerd's `linkerd-init` container (NET_ADMIN, NET_RAW) can start
    under this enforced level: only `privileged` admits them."""
    return level == "privileged"


def namespace_metadata(
    name: pulumi.Input[str],
    *,
    enforce: str,
    warn: str | None = "restricted",
    audit: str | None = "restricted",
    labels: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
    annotations: Mapping[str, Any] | None = None,
    managed: bool = True,
) -> dict[str, Any]:
    """Metadata of a namespace grpc-kube creates (or patches): the caller's `labels`, the Pod
    Security labels (`warn`/`audit` left out when None) and, unless `managed` is False (a patch
    of someone else's namespace claims only what it sets), `app.kubernetes.io/managed-by`.
    `labels` may be an Output; the Pod Security labels always win over it."""
    own: dict[str, str] = {f"{PSS_LABEL_PREFIX}/enforce": enforce}
    if warn is not None:
        own[f"{PSS_LABEL_PREFIX}/warn"] = warn
    if audit is not None:
        own[f"{PSS_LABEL_PREFIX}/audit"] = audit
    if managed:
        own.update(MANAGED_BY)
    merged: Any = own
    if labels is not None and (is_output(labels) or labels):
        merged = lift(lambda extra: {**extra, **own}, labels)
    metadata: dict[str, Any] = {"name": name, "labels": merged}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata
