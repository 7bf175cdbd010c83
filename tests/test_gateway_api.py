"""Gateway API path: NGINX Gateway Fabric install, the Gateway, and GRPCRoutes."""

from __future__ import annotations

from typing import Any

import pytest
from schema_checks import unknown_value_keys, validate_all

from components import GrpcService, GrpcServiceArgs, InvalidArgumentError
from components.gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs
from components.grpc_gateway import (
    GrpcGateway,
    GrpcGatewayArgs,
    GrpcMethodMatch,
    grpc_route_object,
)
from components.nginx_gateway_fabric import NginxGatewayFabric, NginxGatewayFabricArgs
from components.testing import run_program

RELEASE = "kubernetes:helm.sh/v3:Release"


def gateway_stack(**gw: Any) -> tuple[Any, dict[str, Any]]:
    gw.setdefault("hostnames", ("grpc.example.com",))
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        made["ngf"] = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        made["gw"] = GrpcGateway("grpc-gateway", GrpcGatewayArgs(**gw), controller=made["ngf"])

    return run_program(program), made


def test_ngf_release_pinned_after_the_shared_crds() -> None:
    rec, _ = gateway_stack()
    rel = rec.one(RELEASE)
    assert rel.inputs["chart"] == "oci://ghcr.io/nginx/charts/nginx-gateway-fabric"
    assert rel.inputs["version"] == "2.6.7"
    assert rel.inputs["namespace"] == "nginx-gateway"
    crds = rec.one("grpc-kube:index:GatewayApiCrds")
    assert rec.depends_on(rel, crds)
    ns = rec.kube("Namespace", "nginx-gateway")
    assert rec.depends_on(rel, rec.one("kubernetes:core/v1:Namespace", "ngf-namespace"))
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


def test_ngf_values_exist_in_the_chart_and_default_to_no_telemetry() -> None:
    rec, _ = gateway_stack()
    values = rec.one(RELEASE).inputs["values"]
    assert unknown_value_keys(values, "nginx-gateway-fabric-2.6.7.keys") == []
    assert values["nginxGateway"]["productTelemetry"] == {"enable": False}
    assert values["nginxGateway"]["gatewayClassName"] == "nginx"
    assert values["nginx"]["replicas"] == 1


def test_ngf_high_availability_and_extra_values() -> None:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        NginxGatewayFabric(
            "ngf",
            NginxGatewayFabricArgs(
                high_availability=True,
                service_type="NodePort",
                extra_values={"nginxGateway": {"config": {"logging": {"level": "debug"}}}},
            ),
            gateway_api_crds=crds,
        )

    values = run_program(program).one(RELEASE).inputs["values"]
    assert values["nginxGateway"]["replicas"] == 2
    assert values["nginx"]["replicas"] == 2
    assert values["nginx"]["service"]["type"] == "NodePort"
    assert values["nginxGateway"]["config"]["logging"]["level"] == "debug"
    assert values["nginxGateway"]["gatewayClassName"] == "nginx"  # merged, not replaced
    assert unknown_value_keys(values, "nginx-gateway-fabric-2.6.7.keys") == []


def test_ngf_warns_when_crds_are_newer_than_it_was_built_for() -> None:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(version="v1.6.1"))
        NginxGatewayFabric("ngf", gateway_api_crds=crds)

    assert any("built against Gateway API v1.5.1" in w for w in run_program(program).warnings)


def test_gateway_https_listener_with_generated_certificate() -> None:
    rec, made = gateway_stack()
    gw = rec.kube("Gateway", "grpc-gateway")
    assert gw["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gw["metadata"]["namespace"] == "grpc-gateway"
    assert gw["spec"]["gatewayClassName"] == "nginx"
    (listener,) = gw["spec"]["listeners"]
    assert listener == {
        "name": "https-grpc-example-com",
        "hostname": "grpc.example.com",
        "port": 443,
        "protocol": "HTTPS",
        "tls": {
            "mode": "Terminate",
            "certificateRefs": [{"kind": "Secret", "group": "", "name": "grpc-gateway-tls"}],
        },
        "allowedRoutes": {
            "namespaces": {"from": "Same"},
            "kinds": [{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}],
        },
    }
    secret = rec.kube("Secret", "grpc-gateway-tls")
    assert secret["metadata"]["namespace"] == "grpc-gateway"
    assert secret["type"] == "kubernetes.io/tls"
    assert rec.one("kubernetes:core/v1:Secret").secret_paths == ["stringData"]
    csr = rec.one("tls:index/certRequest:CertRequest")
    assert csr.inputs["dnsNames"] == ["grpc.example.com"]
    assert made["gw"].ca_cert_pem is not None
    assert "infrastructure" not in gw["spec"]


def test_gateway_with_own_secret_route_namespaces_and_mesh() -> None:
    rec, made = gateway_stack(
        hostnames=("grpc.example.com", "*.apps.example.com"),
        tls_secret_name="wildcard-tls",
        route_namespaces=("payments", "orders"),
        mesh=True,
        create_namespace=False,
    )
    gw = rec.kube("Gateway")
    assert [x["name"] for x in gw["spec"]["listeners"]] == [
        "https-grpc-example-com",
        "https-wildcard-apps-example-com",
    ]
    assert gw["spec"]["listeners"][1]["tls"]["certificateRefs"][0]["name"] == "wildcard-tls"
    assert gw["spec"]["listeners"][0]["allowedRoutes"]["namespaces"] == {
        "from": "Selector",
        "selector": {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "In",
                    "values": ["payments", "orders"],
                }
            ]
        },
    }
    assert gw["spec"]["infrastructure"] == {"annotations": {"linkerd.io/inject": "enabled"}}
    assert rec.of_type("tls:index/privateKey:PrivateKey") == []
    assert "Namespace" not in [
        o["kind"] for o in rec.kubernetes_objects() if o["metadata"].get("name") == "grpc-gateway"
    ]
    peer = made["gw"].peer
    assert peer.pod_labels == {"gateway.networking.k8s.io/gateway-name": "grpc-gateway"}
    assert peer.service_account == "grpc-gateway-nginx"
    assert peer.meshed is True


