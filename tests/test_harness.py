"""The mock harness itself: it must record faithfully, isolate runs and scale."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from grpc_kube import GrpcService, GrpcServiceArgs, InvalidArgumentError
from grpc_kube._validation import validate_model
from grpc_kube.stack import StackConfig
from grpc_kube.testing import run_program


def test_records_type_name_parent_inputs_and_dependencies() -> None:
    def program() -> None:
        sa = k8s.core.v1.ServiceAccount("sa", metadata={"name": "a", "namespace": "x"})
        k8s.core.v1.ConfigMap(
            "cm",
            metadata={"name": "b", "namespace": "x"},
            data={"k": "v"},
            opts=pulumi.ResourceOptions(depends_on=[sa]),
        )

    rec = run_program(program)
    sa, cm = rec.one("kubernetes:core/v1:ServiceAccount"), rec.one("kubernetes:core/v1:ConfigMap")
    assert cm.inputs["data"] == {"k": "v"}
    assert cm.dependencies == [sa.urn]
    assert sa.parent.endswith("pulumi:pulumi:Stack::grpc-kube-test")


def test_secret_inputs_are_reported_and_unwrapped() -> None:
    def program() -> None:
        k8s.core.v1.Secret(
            "s", metadata={"name": "s"}, string_data={"k": pulumi.Output.secret("v")}
        )

    rec = run_program(program)
    secret = rec.one("kubernetes:core/v1:Secret")
    assert secret.secret_paths == ["stringData"]
    assert secret.inputs["stringData"] == {"k": "v"}


def test_runs_are_isolated_and_exports_and_warnings_captured() -> None:
    def program() -> None:
        k8s.core.v1.Namespace("ns", metadata={"name": "one"})
        pulumi.export("answer", pulumi.Output.from_input(42))
        pulumi.log.warn("careful")

    first = run_program(program)
    second = run_program(lambda: None)
    assert len(first) == 1 and len(second) == 0
    assert first.outputs == {"answer": 42}
    assert first.warnings == ["careful"]


def test_thousands_of_resources_are_all_recorded() -> None:
    # 150 services x 4 objects + components: well past where Pulumi's inline executor
    # recurses too deep (~50 resources, measured).
    def program() -> None:
        for i in range(150):
            GrpcService(f"s{i}", GrpcServiceArgs(image="r/app:1.0.0", namespace="bench"))

    rec = run_program(program)
    assert len(rec.of_type("kubernetes:apps/v1:Deployment")) == 150
    assert len(rec.kubernetes_objects()) == 600
    names = {o["metadata"]["name"] for o in rec.kubernetes_objects()}
    assert len(names) == 150


def test_program_errors_propagate() -> None:
    def program() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_program(program)


def test_nested_config_errors_keep_their_full_path() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        validate_model(
            StackConfig,
            {
                "services": [
                    {"name": "a", "namespace": "x", "image": "a:1", "probes": {"enabled": "maybe"}}
                ]
            },
            where="stack config",
        )
    assert "services[0].probes.enabled: got 'maybe'" in str(err.value)


def test_a_cross_field_error_does_not_dump_the_whole_input() -> None:
    from grpc_kube import AutoscalingArgs

    with pytest.raises(InvalidArgumentError) as err:
        AutoscalingArgs(min_replicas=5, max_replicas=2)
    msg = str(err.value)
    assert "- (root): max_replicas (2) is below min_replicas (5)" in msg, msg
    assert "{" not in msg  # no dict of every argument


def test_transforms_run_in_process_without_a_grpc_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program with `transforms` (GatewayApiCrds retains what the provider creates) runs
    without the SDK's grpc.aio callback server: real ones, started on a fresh event loop per
    run, crashed the interpreter after some hundred runs with failing Outputs."""
    import grpc.aio

    from grpc_kube.gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a grpc.aio server was started during a mocked run")

    monkeypatch.setattr(grpc.aio, "server", refuse)
    rec = run_program(lambda: GatewayApiCrds("crds", GatewayApiCrdsArgs()))
    assert rec.one("kubernetes:yaml/v2:ConfigFile").retain_on_delete is True
