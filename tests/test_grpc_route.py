"""GrpcRoute: the GRPCRoute it sends field by field (catch-all, method routes, reflection,
wildcard listeners), its outputs, the policies that let the gateway's data plane reach the
service (NetworkPolicies checked with tests/netpol_eval.py, Linkerd authorization), the mesh
interplay, NGF's ClientSettingsPolicy for message sizes, services and gateways given as plain
data, arguments that are Outputs, and every refusal (ingress-nginx-only options included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from netpol_eval import Pod, check
from schema_checks import validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    EdgeTlsArgs,
    TlsSecret,
)
from grpc_kube.gateway_api_crds import GatewayApiCrds
from grpc_kube.grpc_gateway import GatewayRef, GrpcGateway, GrpcGatewayArgs
from grpc_kube.grpc_route import GATEWAY_PATH_REFUSED, GrpcRoute, GrpcRouteArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs, GrpcServiceRef, ServerTlsArgs
from grpc_kube.mesh_authorization import MeshAuthorization
from grpc_kube.nginx_gateway_fabric import NginxGatewayFabric
from grpc_kube.nginx_ingress_controller import NginxIngressController
from grpc_kube.testing import Recording, run_program
from grpc_kube.zero_trust_policy import ZeroTrustPolicy, ZeroTrustPolicyArgs

IMAGE = "ghcr.io/example/greeter:1.4.2"
HOST = "grpc.example.com"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ROUTE_T = "kubernetes:gateway.networking.k8s.io/v1:GRPCRoute"
GATEWAY_T = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
POLICY_T = "kubernetes:gateway.nginx.org/v1alpha1:ClientSettingsPolicy"
COMPONENT = "grpc-kube:index:GrpcRoute"
REFLECTION = [
    {
        "method": {
            "type": "Exact",
            "service": f"grpc.reflection.{v}.ServerReflection",
            "method": "ServerReflectionInfo",
        }
    }
    for v in ("v1", "v1alpha")
]
# The labels NGF 2.6.7 puts on the data-plane pods of Gateway `grpc-gateway` (class `nginx`,
# release `ngf`): internal/controller/provisioner/{provisioner,objects}.go.
GATEWAY_POD = Pod(
    "grpc-gateway",
    {
        "app.kubernetes.io/instance": "ngf",
        "app.kubernetes.io/managed-by": "ngf-nginx",
        "app.kubernetes.io/name": "grpc-gateway-nginx",
        "gateway.networking.k8s.io/gateway-name": "grpc-gateway",
    },
    name="gateway",
)


class Built:
    def __init__(self, rec: Recording, holder: dict[str, Any]) -> None:
        self.rec = rec
        self.route: GrpcRoute | None = holder.get("route")
        self.gateway: GrpcGateway | None = holder.get("gateway")
        self.service: GrpcService = holder["service"]
        self.error: InvalidArgumentError | None = holder.get("error")
        self.seen: dict[str, Any] = holder["seen"]
        self.more: dict[str, Any] = holder.get("more", {})

    @property
    def obj(self) -> dict[str, Any]:
        return self.rec.kube("GRPCRoute")

    def assert_nothing_registered(self, name: str = "greeter-route") -> None:
        assert self.rec.of_type(COMPONENT) == []
        assert [o for o in self.rec.kubernetes_objects() if o["kind"] == "GRPCRoute"] == []
        assert [r.name for r in self.rec if r.name.startswith(name)] == []


def watch(route: GrpcRoute, seen: dict[str, Any]) -> None:
    """Record the route's Output attributes as they resolve (inside the program)."""
    for attr in ("host", "grpcurl_command", "ca_cert_pem", "route_name", "namespace"):
        getattr(route, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))


def gateway(gw: dict[str, Any] | None = None, **kw: Any) -> GrpcGateway:
    crds = GatewayApiCrds("gateway-api")
    ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
    args = {"hostnames": (HOST,), "route_namespaces": ("demo",), **(gw or {})}
    return GrpcGateway("grpc-gateway", GrpcGatewayArgs(**args), controller=ngf, **kw)


