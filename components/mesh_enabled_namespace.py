"""MeshEnabledNamespace: a namespace whose pods all get a Linkerd proxy (`linkerd.io/inject:
enabled`), with a chosen default inbound policy and Pod Security Standards labels; or the same
settings patched onto a namespace that already exists.

Meshing per namespace rather than per workload means nothing in it can start without a proxy by
mistake, and every pod in it gets an mTLS identity and per-request load balancing. The namespace
depends on the control plane, so workloads that depend on the namespace are only created once
the proxy injector is running (a pod created before it would start unmeshed, since Linkerd's
webhook fails open). `name` is an Output that resolves once the namespace exists, so a workload
given `namespace=ns.name` waits for it (and so for the injector) with no `depends_on`.

The namespace name and extra labels accept `pulumi.Input`s. The inbound policy, Pod Security
level, CNI setting and `existing` stay plain: they decide labels checked against each other and
which resource (Namespace or NamespacePatch) is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ._inputs import gate, is_output, lift
from ._namespaces import (
    PSS_LABEL_PREFIX,
    PodSecurityLevel,
    admits_linkerd_init,
    namespace_metadata,
    pod_security_level,
)
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_dns_label,
    check_label_map,
    field_validator,
    validate_model,
)
from .grpc_service import MESH_INJECT_ANNOTATION
from .linkerd_control_plane import LINKERD_NAMESPACE, InboundPolicy, LinkerdControlPlane

__all__ = [
    "DEFAULT_INBOUND_POLICY_ANNOTATION",
    "INJECT_ANNOTATION",
    "MeshEnabledNamespace",
    "MeshEnabledNamespaceArgs",
    "PodSecurityLevel",
]

INJECT_ANNOTATION = MESH_INJECT_ANNOTATION
DEFAULT_INBOUND_POLICY_ANNOTATION = "config.linkerd.io/default-inbound-policy"

# Namespaces that must not be meshed from here: Kubernetes' own, Linkerd's (its pods are
# configured by the chart), and those Linkerd's injector skips by default anyway.
_RESERVED = {
    "kube-system": "Kubernetes system pods must not depend on the mesh",
    "kube-public": "it is Kubernetes' public bootstrap namespace",
    "kube-node-lease": "it holds node heartbeats only",
    LINKERD_NAMESPACE: "it is the control plane's own namespace (configured by its chart)",
    "cert-manager": "Linkerd's injector skips it by default (cert-manager may issue its certs)",
}


class MeshEnabledNamespaceArgs(ArgsModel):
    """Arguments of MeshEnabledNamespace. All optional."""

    name: pulumi.Input[str] | None = None
    """Kubernetes name of the namespace (default: the component's name)."""
    default_inbound_policy: InboundPolicy = "all-unauthenticated"
    """Who may connect to a meshed pod on a port that no Linkerd `Server` (MeshAuthorization)
    covers; read by each proxy when its pod starts. One of all-unauthenticated,
    all-authenticated, cluster-authenticated, cluster-unauthenticated, deny, audit. Default
    `all-unauthenticated` (Linkerd's own): meshing alone breaks no caller and no kubelet probe,
    and MeshAuthorization restricts each gRPC port to named identities whatever this says.
    With any stricter value, Linkerd denies kubelet gRPC probes (only httpGet probes are
    auto-authorized), so every GrpcService here needs a `health_port` and a MeshAuthorization,
    which authorizes the probes (see docs/linkerd.md)."""
    pod_security: PodSecurityLevel | None = None
    """Pod Security Standards level to enforce. Default: `restricted` when the Linkerd CNI
    plugin is used; otherwise `privileged`, the only level that admits the `linkerd-init`
    container the injector adds (it needs NET_ADMIN and NET_RAW). `warn` and `audit` are always
    `restricted`, so Deployments whose own containers break `restricted` still get warnings at
    apply time (pod templates are checked before injection). `restricted` or `baseline` without
    CNI is refused: no meshed pod could start."""
    linkerd_cni: bool | None = None
    """Whether the linkerd2-cni plugin is installed. Default: the control plane's
    `cni_enabled`, or False when no control plane object is given."""
    existing: bool = False
    """Patch a namespace that already exists (server-side apply of the annotations and labels
    only; `pulumi destroy` removes them again) instead of creating it (default False)."""
    labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra labels (e.g. for NetworkPolicy namespace selectors)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return (
            None
            if v is None
            else check_dns_label(v, what="namespace", must_start_with_letter=False)
        )

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v)
        clash = sorted(k for k in v if k.startswith(f"{PSS_LABEL_PREFIX}/"))
        if clash:
            raise ValueError(
                f"label {clash[0]!r} is set from pod_security. Fix: remove it and set "
                "pod_security instead."
            )
        return v


def _reserved_problem(k8s_name: Any) -> str | None:
    if k8s_name in _RESERVED:
        return (
            f"name: got {k8s_name!r}; {_RESERVED[k8s_name]}. Fix: mesh an application "
            "namespace instead."
        )
    return None


