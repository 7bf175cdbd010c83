"""GatewayApiCrds: which manifest it applies, and what it refuses."""

from __future__ import annotations

import pytest

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.gateway_api_crds import (
    GATEWAY_API_VERSION,
    GatewayApiCrds,
    GatewayApiCrdsArgs,
    standard_install_url,
)
from grpc_kube.testing import run_program

CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"


def build(args: GatewayApiCrdsArgs | None = None):
    made: dict[str, GatewayApiCrds] = {}

    def program() -> None:
        made["crds"] = GatewayApiCrds("gateway-api", args)

    return run_program(program), made["crds"]


def test_default_is_the_pinned_standard_channel_release_manifest() -> None:
    rec, crds = build()
    assert GATEWAY_API_VERSION == "v1.5.1"
    assert crds.version == "v1.5.1"
    cf = rec.one(CONFIG_FILE, "gateway-api-manifest")
    assert cf.inputs == {
        "file": "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        "v1.5.1/standard-install.yaml"
    }
    assert cf.parent == rec.one("grpc-kube:index:GatewayApiCrds", "gateway-api").urn
    # Standard channel only: the experimental one is refused by v1.5's safe-upgrades policy.
    assert "experimental" not in cf.inputs["file"]


def test_newer_release_and_mirror() -> None:
    rec, crds = build(GatewayApiCrdsArgs(version="v1.6.1"))
    assert crds.version == "v1.6.1"
    assert rec.one(CONFIG_FILE).inputs["file"] == standard_install_url("v1.6.1")
    mirror = "https://mirror.example.com/gateway-api/v1.5.1/standard-install.yaml"
    rec, crds = build(GatewayApiCrdsArgs(manifest=mirror))
    assert rec.one(CONFIG_FILE).inputs["file"] == mirror
    assert crds.manifest == mirror and crds.version == "v1.5.1"


def test_outputs_are_registered() -> None:
    rec, _ = build()
    # No Kubernetes object is sent by grpc-kube itself: the provider reads the manifest.
    assert rec.kubernetes_objects() == []
    assert len(rec.of_type(CONFIG_FILE)) == 1


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"version": "v1.4.0"}, "version", "v1.5.1 and v1.6.1"),
        ({"version": "1.5.1"}, "version", "v1.5.1 and v1.6.1"),
        ({"manifest": " "}, "manifest", "Fix:"),
        ({"manifest": "./crds.yaml "}, "manifest", "surrounding spaces"),
        ({"channel": "experimental"}, "channel", "unknown field"),
    ],
)
def test_bad_input_names_field_and_fix(options: dict[str, object], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        GatewayApiCrdsArgs(**options)  # type: ignore[arg-type]
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


def test_args_must_be_the_args_model() -> None:
    with pytest.raises(TypeError, match="GatewayApiCrdsArgs"):
        run_program(lambda: GatewayApiCrds("gw", {"version": "v1.5.1"}))  # type: ignore[arg-type]