def build(
    name: str = "greeter-route",
    *,
    gw: dict[str, Any] | None = None,
    svc: dict[str, Any] | None = None,
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    after: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    gateway_kw: Callable[[], dict[str, Any]] | None = None,
    expect_error: bool = False,
    **kw: Any,
) -> Built:
    """One program: GatewayApiCrds -> NGF -> GrpcGateway, the greeter in namespace demo, and a
    GrpcRoute with `kw` (given as plain data). `extra(objects)` returns more GrpcRoute
    keywords; `after(objects)` builds policies from what was made. Outputs are resolved with
    `.apply` inside the program."""
    kw.setdefault("host", HOST)
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        service = GrpcService(
            "greeter", GrpcServiceArgs(image=IMAGE, namespace="demo", **(svc or {}))
        )
        holder["service"] = service
        gw_obj = gateway(gw, **(gateway_kw() if gateway_kw else {}))
        holder["gateway"] = gw_obj
        objects: dict[str, Any] = {"service": service, "gateway": gw_obj}
        more = extra(objects) if extra else {}
        more.setdefault("service", service)
        more.setdefault("gateway", gw_obj)
        try:
            route = GrpcRoute(name, kw, **more)
        except InvalidArgumentError as exc:
            if not expect_error:
                raise
            holder["error"] = exc
            return
        holder["route"] = route
        objects["route"] = route
        watch(route, holder["seen"])
        if after:
            holder["more"] = after(objects)

    return Built(run_program(program), holder)


def orders(port: int = 8080, namespace: str = "demo") -> GrpcService:
    return GrpcService("orders", GrpcServiceArgs(image=IMAGE, namespace=namespace, port=port))


def parent(section: str = "https-grpc-example-com") -> dict[str, str]:
    return {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": "grpc-gateway",
        "namespace": "grpc-gateway",
        "sectionName": section,
    }


# --- the GRPCRoute, field by field ------------------------------------------------------------


def test_service_gets_a_catch_all_rule_with_the_service_objects_name_and_port() -> None:
    b = build(svc={"port": 8080})
    route = b.obj
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["kind"] == "GRPCRoute"
    assert route["metadata"] == {
        "name": "greeter-route",
        "namespace": "demo",
        "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
    }
    assert route["spec"] == {
        "parentRefs": [parent()],
        "hostnames": [HOST],
        "rules": [{"backendRefs": [{"name": "greeter", "port": 8080}]}],
    }
    # The backendRef is read from the Service the GrpcService created: they cannot disagree.
    service = b.rec.kube("Service", "greeter")
    assert route["spec"]["rules"][0]["backendRefs"][0] == {
        "name": service["metadata"]["name"],
        "port": service["spec"]["ports"][0]["port"],
    }
    assert service["spec"]["ports"][0]["appProtocol"] == "kubernetes.io/h2c"


def test_args_as_the_model_or_as_plain_data_give_the_same_route() -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        gw = gateway()
        GrpcRoute("a", GrpcRouteArgs(host=HOST, labels={"team": "x"}), service=svc, gateway=gw)
        GrpcRoute("b", {"host": HOST, "labels": {"team": "x"}}, service=svc, gateway=gw)

    rec = run_program(program)
    a, b = (rec.one(ROUTE_T, f"{n}-grpcroute").inputs for n in ("a", "b"))
    assert a["spec"] == b["spec"]
    assert a["metadata"]["labels"] == b["metadata"]["labels"]


@pytest.mark.parametrize("with_default", [True, False], ids=["service-and-routes", "routes-only"])
def test_routes_by_whole_grpc_service_are_refused_because_ngf_would_drop_them(
    with_default: bool,
) -> None:
    # NGF 2.6.7 accepts GRPCRoute method matches only with service AND method (Gateway API
    # Core); a whole-service match makes the rule invalid and NGF leaves it out of nginx.conf.
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        routes = {"shop.Orders": orders(), "helloworld.Greeter": o["service"]}
        return {"routes": routes} if with_default else {"service": None, "routes": routes}

    b = build(extra=extra, expect_error=True)
    assert b.error is not None
    msg = str(b.error)
    assert "- routes: got ['shop.Orders', 'helloworld.Greeter']" in msg, msg
    assert "service+method" in msg and "Fix: route methods ('pkg.Service/Method')" in msg
    b.assert_nothing_registered()


