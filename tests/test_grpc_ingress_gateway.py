"""The two entry points side by side: GrpcIngress writes an ingress-nginx Ingress, GrpcRoute a
Gateway API GRPCRoute. Each refuses the other's controller with a pointer to the right
component, and the same service published both ways gives the same outputs and backends."""

from __future__ import annotations

from typing import Any

import pytest

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.gateway_api_crds import GatewayApiCrds
from grpc_kube.grpc_gateway import GrpcGateway, GrpcGatewayArgs
from grpc_kube.grpc_ingress import GrpcIngress, GrpcIngressArgs
from grpc_kube.grpc_route import GrpcRoute, GrpcRouteArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
from grpc_kube.nginx_gateway_fabric import NginxGatewayFabric
from grpc_kube.nginx_ingress_controller import NginxIngressController
from grpc_kube.testing import Recording, run_program

IMAGE = "ghcr.io/example/greeter:1.4.2"
HOST = "grpc.example.com"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ROUTE_T = "kubernetes:gateway.networking.k8s.io/v1:GRPCRoute"


def _gateway() -> GrpcGateway:
    crds = GatewayApiCrds("gateway-api")
    ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
    return GrpcGateway(
        "grpc-gateway",
        GrpcGatewayArgs(hostnames=(HOST,), route_namespaces=("demo",)),
        controller=ngf,
    )


def publish(via: str, **kw: Any) -> tuple[Recording, dict[str, Any]]:
    """The greeter published through ingress-nginx (`via="nginx"`) or the Gateway API
    (`via="gateway"`), with the options both share; outputs resolved in the program."""
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        holder["service"] = svc
        entry: GrpcIngress | GrpcRoute
        if via == "nginx":
            name = kw.pop("name", None)
            entry = GrpcIngress(
                "greeter-route",
                GrpcIngressArgs(host=HOST, ingress_name=name, **kw),
                service=svc,
                controller=NginxIngressController("ingress-nginx"),
            )
        else:
            entry = GrpcRoute(
                "greeter-route",
                GrpcRouteArgs(host=HOST, route_name=kw.pop("name", None), **kw),
                service=svc,
                gateway=_gateway(),
            )
        holder["entry"] = entry
        seen = holder["seen"]
        for attr in ("host", "grpcurl_command", "ca_cert_pem", "namespace"):
            getattr(entry, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))

    return run_program(program), holder


@pytest.mark.parametrize("via", ["nginx", "gateway"])
def test_the_same_service_published_both_ways_gives_the_same_outputs(via: str) -> None:
    rec, holder = publish(via)
    kinds = rec.kinds()
    if via == "nginx":
        assert "Ingress" in kinds and "GRPCRoute" not in kinds
        ca_resource = "greeter-route-ca-cert"
    else:
        assert "GRPCRoute" in kinds and "Ingress" not in kinds
        ca_resource = "grpc-gateway-ca-cert"
    seen = holder["seen"]
    assert seen["host"] == HOST
    assert seen["grpcurl_command"] == (
        "grpcurl -cacert ca.crt grpc.example.com:443 helloworld.Greeter/SayHello"
    )
    assert f"MOCK-{ca_resource}" in seen["ca_cert_pem"]
    assert seen["namespace"] == "demo"
    entry = holder["entry"]
    assert entry.backends == (holder["service"].ref,)


@pytest.mark.parametrize("via", ["nginx", "gateway"])
def test_name_labels_and_grpcurl_method_work_on_both_entry_points(via: str) -> None:
    rec, holder = publish(via, grpcurl_method="describe", labels={"team": "a"}, name="pub")
    obj = rec.kube("Ingress" if via == "nginx" else "GRPCRoute", "pub")
    assert obj["metadata"]["labels"] == {"team": "a", "app.kubernetes.io/managed-by": "grpc-kube"}
    assert holder["seen"]["grpcurl_command"].endswith(f"{HOST}:443 describe")


def test_grpc_ingress_on_a_gateway_points_to_grpc_route() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        try:
            GrpcIngress(
                "greeter-route",
                GrpcIngressArgs(host=HOST),
                service=svc,
                controller=_gateway(),  # type: ignore[arg-type]
            )
        except InvalidArgumentError as exc:
            holder["error"] = exc

    rec = run_program(program)
    err = holder["error"]
    assert str(err).startswith("GrpcIngress 'greeter-route': invalid input")
    assert err.problems[0].startswith("controller: got a GrpcGateway")
    assert "Fix: publish with GrpcRoute(" in str(err) and "gateway=<the GrpcGateway>" in str(err)
    assert rec.of_type("grpc-kube:index:GrpcIngress") == []
    assert rec.of_type(INGRESS) == [] and rec.of_type(ROUTE_T) == []


def test_grpc_route_on_an_ingress_controller_points_to_grpc_ingress() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        try:
            GrpcRoute(
                "greeter-route",
                GrpcRouteArgs(host=HOST),
                service=svc,
                gateway=NginxIngressController("ingress-nginx"),  # type: ignore[arg-type]
            )
        except InvalidArgumentError as exc:
            holder["error"] = str(exc)

    rec = run_program(program)
    assert "- gateway: got an ingress-nginx controller" in holder["error"]
    assert "publish on ingress-nginx with GrpcIngress" in holder["error"]
    assert rec.of_type("grpc-kube:index:GrpcRoute") == []