def _not_reserved(k8s_name: Any, where: str) -> Any:
    """The name, plain (checked already) or an Output that resolves only if it is not one of
    the namespaces that must not be meshed from here."""
    if not is_output(k8s_name):
        return k8s_name

    def check(value: str) -> str:
        problem = _reserved_problem(value)
        if problem:
            raise InvalidArgumentError(where, [problem], resolved=True)
        return value

    return lift(check, k8s_name)


class MeshEnabledNamespace(Component):
    """A Namespace (or a patch of an existing one) with Linkerd injection, a default inbound
    policy and Pod Security labels, created after the control plane."""

    args: MeshEnabledNamespaceArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    name: pulumi.Output[str]
    """The namespace's Kubernetes name; resolves once the namespace exists (and so after the
    control plane). Pass it to GrpcServiceArgs(namespace=...): the workload then waits for it."""
    default_inbound_policy: str
    """The default inbound policy annotated on the namespace (a plain switch)."""
    pod_security: str
    """The enforced Pod Security level (resolved from the CNI setting when not given)."""
    meshed: bool = True
    """Always True: Linkerd injects every pod of this namespace."""
    resource: k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch
    """The Namespace (or NamespacePatch), for depends_on."""

    def __init__(
        self,
        name: str,
        args: MeshEnabledNamespaceArgs | Mapping[str, Any] | None = None,
        *,
        control_plane: LinkerdControlPlane | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"MeshEnabledNamespace {name!r}"
        args = validate_model(MeshEnabledNamespaceArgs, {} if args is None else args, where=where)
        problems: list[str] = []
        k8s_name: pulumi.Input[str] | None = args.name
        if k8s_name is None:
            try:
                k8s_name = check_dns_label(name, what="namespace", must_start_with_letter=False)
            except ValueError as exc:
                raise InvalidArgumentError(
                    where,
                    [
                        f"name: got {name!r}; it becomes the namespace name, and {exc} Or set "
                        "MeshEnabledNamespaceArgs(name=...)."
                    ],
                ) from None
        if not is_output(k8s_name):
            reserved = _reserved_problem(k8s_name)
            if reserved:
                problems.append(reserved)
        if control_plane is not None and not isinstance(control_plane, LinkerdControlPlane):
            problems.append(
                f"control_plane: got {type(control_plane).__name__}; it must be the "
                "LinkerdControlPlane the namespace waits for. Fix: pass it, or None when the "
                "control plane is managed elsewhere (then nothing orders the two)."
            )
            control_plane = None
        cni = args.linkerd_cni
        if control_plane is not None:
            if cni is not None and cni != control_plane.cni_enabled:
                problems.append(
                    f"linkerd_cni: got {cni}, but the control plane has cni_enabled="
                    f"{control_plane.cni_enabled}. Fix: leave linkerd_cni unset; it is read from "
                    "the control plane."
                )
            cni = control_plane.cni_enabled
        cni = bool(cni)
        level = pod_security_level(args.pod_security, mesh=True, linkerd_cni=cni)
        if not admits_linkerd_init(level) and not cni:
            problems.append(
                f"pod_security: got {level!r}; without the Linkerd CNI plugin every meshed pod "
                "gets a linkerd-init container that adds NET_ADMIN and NET_RAW, which only "
                "'privileged' admits, so no pod here could start. Fix: install linkerd2-cni and "
                "set LinkerdControlPlaneArgs(cni_enabled=True), or leave pod_security unset "
                "(enforce privileged, warn and audit restricted)."
            )
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("MeshEnabledNamespace", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        if args.name is not None:
            k8s_name = args.name
        k8s_name = _not_reserved(k8s_name, where)
        self.args = args
        self.default_inbound_policy = args.default_inbound_policy
        self.pod_security = level
        self.meshed = True
        self.control_plane = control_plane

        metadata = namespace_metadata(
            k8s_name,
            enforce=level,
            labels=args.labels,
            annotations={
                INJECT_ANNOTATION: "enabled",
                DEFAULT_INBOUND_POLICY_ANNOTATION: args.default_inbound_policy,
            },
            # A patch claims only what meshing needs, not the namespace's ownership.
            managed=not args.existing,
        )
        depends_on: list[pulumi.Resource] = [control_plane] if control_plane is not None else []
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        if args.existing:
            self.resource = k8s.core.v1.NamespacePatch(
                f"{name}-namespace", metadata=metadata, opts=child
            )
        else:
            self.resource = k8s.core.v1.Namespace(
                f"{name}-namespace", metadata=metadata, opts=child
            )
        # Tied to the namespace object, so whatever is given this name waits for it.
        self.name = pulumi.Output.all(self.resource.id, k8s_name).apply(lambda v: v[1])
        self.register_outputs(
            {
                "name": self.name,
                "default_inbound_policy": self.default_inbound_policy,
                "pod_security": self.pod_security,
            }
        )