def test_method_routes_go_to_their_services_ahead_of_the_catch_all() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        return {"routes": {"shop.Orders/Place": orders()}}

    b = build(extra=extra)
    assert b.obj["spec"]["rules"] == [
        {
            "matches": [{"method": {"type": "Exact", "service": "shop.Orders", "method": "Place"}}],
            "backendRefs": [{"name": "orders", "port": 8080}],
        },
        {"backendRefs": [{"name": "greeter", "port": 80}]},
    ]
    assert b.route is not None
    assert [i.name for i in b.route.backends] == ["greeter", "orders"]
    validate_all([b.obj])


def test_method_routes_without_a_catch_all_keep_reflection_reachable() -> None:
    # With no catch-all rule, grpcurl's reflection calls (ServerReflectionInfo, v1 and v1alpha)
    # go to the first backend.
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        return {
            "service": None,
            "routes": {
                "helloworld.Greeter/SayHello": o["service"],
                "shop.Orders/Place": orders(),
            },
        }

    b = build(extra=extra)
    rules = b.obj["spec"]["rules"]
    assert [r["backendRefs"] for r in rules] == [
        [{"name": "greeter", "port": 80}],
        [{"name": "orders", "port": 8080}],
        [{"name": "greeter", "port": 80}],
    ]
    assert rules[2]["matches"] == REFLECTION
    assert all("method" in m["method"] for r in rules for m in r["matches"])
    validate_all([b.obj])


@pytest.mark.parametrize(
    ("host", "section"),
    [
        ("grpc.example.com", "https-grpc-example-com"),
        ("api.apps.example.com", "https-wildcard-apps-example-com"),
        # The more specific wildcard wins, as Gateway API orders listeners.
        ("api.eu.apps.example.com", "https-wildcard-eu-apps-example-com"),
        # An exact listener beats every wildcard.
        ("exact.apps.example.com", "https-exact-apps-example-com"),
    ],
)
def test_parent_ref_names_the_listener_serving_the_host(host: str, section: str) -> None:
    hostnames = (
        "grpc.example.com",
        "*.apps.example.com",
        "*.eu.apps.example.com",
        "exact.apps.example.com",
    )
    b = build(gw={"hostnames": hostnames}, host=host)
    assert b.obj["spec"]["parentRefs"] == [parent(section)]
    assert b.obj["spec"]["hostnames"] == [host]
    listeners = [x["name"] for x in b.rec.kube("Gateway")["spec"]["listeners"]]
    assert section in listeners


def test_route_name_labels_and_grpcurl_method() -> None:
    b = build(route_name="public-greeter", labels={"team": "payments"}, grpcurl_method="list")
    assert b.obj["metadata"]["name"] == "public-greeter"
    assert b.obj["metadata"]["labels"] == {
        "team": "payments",
        "app.kubernetes.io/managed-by": "grpc-kube",
    }
    assert b.seen["grpcurl_command"] == "grpcurl -cacert ca.crt grpc.example.com:443 list"
    assert b.seen["route_name"] == "public-greeter"


def test_the_route_creates_no_ingress_and_no_tls_secret() -> None:
    b = build()
    assert b.rec.of_type(INGRESS) == []
    secrets = [
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in b.rec.kubernetes_objects()
        if o["kind"] == "Secret"
    ]
    assert secrets == [("grpc-gateway", "grpc-gateway-tls")]  # the Gateway's, not the route's
    comp = b.rec.one(COMPONENT)
    assert [r.name for r in b.rec.descendants_of(comp)] == ["greeter-route-grpcroute"]
    assert (b.seen["route_name"], b.seen["namespace"]) == ("greeter-route", "demo")


def test_the_route_waits_for_the_gateway() -> None:
    b = build()
    route = b.rec.one(ROUTE_T, "greeter-route-grpcroute")
    assert route.parent == b.rec.one(COMPONENT).urn
    assert b.rec.depends_on(route, b.rec.one("grpc-kube:index:GrpcGateway"))


def test_outputs_host_grpcurl_and_the_gateways_ca() -> None:
    b = build()
    assert b.seen["host"] == HOST
    assert b.seen["grpcurl_command"] == (
        "grpcurl -cacert ca.crt grpc.example.com:443 helloworld.Greeter/SayHello"
    )
    assert "MOCK-grpc-gateway-ca-cert" in b.seen["ca_cert_pem"]


