"""GatewayApiCrds: the Gateway API standard-channel CRDs (GatewayClass, Gateway, HTTPRoute,
GRPCRoute, ReferenceGrant, ...), pinned to one release and installed from its upstream manifest.

Linkerd and a Gateway API implementation (NGINX Gateway Fabric) both need these CRDs before they
start: Linkerd's policy controller checks once, at startup, which route kinds exist and never
watches kinds that appear later. Neither chart should own them (linkerd-crds keeps
`installGatewayAPI: false`), so they are installed once, here, and the object is passed to every
component that needs them (`LinkerdControlPlane(gateway_api_crds=...)`, `NginxGatewayFabric`).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ._ordering import Component
from ._validation import ArgsModel, field_validator

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

    version: str = GATEWAY_API_VERSION
    """Gateway API release (default `v1.5.1`). `v1.6.1` is what Envoy Gateway v1.9.0 expects;
    Linkerd edge-26.8.3 documents 1.2.1-1.5.1 and ignores newer fields, so LinkerdControlPlane
    warns when given v1.6.1. Only releases whose schemas this project validates against are
    accepted."""
    manifest: str | None = None
    """Path or URL of the release's `standard-install.yaml` (default: the upstream release asset
    on GitHub). Set it to a mirror when the machine running `pulumi up` cannot reach GitHub; it
    must hold the same release as `version`."""

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
        return v


class GatewayApiCrds(Component):
    """The Gateway API standard CRDs of one release (and, since v1.5, the upstream
    `safe-upgrades` ValidatingAdmissionPolicy that ships in the same manifest)."""

    version: str
    """The pinned release, e.g. `v1.5.1`."""
    manifest: str
    """Where the manifest is read from."""
    config_file: k8s.yaml.v2.ConfigFile

    def __init__(
        self,
        name: str,
        args: GatewayApiCrdsArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = GatewayApiCrdsArgs() if args is None else args
        if not isinstance(args, GatewayApiCrdsArgs):
            raise TypeError(
                f"GatewayApiCrds {name!r}: args must be a GatewayApiCrdsArgs, got "
                f"{type(args).__name__}. Fix: GatewayApiCrds(name, GatewayApiCrdsArgs())."
            )
        super().__init__("GatewayApiCrds", name, opts)
        self.args = args
        self.version = args.version
        self.manifest = args.manifest or standard_install_url(args.version)
        # yaml.v2 (not v1): applied by the provider with per-object await, so dependents wait
        # until every CRD is Established.
        self.config_file = k8s.yaml.v2.ConfigFile(
            f"{name}-manifest",
            file=self.manifest,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"version": self.version, "manifest": self.manifest})
