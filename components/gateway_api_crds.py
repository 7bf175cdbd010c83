"""GatewayApiCrds: the Gateway API standard-channel CRDs (GatewayClass, Gateway, HTTPRoute,
GRPCRoute, ReferenceGrant, ...), pinned to one release and installed from its upstream manifest.

Linkerd and a Gateway API implementation (NGINX Gateway Fabric) both need these CRDs before they
start: Linkerd's policy controller checks once, at startup, which route kinds exist and never
watches kinds that appear later. Neither chart should own them (linkerd-crds keeps
`installGatewayAPI: false`), so they are installed once, here, and the object is passed to every
component that needs them (`LinkerdControlPlane(gateway_api_crds=...)`, `NginxGatewayFabric`).

The CRDs are cluster-wide and shared: every Gateway and route in the cluster, other teams'
included, is stored as one of their objects, and deleting a CRD deletes all of them. So they are
retained on delete: `pulumi destroy` (or removing this component) only forgets them, and they
stay installed. Every object the manifest installs is marked, not only the ConfigFile that reads
it, since a packaged component's options do not reach the objects its provider creates. To
remove them by hand, once nothing in the cluster uses the Gateway API any more, delete what the
same manifest created:

    kubectl delete -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml

(the URL of the installed `version`, or the `manifest` mirror given).

`manifest` accepts a `pulumi.Input` (e.g. the URL of a mirror another resource publishes, or a
local copy of the file where GitHub is out of reach); `version` stays plain: it picks the default
manifest and LinkerdControlPlane compares it with the release Linkerd documents when the program
runs. With `existing` the CRDs are already installed (e.g. by a platform team): nothing is
applied, and `version` says which release they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pydantic

from ._inputs import gate
from ._ordering import Component
from ._validation import ArgsModel, FieldError, field_validator, validate_model

__all__ = [
    "GATEWAY_API_VERSION",
    "SUPPORTED_VERSIONS",
    "GatewayApiCrds",
    "GatewayApiCrdsArgs",
    "standard_install_url",
]

GATEWAY_API_VERSION = "v1.5.1"
"""The default: the newest release Linkerd 2.20 documents, and what NGINX Gateway Fabric 2.6.7 is
built against."""
SUPPORTED_VERSIONS: tuple[str, ...] = ("v1.5.1", "v1.6.1")
"""Releases whose CRD schemas the tests validate against (tests/fixtures/crd-schemas)."""


def standard_install_url(version: str) -> str:
    """The upstream release asset holding every standard-channel CRD of `version`."""
    return (
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        f"{version}/standard-install.yaml"
    )


class GatewayApiCrdsArgs(ArgsModel):
    """Arguments of GatewayApiCrds. All optional."""

    existing: bool = False
    """The CRDs are already installed (e.g. by a platform team): apply nothing (default
    False). `version` then says which release they are, for the components that compare it.
    Plain: it decides whether anything is applied."""
    version: str = GATEWAY_API_VERSION
    """Gateway API release (default `v1.5.1`). `v1.6.1` is what Envoy Gateway v1.9.0 expects;
    Linkerd edge-26.8.3 documents 1.2.1-1.5.1 and ignores newer fields, so LinkerdControlPlane
    warns when given v1.6.1. Only releases whose schemas this project validates against are
    accepted. Plain: it is compared when the program runs."""
    manifest: pulumi.Input[str] | None = None
    """Path or URL of the release's `standard-install.yaml` (default: the upstream release asset
    on GitHub). Set it to a mirror, or a local copy of the file, when the machine running
    `pulumi up` cannot reach GitHub; it must hold the same release as `version`. A relative path
    is read from the directory `pulumi` runs in (the project directory). Not with `existing`."""

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if v not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"only {' and '.join(SUPPORTED_VERSIONS)} are supported (their schemas are "
                "validated here; Linkerd documents up to v1.5.1). Fix: use 'v1.5.1', or "
                "'v1.6.1' for Envoy Gateway v1.9."
            )
        return v

    @field_validator("manifest")
    @classmethod
    def _manifest(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or v != v.strip()):
            raise ValueError(
                "the manifest location is empty or has surrounding spaces. Fix: give a path "
                "or URL such as 'https://mirror.example.com/v1.5.1/standard-install.yaml', or "
                "leave it unset for the upstream release."
            )
        if v is not None and "://" not in v and not os.path.isfile(v):
            raise ValueError(
                f"there is no file at {v!r} (looked for from {os.getcwd()!r}). Fix: give the "
                "path of the release's standard-install.yaml, relative to the project directory "
                "or absolute, or its URL."
            )
        return v

    # Plain fields only (a manifest Output counts as given), so it runs at once.
    @pydantic.model_validator(mode="after")
    def _existing(self) -> GatewayApiCrdsArgs:
        if self.existing and self.manifest is not None:
            raise FieldError(
                "manifest",
                self.manifest,
                "existing is true, so nothing is applied and the manifest is never read. Fix: "
                "remove manifest, or set existing: false to apply it.",
            )
        return self


def _retained(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
    """Mark a resource retained on delete: the transform GatewayApiCrds applies to the manifest
    and, through the engine, to every object the provider creates from it."""
    return pulumi.ResourceTransformResult(
        props=args.props,
        opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )


class GatewayApiCrds(Component):
    """The Gateway API standard CRDs of one release (and, since v1.5, the upstream
    `safe-upgrades` ValidatingAdmissionPolicy that ships in the same manifest). Retained on
    delete: see the module documentation for removing them by hand. With `existing`, the
    description of CRDs the cluster already has."""

    args: GatewayApiCrdsArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    version: str
    """The pinned release, e.g. `v1.5.1`."""
    existing: bool
    """True when the CRDs were already installed (`existing`): nothing was applied here."""
    manifest: pulumi.Output[str] | None
    """Where the manifest is read from (also what `kubectl delete -f` takes to remove the CRDs
    by hand); None with `existing`."""
    config_file: k8s.yaml.v2.ConfigFile | None
    """The ConfigFile that applies the manifest (None with `existing`)."""

    def __init__(
        self,
        name: str,
        args: GatewayApiCrdsArgs | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"GatewayApiCrds {name!r}"
        args = validate_model(GatewayApiCrdsArgs, {} if args is None else args, where=where)
        super().__init__("GatewayApiCrds", name, opts)
        args = gate(args, where=where)
        self.args = args
        self.version = args.version
        self.existing = args.existing
        if self.existing:
            self.manifest = None
            self.config_file = None
            self.register_outputs({"version": self.version})
            return
        manifest = (
            args.manifest if args.manifest is not None else standard_install_url(args.version)
        )
        # yaml.v2 (not v1): applied by the provider with per-object await, so dependents wait
        # until every CRD is Established. Retained on delete: other stacks' Gateways and routes
        # live in these CRDs. `retain_on_delete` marks the ConfigFile itself; the transform marks
        # each CRD the provider registers under it, which the option alone does not reach.
        self.config_file = k8s.yaml.v2.ConfigFile(
            f"{name}-manifest",
            file=manifest,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, transforms=[_retained]),
        )
        self.manifest = pulumi.Output.from_input(manifest)
        self.register_outputs({"version": self.version, "manifest": self.manifest})