@pytest.mark.parametrize(
    ("gw", "kw"),
    [
        ({}, {}),
        ({"mesh": True}, {"labels": {"team": "a"}, "route_name": "public"}),
        (
            {"hostnames": ("*.example.com",), "max_message_bytes": 4 << 20},
            {"max_message_bytes": 8 << 20},
        ),
    ],
    ids=["defaults", "meshed-with-labels", "wildcard-with-sizes"],
)
def test_objects_validate_against_gateway_api_v1_5_1_and_kubernetes(
    gw: dict[str, Any], kw: dict[str, Any]
) -> None:
    b = build(gw=gw, **kw)
    objects = b.rec.kubernetes_objects()
    ngf_policies = [o for o in objects if o["apiVersion"].startswith("gateway.nginx.org/")]
    # NGF's own CRD schemas are not among the fixtures: its policies are checked field by
    # field below (test_max_message_bytes_*), everything else against the schemas.
    assert validate_all([o for o in objects if o not in ngf_policies]) >= 8
    assert [o["kind"] for o in objects if o["kind"] in ("GRPCRoute", "Gateway")] == [
        "GRPCRoute",
        "Gateway",
    ]


# --- the gateway's certificate decides the CA output -------------------------------------------


def test_users_own_gateway_secret_gives_no_ca_and_no_cacert() -> None:
    b = build(gw={"tls_secret_name": "wildcard-example-com"})
    assert b.seen["ca_cert_pem"] is None
    assert b.seen["grpcurl_command"] == "grpcurl grpc.example.com:443 helloworld.Greeter/SayHello"
    assert b.rec.of_type("tls:index/privateKey:PrivateKey") == []


def test_shared_ca_issues_the_gateway_certificate_and_is_the_ca_output() -> None:
    def kw() -> dict[str, Any]:
        return {"ca": CertificateAuthority("stack-ca", CertificateAuthorityArgs(common_name="s"))}

    b = build(gateway_kw=kw)
    assert "MOCK-stack-ca-cert" in b.seen["ca_cert_pem"]
    assert b.rec.of_type("tls:index/selfSignedCert:SelfSignedCert")[0].name == "stack-ca-cert"
    assert "-cacert ca.crt" in b.seen["grpcurl_command"]


def test_a_tls_secret_object_on_the_gateway_is_served_and_its_ca_output() -> None:
    def kw() -> dict[str, Any]:
        ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp"))
        cert = Certificate(
            "wildcard", CertificateArgs(common_name=HOST, dns_names=("*.example.com",)), issuer=ca
        )
        secret = TlsSecret("w", certificate=cert, namespace="grpc-gateway", secret_name="wc")
        return {"tls_secret": secret}

    b = build(gateway_kw=kw)
    assert "MOCK-corp-ca-cert" in b.seen["ca_cert_pem"]
    assert "-cacert ca.crt" in b.seen["grpcurl_command"]
    ref = b.rec.kube("Gateway")["spec"]["listeners"][0]["tls"]["certificateRefs"][0]
    assert ref["name"] == "wc"
    assert b.rec.depends_on(
        b.rec.one(GATEWAY_T, "grpc-gateway-gateway"),
        b.rec.one("grpc-kube:index:TlsSecret", "w"),
    )


# --- policies: the gateway's data plane may reach the service --------------------------------


def test_backends_and_controller_peer_name_the_gateway_data_plane() -> None:
    b = build()
    assert b.route is not None and b.gateway is not None
    assert b.route.backends == (b.service.ref,)
    peer = b.route.controller_peer
    assert peer == b.gateway.peer
    assert peer.namespace == "grpc-gateway"
    assert peer.pod_labels == {"gateway.networking.k8s.io/gateway-name": "grpc-gateway"}
    assert peer.service_account == "grpc-gateway-nginx"
    assert peer.meshed is False


def _zero_trust(o: dict[str, Any]) -> dict[str, Any]:
    app = ZeroTrustPolicy(
        "demo-zero-trust", ZeroTrustPolicyArgs(namespace="demo"), ingresses=[o["route"]]
    )
    gateway = ZeroTrustPolicy(
        "gateway-zero-trust",
        ZeroTrustPolicyArgs(namespace="grpc-gateway"),
        ingresses=[o["route"]],
    )
    return {"policies": [*app.objects, *gateway.objects]}


