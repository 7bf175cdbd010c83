"""Make a component's `depends_on` reach every resource it creates.

Pulumi does not pass a component's `depends_on` to its children: `GrpcService(...,
opts=ResourceOptions(depends_on=[meshed_namespace]))` would make the component wait, but its
Deployment could start pods before the Linkerd injector exists (the webhook fails open), and a
Secret could be created before its namespace. Every grpc-kube component calls
`inherit_depends_on(opts)` first, which adds a transformation that gives each descendant the same
dependencies (transformations run in the SDK and apply to all descendants).
"""

from __future__ import annotations

import pulumi

__all__ = ["Component", "inherit_depends_on"]


def inherit_depends_on(
    opts: pulumi.ResourceOptions | None, *, where: str
) -> pulumi.ResourceOptions | None:
    """`opts` plus a transformation that adds its `depends_on` to every descendant. Raises
    TypeError (before anything registers) when `depends_on` holds something other than
    Resources, since an Output cannot be waited for by children."""
    if opts is None or opts.depends_on is None:
        return opts
    deps = opts.depends_on if isinstance(opts.depends_on, list) else [opts.depends_on]
    bad = [type(d).__name__ for d in deps if not isinstance(d, pulumi.Resource)]
    if bad:
        raise TypeError(
            f"{where}: depends_on must list Resources, got {bad}. Fix: pass the resource or "
            "component objects themselves."
        )
    resources = [d for d in deps if isinstance(d, pulumi.Resource)]

    def add(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        merged = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(depends_on=resources)
        )
        return pulumi.ResourceTransformationResult(args.props, merged)

    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[add]))


class Component(pulumi.ComponentResource):
    """Base of every grpc-kube component: type token `grpc-kube:index:<kind>` (the form
    multi-language component packages expect) and a `depends_on` that reaches every resource
    the component creates."""

    def __init__(self, kind: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(
            f"grpc-kube:index:{kind}",
            name,
            None,
            inherit_depends_on(opts, where=f"{kind} {name!r}"),
        )