def test_gateway_objects_validate() -> None:
    rec, _ = gateway_stack(mesh=True, route_namespaces=("demo",))
    assert validate_all(rec.kubernetes_objects()) >= 3


def route(
    matches: tuple[GrpcMethodMatch, ...] = (), hostnames: tuple[str, ...] = ("grpc.example.com",)
) -> dict[str, Any]:
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        gw = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(
                hostnames=("grpc.example.com", "*.apps.example.com"), route_namespaces=("demo",)
            ),
            controller=ngf,
        )
        svc = GrpcService("greeter", GrpcServiceArgs(image="r/greeter:1.0.0", namespace="demo"))
        made["route"] = grpc_route_object(
            name="greeter", service=svc.info, gateway=gw, hostnames=hostnames, matches=matches
        )

    run_program(program)
    return made["route"]


def test_route_sends_every_method_to_the_service_object() -> None:
    r = route()
    assert r["metadata"] == {
        "name": "greeter",
        "namespace": "demo",
        "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
    }
    assert r["spec"] == {
        "parentRefs": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": "grpc-gateway",
                "namespace": "grpc-gateway",
                "sectionName": "https-grpc-example-com",
            }
        ],
        "hostnames": ["grpc.example.com"],
        "rules": [{"name": "all", "backendRefs": [{"name": "greeter", "port": 80}]}],
    }
    validate_all([r])


def test_route_with_method_matches_keeps_reflection_reachable() -> None:
    r = route(
        matches=(GrpcMethodMatch(service="helloworld.Greeter", method="SayHello"),),
        hostnames=("api.apps.example.com",),
    )
    assert r["spec"]["parentRefs"][0]["sectionName"] == "https-wildcard-apps-example-com"
    methods, reflection = r["spec"]["rules"]
    assert methods["matches"] == [
        {"method": {"type": "Exact", "service": "helloworld.Greeter", "method": "SayHello"}}
    ]
    assert reflection["matches"] == [
        {"method": {"type": "Exact", "service": "grpc.reflection.v1.ServerReflection"}},
        {"method": {"type": "Exact", "service": "grpc.reflection.v1alpha.ServerReflection"}},
    ]
    assert reflection["backendRefs"] == methods["backendRefs"]
    validate_all([r])


def test_route_for_a_host_no_listener_serves_is_refused() -> None:
    with pytest.raises(ValueError, match="no listener"):
        route(hostnames=("other.example.org",))


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"hostnames": ()}, "hostnames", "at least 1"),
        ({"hostnames": ("Bad_Host",)}, "hostnames", "hostname"),
        ({"hostnames": ("a.example.com", "a.example.com")}, "hostnames", "repeat"),
        ({"route_namespaces": ()}, "route_namespaces", "admits no route"),
        ({"namespace": "Gateway NS"}, "namespace", "Fix"),
        ({"tls_secret_name": "Bad Secret"}, "tls_secret_name", "Fix"),
        ({"certificate_early_renewal_hours": 5000}, "(root)", "early_renewal"),
    ],
)
def test_bad_gateway_args(kwargs: dict[str, Any], field: str, hint: str) -> None:
    kwargs.setdefault("hostnames", ("grpc.example.com",))
    with pytest.raises(InvalidArgumentError) as err:
        GrpcGatewayArgs(**kwargs)
    assert f"- {field}" in str(err.value) and hint in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "hint"),
    [
        ({"service": "hello world"}, "package-qualified"),
        (
            {"service": "helloworld.Greeter", "method": "helloworld.Greeter/SayHello"},
            "one identifier",
        ),
    ],
)
def test_bad_method_matches(kwargs: dict[str, Any], hint: str) -> None:
    with pytest.raises(InvalidArgumentError, match=hint):
        GrpcMethodMatch(**kwargs)


def test_gateway_requires_the_controller_object() -> None:
    with pytest.raises(TypeError, match="NginxGatewayFabric"):
        run_program(
            lambda: GrpcGateway(
                "gw",
                GrpcGatewayArgs(hostnames=("a.example.com",)),
                controller="nginx",  # type: ignore[arg-type]
            )
        )