def test_zero_trust_lets_only_the_gateway_pods_reach_the_service_port() -> None:
    b = build(after=_zero_trust)
    policies = b.more["policies"]
    greeter = b.rec.kube("Deployment", "greeter")["spec"]["template"]["metadata"]["labels"]
    greeter_pod = Pod("demo", greeter, name="greeter")
    port = b.service.ref.container_port
    ingress_rule = next(
        p for p in policies if p["metadata"]["name"] == "demo-zero-trust-greeter-ingress"
    )["spec"]["ingress"]
    assert ingress_rule == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "grpc-gateway"}
                    },
                    "podSelector": {
                        "matchLabels": {"gateway.networking.k8s.io/gateway-name": "grpc-gateway"}
                    },
                }
            ],
            "ports": [{"protocol": "TCP", "port": 50051}],
        }
    ]
    assert check(policies, GATEWAY_POD, greeter_pod, port)
    assert not check(policies, GATEWAY_POD, greeter_pod, 4143)  # nothing meshed
    others = [
        Pod("grpc-gateway", {"gateway.networking.k8s.io/gateway-name": "other"}, name="other-gw"),
        Pod("demo", {"app": "intruder"}, name="same-namespace"),
        Pod("rogue", dict(GATEWAY_POD.labels), name="same-labels-other-namespace"),
    ]
    for other in others:
        assert not check(policies, other, greeter_pod, port), other.name
    assert validate_all(policies) == len(policies)


def test_zero_trust_with_a_meshed_gateway_and_service_opens_the_proxy_port() -> None:
    b = build(gw={"mesh": True}, svc={"mesh": True}, after=_zero_trust)
    policies = b.more["policies"]
    greeter = b.rec.kube("Deployment", "greeter")["spec"]["template"]["metadata"]["labels"]
    greeter_pod = Pod("demo", greeter, name="greeter")
    # Meshed pod-to-pod traffic arrives on the peer proxy's inbound port 4143.
    assert check(policies, GATEWAY_POD, greeter_pod, 50051)
    assert check(policies, GATEWAY_POD, greeter_pod, 4143)
    assert not check(policies, Pod("demo", {"app": "x"}), greeter_pod, 4143)


# --- mesh interplay ---------------------------------------------------------------------------


def _authorization(o: dict[str, Any]) -> dict[str, Any]:
    authz = MeshAuthorization("greeter-authz", server=o["service"], allow=[o["gateway"].peer])
    return {"authz": authz}


def test_meshed_gateway_is_injected_and_authorized_by_its_identity() -> None:
    b = build(
        gw={"mesh": True},
        svc={"mesh": True, "health_port": 8086},
        after=_authorization,
    )
    gateway = b.rec.kube("Gateway", "grpc-gateway")
    assert gateway["spec"]["infrastructure"] == {"annotations": {"linkerd.io/inject": "enabled"}}
    auth = b.rec.kube("MeshTLSAuthentication", "greeter-grpc-clients")
    assert auth["spec"] == {
        "identityRefs": [
            {"kind": "ServiceAccount", "name": "grpc-gateway-nginx", "namespace": "grpc-gateway"}
        ]
    }
    assert b.more["authz"].identities == (
        "grpc-gateway-nginx.grpc-gateway.serviceaccount.identity.linkerd.cluster.local",
    )
    assert b.route is not None and b.route.controller_peer.meshed is True
    ngf_policies = [
        o for o in b.rec.kubernetes_objects() if o["apiVersion"].startswith("gateway.nginx.org/")
    ]
    assert ngf_policies == []
    assert validate_all(b.rec.kubernetes_objects()) >= 10


@pytest.mark.parametrize(
    ("gw", "level"),
    [
        ({}, "restricted"),
        ({"mesh": True}, "privileged"),
        ({"mesh": True, "linkerd_cni": True}, "restricted"),
        ({"pod_security": "baseline"}, "baseline"),
    ],
)
def test_gateway_namespace_pod_security_admits_the_meshed_data_plane(
    gw: dict[str, Any], level: str
) -> None:
    b = build(gw=gw)
    labels = b.rec.kube("Namespace", "grpc-gateway")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == level
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def test_headless_backend_behind_a_meshed_gateway_warns() -> None:
    b = build(gw={"mesh": True}, svc={"headless": True})
    assert any("headless" in w and "greeter-route" in w for w in b.rec.warnings)
    assert not any("headless" in w for w in build(svc={"headless": True}).rec.warnings)


