"""The component package (other languages): the committed schema is what Pulumi's analyzer
infers now, everything in it is documented, and a component built through the provider (schema
names in, plain-data refs between components, state out) sends the engine exactly what the
Python API sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from test_stacks import raw

from grpc_kube import package
from grpc_kube.grpc_ingress import GrpcIngress, GrpcIngressArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
from grpc_kube.nginx_ingress_controller import NginxIngressController, NginxIngressControllerArgs
from grpc_kube.stack import GrpcPlatform
from grpc_kube.testing import Recording, run_program
from grpc_kube.zero_trust_policy import Allow, ZeroTrustPolicy, ZeroTrustPolicyArgs

SNAPSHOT = Path(__file__).resolve().parents[1] / "provider" / "schema.json"
IMAGE = "ghcr.io/example/greeter:1.4.2"
TOKEN = "grpc-kube:index:"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package.schema()


def test_committed_schema_is_what_the_analyzer_infers(schema: dict[str, Any]) -> None:
    committed = json.loads(SNAPSHOT.read_text())
    assert committed == schema, (
        "provider/schema.json is stale. Fix: python -m grpc_kube.package > provider/schema.json"
    )


def test_package_serves_the_components_that_need_no_python_objects(schema: dict[str, Any]) -> None:
    assert sorted(schema["resources"]) == sorted(
        TOKEN + n
        for n in (
            "CertificateAuthority",
            "GatewayApiCrds",
            "GrpcIngress",
            "GrpcPlatform",
            "GrpcRoute",
            "GrpcService",
            "LinkerdControlPlane",
            "MeshAuthorization",
            "MeshEnabledNamespace",
            "NginxIngressController",
            "ZeroTrustPolicy",
        )
    )
    assert all(r["isComponent"] for r in schema["resources"].values())


def _undocumented(schema: dict[str, Any]) -> list[str]:
    missing = []
    for token, res in schema["resources"].items():
        if not res.get("description"):
            missing.append(token)
        for kind in ("inputProperties", "properties"):
            for prop, spec in res.get(kind, {}).items():
                if not spec.get("description"):
                    missing.append(f"{token} {kind}.{prop}")
    for token, typ in schema.get("types", {}).items():
        if not typ.get("description"):
            missing.append(token)
        for prop, spec in typ.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{token}.{prop}")
    return missing


def test_every_component_type_and_property_is_documented(schema: dict[str, Any]) -> None:
    assert _undocumented(schema) == []


def test_schema_shapes_other_languages_see(schema: dict[str, Any]) -> None:
    svc = schema["resources"][TOKEN + "GrpcService"]
    # Defaults live in the component: only what has none is required.
    assert sorted(svc["requiredInputs"]) == ["image", "namespace"]
    assert svc["inputProperties"]["replicas"]["type"] == "integer"
    # Outputs are data (names, refs), not Python handles to the Deployment or Service.
    assert {"ref", "peer", "serviceName", "dnsName", "clientTarget"} <= set(svc["properties"])
    assert "deployment" not in svc["properties"]
    ingress = schema["resources"][TOKEN + "GrpcIngress"]
    assert ingress["inputProperties"]["controller"]["$ref"].endswith("IngressControllerRef")
    assert ingress["inputProperties"]["service"]["$ref"].endswith("GrpcServiceRef")
    assert sorted(ingress["requiredInputs"]) == ["controller", "host"]
    # Literal value sets become one enum each.
    assert schema["types"][TOKEN + "InboundPolicy"]["enum"][0]["value"] == "all-unauthenticated"
    zt = schema["resources"][TOKEN + "ZeroTrustPolicy"]["inputProperties"]
    assert zt["connections"]["items"]["$ref"].endswith("Connection")


# --- built through the provider -----------------------------------------------------------------


def construct(provider: package.GrpcKubeProvider, name: str, kind: str, inputs: dict[str, Any]):
    """What the plugin does for a `new GrpcService(...)` in another language."""
    return provider.construct(name, TOKEN + kind, inputs, pulumi.ResourceOptions())


def objects(rec: Recording) -> list[dict[str, Any]]:
    return sorted(rec.kubernetes_objects(), key=lambda o: (o["kind"], o["metadata"]["name"]))


@pytest.fixture(scope="module")
def provider() -> package.GrpcKubeProvider:
    return package.GrpcKubeProvider()


def test_ingress_from_refs_equals_the_python_program(provider: package.GrpcKubeProvider) -> None:
    host = "greeter.example.com"

    def through_package() -> None:
        svc = construct(
            provider,
            "greeter",
            "GrpcService",
            {"image": IMAGE, "namespace": "apps", "replicas": 3},
        )
        nginx = construct(provider, "nginx", "NginxIngressController", {})
        construct(
            provider,
            "edge",
            "GrpcIngress",
            {"host": host, "controller": nginx.state["ref"], "service": svc.state["ref"]},
        )

    def in_python() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="apps", replicas=3))
        nginx = NginxIngressController("nginx", NginxIngressControllerArgs())
        GrpcIngress("edge", GrpcIngressArgs(host=host), controller=nginx, service=svc)

    pkg, py = run_program(through_package), run_program(in_python)
    assert objects(pkg) == objects(py)
    assert pkg.kube("Ingress")["spec"]["rules"][0]["host"] == host


def test_zero_trust_from_peers_equals_the_python_program(
    provider: package.GrpcKubeProvider,
) -> None:
    def through_package() -> None:
        a = construct(provider, "a", "GrpcService", {"image": IMAGE, "namespace": "shop"})
        b = construct(provider, "b", "GrpcService", {"image": IMAGE, "namespace": "shop"})
        construct(
            provider,
            "zt",
            "ZeroTrustPolicy",
            {
                "namespace": "shop",
                "connections": [{"client": a.state["peer"], "server": b.state["peer"]}],
            },
        )

    def in_python() -> None:
        a = GrpcService("a", GrpcServiceArgs(image=IMAGE, namespace="shop"))
        b = GrpcService("b", GrpcServiceArgs(image=IMAGE, namespace="shop"))
        ZeroTrustPolicy(
            "zt",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow(client=a.peer, server=b.peer)],
        )

    pkg, py = run_program(through_package), run_program(in_python)
    policies = [o for o in objects(pkg) if o["kind"] == "NetworkPolicy"]
    assert len(policies) >= 3
    assert objects(pkg) == objects(py)


def test_state_is_plain_data_with_schema_names(provider: package.GrpcKubeProvider) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        svc = construct(
            provider,
            "greeter",
            "GrpcService",
            {"image": IMAGE, "namespace": "apps", "headless": True},
        )
        pulumi.export("ref", svc.state["ref"])
        pulumi.export("target", svc.state["clientTarget"])
        seen.update(svc.state)

    rec = run_program(program)
    ref = rec.outputs["ref"]
    assert ref["namespace"] == "apps"
    assert ref["containerPort"] == 50051
    assert ref["selectorLabels"] == {"app.kubernetes.io/name": "greeter"}
    assert rec.outputs["target"] == "dns:///greeter.apps.svc.cluster.local:50051"
    assert "deployment" not in seen


def test_bad_input_through_the_package_gets_the_python_error(
    provider: package.GrpcKubeProvider,
) -> None:
    with pytest.raises(Exception) as info:
        run_program(
            lambda: construct(
                provider, "greeter", "GrpcService", {"image": IMAGE, "namespace": "Apps"}
            )
        )
    text = str(info.value)
    assert "namespace" in text and "'Apps'" in text and "Fix" in text
    assert info.value.recording.of_type("kubernetes:apps/v1:Deployment") == []  # type: ignore[attr-defined]


def test_missing_required_object_is_named(provider: package.GrpcKubeProvider) -> None:
    with pytest.raises(Exception, match="controller"):
        run_program(lambda: construct(provider, "edge", "GrpcIngress", {"host": "a.example.com"}))


def engine_output_value(value: Any) -> Any:
    """A value as the engine hands it to the plugin when another language passes a component's
    output (`controller: nginx.ref`): one resolved Output of the whole object."""
    struct = struct_pb2.Struct()
    struct.update(
        {
            rpc._special_sig_key: rpc._special_output_value_sig,
            "value": value,
            "dependencies": ["urn:pulumi:test::grpc-kube::grpc-kube:index:GrpcService::x"],
        }
    )
    return rpc.deserialize_property(struct)


def test_refs_passed_as_whole_outputs_are_settled(provider: package.GrpcKubeProvider) -> None:
    def states() -> None:
        svc = construct(provider, "greeter", "GrpcService", {"image": IMAGE, "namespace": "apps"})
        nginx = construct(provider, "nginx", "NginxIngressController", {})
        pulumi.export("service", svc.state["ref"])
        pulumi.export("controller", nginx.state["ref"])

    refs = run_program(states).outputs
    assert refs["controller"]["ingressClass"] == "nginx"

    def through_package() -> None:
        construct(
            provider,
            "edge",
            "GrpcIngress",
            {
                "host": "greeter.example.com",
                "controller": engine_output_value(refs["controller"]),
                "service": engine_output_value(refs["service"]),
            },
        )

    rec = run_program(through_package)
    ingress = rec.kube("Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == (
        "greeter"
    )
    # The component waits for the resources the values came from.
    component = rec.one("grpc-kube:index:GrpcIngress")
    assert "urn:pulumi:test::grpc-kube::grpc-kube:index:GrpcService::x" in component.dependencies


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def to_schema_names(value: Any, spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A stack configuration written for Python (snake_case) as another language writes it,
    guided by the schema: object properties are camelCased, map keys (labels, routes) kept."""
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        typ = schema["types"][ref.removeprefix("#/types/")]
        if "enum" in typ:
            return value
        props = typ.get("properties", {})
        return {_camel(k): to_schema_names(v, props[_camel(k)], schema) for k, v in value.items()}
    if spec.get("type") == "array":
        return [to_schema_names(v, spec["items"], schema) for v in value]
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return {
            k: to_schema_names(v, spec["additionalProperties"], schema) for k, v in value.items()
        }
    return value


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_whole_stack_through_the_package_equals_python(
    stack: str, provider: package.GrpcKubeProvider, schema: dict[str, Any]
) -> None:
    """GrpcPlatform from another language: every nested type, enum, list and map of the stack
    configuration goes through the schema's names and back, and the same objects come out."""
    config = raw(stack)
    inputs_spec = schema["resources"][TOKEN + "GrpcPlatform"]["inputProperties"]
    camel = {
        _camel(k): to_schema_names(v, inputs_spec[_camel(k)], schema) for k, v in config.items()
    }
    assert camel != config  # the names really differ

    pkg = run_program(lambda: construct(provider, "grpc-kube", "GrpcPlatform", camel), stack=stack)
    py = run_program(lambda: GrpcPlatform("grpc-kube", config), stack=stack)
    assert len(objects(pkg)) > 20
    assert objects(pkg) == objects(py)
