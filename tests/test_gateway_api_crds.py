"""GatewayApiCrds: which manifest it applies, that the shared CRDs survive `pulumi destroy`, and
what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from grpc_kube import gateway_api_crds
from grpc_kube._validation import InvalidArgumentError
from grpc_kube.gateway_api_crds import (
    GATEWAY_API_VERSION,
    GatewayApiCrds,
    GatewayApiCrdsArgs,
    standard_install_url,
)
from grpc_kube.testing import Recording, run_program

CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"


def build(args: GatewayApiCrdsArgs | None = None) -> tuple[Recording, GatewayApiCrds]:
    made: dict[str, GatewayApiCrds] = {}

    def program() -> None:
        made["crds"] = GatewayApiCrds("gateway-api", args)
        pulumi.export("manifest", made["crds"].manifest)

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
    assert rec.outputs["manifest"] == mirror and crds.version == "v1.5.1"


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


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    rec = run_program(lambda: GatewayApiCrds("gw", {"version": "v1.6.1"}))
    assert rec.one(CONFIG_FILE).inputs["file"] == standard_install_url("v1.6.1")
    with pytest.raises(InvalidArgumentError, match=r"GatewayApiCrds 'gw'.*\n.*- version: got"):
        run_program(lambda: GatewayApiCrds("gw", {"version": "v1.4.0"}))
    with pytest.raises(InvalidArgumentError, match=r"GatewayApiCrds 'gw'"):
        run_program(lambda: GatewayApiCrds("gw", "v1.5.1"))  # type: ignore[arg-type]


# --- shared CRDs survive a destroy ------------------------------------------------------------


def test_the_manifest_is_retained_on_delete() -> None:
    # Other teams' Gateways and routes are objects of these CRDs: destroying this stack must
    # leave them installed.
    rec, _ = build()
    assert rec.one(CONFIG_FILE).retain_on_delete is True
    component = rec.one("grpc-kube:index:GatewayApiCrds")
    assert component.retain_on_delete is False  # meaningless on a component; not relied on


def test_every_object_of_the_manifest_is_retained(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider, not this program, registers the CRDs, so the harness never sees them; the
    ConfigFile carries a transform that the engine applies to each of them."""
    seen: list[pulumi.ResourceOptions] = []

    # A subclass, not a function: the SDK evaluates the component's annotations
    # (`ConfigFile | None`) while the patch is in place.
    class Spy(k8s.yaml.v2.ConfigFile):  # type: ignore[misc]
        def __init__(self, name: str, *args: Any, opts: pulumi.ResourceOptions, **kw: Any):
            seen.append(opts)
            super().__init__(name, *args, opts=opts, **kw)

    monkeypatch.setattr(k8s.yaml.v2, "ConfigFile", Spy)
    build()
    transforms = seen[0].transforms or []
    crd = pulumi.ResourceTransformArgs(
        custom=True,
        type_="kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        name="gateway-api-manifest:gateways.gateway.networking.k8s.io",
        props={},
        opts=pulumi.ResourceOptions(),
    )
    results = [t(crd) for t in transforms]  # type: ignore[call-arg,arg-type]
    assert any(r is not None and r.opts.retain_on_delete is True for r in results), results


def test_the_module_says_how_to_remove_them_by_hand() -> None:
    doc = gateway_api_crds.__doc__ or ""
    assert "kubectl delete -f " + standard_install_url("v1.5.1") in doc


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_a_manifest_output_flows_into_the_config_file_and_orders_it() -> None:
    mirror = "https://mirror.example.com/gateway-api/v1.5.1/standard-install.yaml"

    def program() -> None:
        # Outputs exist only inside a running program, so they are made in it.
        bucket = pulumi.CustomResource("test:index:Mirror", "mirror", {"url": mirror})
        url = bucket.urn.apply(lambda _: mirror)
        crds = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(manifest=url))
        pulumi.export("manifest", crds.manifest)

    rec = run_program(program)
    cf = rec.one(CONFIG_FILE)
    assert cf.inputs["file"] == mirror
    assert rec.depends_on(cf, rec.one("test:index:Mirror"))  # no depends_on was given
    assert rec.outputs["manifest"] == mirror


def test_a_manifest_output_that_resolves_to_a_bad_value_fails_the_deployment() -> None:
    def program() -> None:
        GatewayApiCrds(
            "gateway-api", GatewayApiCrdsArgs(manifest=pulumi.Output.from_input(" ./crds.yaml"))
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "GatewayApiCrds 'gateway-api': invalid input (values that arrived as Outputs" in msg
    assert "- manifest: got ' ./crds.yaml'" in msg and "surrounding spaces" in msg
    assert err.value.recording.of_type(CONFIG_FILE) == []  # type: ignore[attr-defined]


def test_version_must_be_plain() -> None:
    def program() -> None:
        GatewayApiCrds(
            "gateway-api",
            {"version": pulumi.Output.from_input("v1.5.1")},
        )

    with pytest.raises(InvalidArgumentError, match=r"version: got an Output.*known when the"):
        run_program(program)


# --- CRDs the cluster already has, and a local copy of the manifest ----------------------------


def test_existing_crds_apply_nothing_and_keep_their_version() -> None:
    rec, crds = build(GatewayApiCrdsArgs(existing=True, version="v1.6.1"))
    assert rec.of_type(CONFIG_FILE) == []
    assert [r.type for r in rec] == ["grpc-kube:index:GatewayApiCrds"]
    assert crds.existing is True and crds.version == "v1.6.1"
    assert crds.manifest is None and crds.config_file is None
    assert rec.outputs["manifest"] is None  # what `build` exports
    assert build()[1].existing is False


def test_existing_crds_with_a_manifest_are_refused() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        GatewayApiCrdsArgs(existing=True, manifest="https://mirror.example.com/std.yaml")
    msg = str(err.value)
    assert "- manifest: got 'https://mirror.example.com/std.yaml'; existing is true" in msg
    assert "Fix: remove manifest" in msg


def test_a_local_copy_of_the_manifest(tmp_path: Path) -> None:
    local = tmp_path / "standard-install.yaml"
    local.write_text("# the release's manifest\n")
    rec, _ = build(GatewayApiCrdsArgs(manifest=str(local)))
    assert rec.one(CONFIG_FILE).inputs["file"] == str(local)
    missing = str(tmp_path / "v1.5.1" / "standard-install.yaml")
    with pytest.raises(InvalidArgumentError) as err:
        GatewayApiCrdsArgs(manifest=missing)
    assert f"- manifest: got {missing!r}; there is no file at {missing!r}" in str(err.value)
    assert "Fix:" in str(err.value)