# --- message sizes: NGF's ClientSettingsPolicy -------------------------------------------------


def _ngf_policies(rec: Recording) -> list[dict[str, Any]]:
    return [o for o in rec.kubernetes_objects() if o["kind"] == "ClientSettingsPolicy"]


def test_max_message_bytes_is_not_sent_unless_set() -> None:
    assert _ngf_policies(build().rec) == []
    assert _ngf_policies(build(max_message_bytes=None).rec) == []


def test_max_message_bytes_set_on_the_route_becomes_its_client_settings_policy() -> None:
    b = build(max_message_bytes=8 * 1024 * 1024, labels={"team": "a"})
    (policy,) = _ngf_policies(b.rec)
    assert policy == {
        "apiVersion": "gateway.nginx.org/v1alpha1",
        "kind": "ClientSettingsPolicy",
        "metadata": {
            "name": "greeter-route-client-settings",
            "namespace": "demo",
            "labels": {"team": "a", "app.kubernetes.io/managed-by": "grpc-kube"},
        },
        "spec": {
            "targetRef": {
                "group": "gateway.networking.k8s.io",
                "kind": "GRPCRoute",
                "name": "greeter-route",
            },
            # 8 MiB + the 5-byte frame header, rounded up to NGF's 4-digit size format.
            "body": {"maxSize": "8193k"},
        },
    }
    res = b.rec.one(POLICY_T, "greeter-route-client-settings")
    assert b.rec.depends_on(res, b.rec.one(ROUTE_T, "greeter-route-grpcroute"))


def test_gateway_and_route_limits_can_be_combined() -> None:
    b = build(gw={"max_message_bytes": 4 * 1024 * 1024}, max_message_bytes=65531)
    targets = {
        p["spec"]["targetRef"]["kind"]: (p["metadata"]["namespace"], p["spec"]["body"])
        for p in _ngf_policies(b.rec)
    }
    assert targets == {
        "Gateway": ("grpc-gateway", {"maxSize": "4097k"}),
        "GRPCRoute": ("demo", {"maxSize": "64k"}),
    }


# --- services and gateways as plain data --------------------------------------------------------


def test_a_service_ref_and_a_gateway_ref_as_plain_data() -> None:
    # A route for a service and a Gateway another program (or language) created: both given
    # as their facts, in the shape GrpcServiceRef and GatewayRef describe.
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        holder["route"] = GrpcRoute(
            "greeter-route",
            {"host": "grpc.example.com", "max_message_bytes": 1024},
            service={"name": "greeter", "namespace": "demo", "port": 8080},
            gateway={
                "name": "shared",
                "namespace": "edge",
                "hostnames": ["*.example.com"],
                "route_namespaces": "All",
                "service_account": "shared-nginx",
            },
        )
        watch(holder["route"], holder["seen"])

    rec = run_program(program)
    route = rec.kube("GRPCRoute")
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "shared",
            "namespace": "edge",
            "sectionName": "https-wildcard-example-com",
        }
    ]
    assert route["spec"]["rules"] == [{"backendRefs": [{"name": "greeter", "port": 8080}]}]
    assert rec.one(ROUTE_T).dependencies == []
    r = holder["route"]
    assert r.backends == (GrpcServiceRef(name="greeter", namespace="demo", port=8080),)
    assert r.controller_peer.pod_labels == {"gateway.networking.k8s.io/gateway-name": "shared"}
    assert holder["seen"]["ca_cert_pem"] is None
    assert holder["seen"]["grpcurl_command"].startswith("grpcurl grpc.example.com:443")
    assert validate_all([route]) == 1


def test_a_gateway_ref_is_checked_like_the_gateway() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        try:
            GrpcRoute(
                "greeter-route",
                {"host": "grpc.example.com"},
                service=GrpcServiceRef(name="greeter", namespace="demo"),
                gateway=GatewayRef(name="shared", namespace="edge", hostnames=["grpc.example.com"]),
            )
        except InvalidArgumentError as exc:
            holder["error"] = str(exc)

    rec = run_program(program)
    # route_namespaces defaults to Same: the Gateway in `edge` does not admit `demo`.
    assert (
        "- service: in namespace 'demo', which Gateway 'shared' does not admit" in holder["error"]
    )
    assert rec.resources == []


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_outputs_flow_into_the_route_and_its_policy() -> None:
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        gw = gateway()
        holder["route"] = GrpcRoute(
            "greeter-route",
            GrpcRouteArgs(
                host=pulumi.Output.from_input(HOST),
                route_name=pulumi.Output.from_input("public"),
                max_message_bytes=pulumi.Output.from_input(1024),
                grpcurl_method=pulumi.Output.from_input("list"),
                labels={"team": pulumi.Output.from_input("a")},
            ),
            service=svc,
            gateway=gw,
        )
        watch(holder["route"], holder["seen"])

    rec = run_program(program)
    route = rec.kube("GRPCRoute")
    assert route["metadata"]["name"] == "public"
    assert route["metadata"]["labels"]["team"] == "a"
    assert route["spec"]["hostnames"] == [HOST]
    assert route["spec"]["parentRefs"] == [parent()]
    policy = rec.kube("ClientSettingsPolicy")
    assert policy["metadata"]["name"] == "public-client-settings"
    assert policy["spec"]["targetRef"]["name"] == "public"
    assert policy["spec"]["body"] == {"maxSize": "1029"}
    assert holder["seen"]["grpcurl_command"] == "grpcurl -cacert ca.crt grpc.example.com:443 list"
    assert holder["seen"]["route_name"] == "public"


def test_namespace_from_a_namespace_resource_orders_the_route_with_no_depends_on() -> None:
    def program() -> None:
        ns = k8s.core.v1.Namespace("team-ns", metadata={"name": "team"})
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace=ns.metadata.name))
        GrpcRoute(
            "greeter-route",
            {"host": HOST, "max_message_bytes": 1024},
            service=svc,
            gateway=gateway({"route_namespaces": ["team"]}),
        )

    rec = run_program(program)
    ns = rec.one("kubernetes:core/v1:Namespace", "team-ns")
    route = rec.one(ROUTE_T)
    assert route.get("metadata.namespace") == "team"
    assert rec.depends_on(route, ns)
    assert rec.depends_on(rec.one(POLICY_T), ns)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("host", "other.example.org", "host: got 'other.example.org', but Gateway"),
        ("host", "Bad_Host", "host: got 'Bad_Host'"),
        ("max_message_bytes", 2**32, "4-byte length prefix"),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    field: str, value: Any, expected: str
) -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        kw: dict[str, Any] = {"host": HOST, field: pulumi.Output.from_input(value)}
        GrpcRoute("greeter-route", GrpcRouteArgs(**kw), service=svc, gateway=gateway())

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "GrpcRoute 'greeter-route': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg


def test_a_service_namespace_output_the_gateway_does_not_admit_fails_the_deployment() -> None:
    def program() -> None:
        svc = GrpcServiceRef(name="greeter", namespace=pulumi.Output.from_input("shop"))
        GrpcRoute("greeter-route", {"host": HOST}, service=svc, gateway=gateway())

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "values that arrived as Outputs" in msg and "add 'shop'" in msg, msg
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert ROUTE_T not in registered


# --- bad input ----------------------------------------------------------------------------------


def _other_namespace(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": orders(namespace="shop")}


def _two_namespaces(o: dict[str, Any]) -> dict[str, Any]:
    return {"routes": {"shop.Orders/Place": orders(namespace="shop")}}


def _tls_backend(o: dict[str, Any]) -> dict[str, Any]:
    tls = GrpcService(
        "secure",
        GrpcServiceArgs(
            image=IMAGE,
            namespace="demo",
            tls=ServerTlsArgs(secret_name="secure-tls"),
            health_port=8086,
        ),
    )
    return {"service": tls}


def _no_backend(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": None}


def _service_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": "greeter"}


def _bad_method_key(o: dict[str, Any]) -> dict[str, Any]:
    return {"routes": {"/helloworld.Greeter/SayHello": o["service"]}}


def _bad_service_ref(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": {"name": "Greeter", "namespace": "demo"}}


def _ingress_controller(o: dict[str, Any]) -> dict[str, Any]:
    return {"gateway": NginxIngressController("ingress-nginx")}


def _gateway_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"gateway": "grpc-gateway"}


@pytest.mark.parametrize(
    ("extra", "gw", "kw", "field", "hint"),
    [
        (None, {}, {"host": "other.example.org"}, "host", "no listener"),
        (
            None,
            {"hostnames": ("*.apps.example.com",)},
            {"host": "a.b.apps.example.com"},
            "host",
            "exactly one label",
        ),
        (_other_namespace, {}, {}, "service", "route_namespaces"),
        (None, {"route_namespaces": "Same"}, {}, "service", "add 'demo'"),
        (_two_namespaces, {}, {}, "service/routes", "one route per namespace"),
        (None, {}, {"tls": EdgeTlsArgs()}, "tls", "GrpcGateway"),
        (None, {}, {"backend_protocol": "GRPC"}, "backend_protocol", "mesh"),
        (None, {}, {"issue_backend_certificates": False}, "issue_backend_certificates", "h2c"),
        (None, {}, {"stream_idle_timeout_seconds": 7200}, "stream_idle_timeout_seconds", "60 s"),
        (None, {}, {"stream_idle_timeout_seconds": None}, "stream_idle_timeout_seconds", "60 s"),
        (None, {}, {"connect_timeout_seconds": 10}, "connect_timeout_seconds", "remove it"),
        (None, {}, {"annotations": {"a.io/b": "c"}}, "annotations", "remove them"),
        (None, {}, {"ingress_name": "pub"}, "ingress_name", "route_name"),
        (None, {}, {"max_message_bytes": 2**32}, "max_message_bytes", "4-byte length prefix"),
        (None, {}, {"max_message_bytes": 0}, "max_message_bytes", "at least 1"),
        (None, {}, {"host": "*.example.com"}, "host", "wildcard"),
        (None, {}, {"grpcurl_method": "SayHello"}, "grpcurl_method", "package.Service/Method"),
        (None, {}, {"labels": {"app.kubernetes.io/managed-by": "x"}}, "labels", "GrpcRoute"),
        (None, {}, {"hots": HOST}, "hots", "Did you mean 'host'"),
        (_tls_backend, {}, {}, "service", "serve TLS"),
        (_two_namespaces, {}, {"host": "x.example.org"}, "host", "no listener"),
        (_no_backend, {}, {}, "service", "needs a backend"),
        (_service_by_name, {}, {}, "service", "pass the GrpcService object"),
        (_bad_service_ref, {}, {}, "service.name", "'greeter'"),
        (_bad_method_key, {}, {}, "routes", "'package.Service/Method'"),
        (_ingress_controller, {}, {}, "gateway", "GrpcIngress"),
        (_gateway_by_name, {}, {}, "gateway", "pass the GrpcGateway object"),
    ],
)
def test_bad_input_registers_nothing(
    extra: Any, gw: dict[str, Any], kw: dict[str, Any], field: str, hint: str
) -> None:
    b = build(extra=extra, gw=gw, expect_error=True, **kw)
    assert b.error is not None, "expected InvalidArgumentError"
    msg = str(b.error)
    assert msg.startswith("GrpcRoute 'greeter-route': invalid input"), msg
    assert f"- {field}" in msg, msg
    assert hint in msg and ("Fix:" in msg or "Did you mean" in msg), msg
    b.assert_nothing_registered()


def test_every_ingress_nginx_option_is_reported_at_once() -> None:
    b = build(
        expect_error=True,
        backend_protocol="GRPC",
        stream_idle_timeout_seconds=600,
        annotations={"a.io/b": "c"},
    )
    assert b.error is not None
    fields = [p.split(":")[0] for p in b.error.problems]
    assert fields == ["annotations", "backend_protocol", "stream_idle_timeout_seconds"]
    for field in fields:
        assert GATEWAY_PATH_REFUSED[field] in str(b.error)


def test_invalid_component_name_needs_route_name() -> None:
    b = build("Greeter_Route", expect_error=True)
    assert b.error is not None
    assert "- name: got 'Greeter_Route'" in str(b.error)
    assert build("Greeter_Route", route_name="greeter-route").obj
