"""GrpcIngress on the Gateway API path: the GRPCRoute it sends field by field (catch-all,
per-service matches, reflection, wildcard listeners), the switch between the two paths with the
same arguments and outputs, the policies that let the gateway's data plane reach the service
(NetworkPolicies checked with tests/netpol_eval.py, Linkerd authorization), the mesh interplay,
NGF's ClientSettingsPolicy for message sizes, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from grpc_kube.grpc_gateway import (
    GrpcGateway,
    GrpcGatewayArgs,
    GrpcMethodMatch,
    grpc_route_object,
)
from grpc_kube.grpc_ingress import GrpcIngress, GrpcIngressArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs, ServerTlsArgs
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
COMPONENT = "grpc-kube:index:GrpcIngress"
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
        self.ingress: GrpcIngress | None = holder.get("ingress")
        self.gateway: GrpcGateway | None = holder.get("gateway")
        self.service: GrpcService = holder["service"]
        self.error: InvalidArgumentError | None = holder.get("error")
        self.seen: dict[str, Any] = holder["seen"]
        self.more: dict[str, Any] = holder.get("more", {})

    @property
    def route(self) -> dict[str, Any]:
        return self.rec.kube("GRPCRoute")

    def assert_nothing_registered(self, name: str = "greeter-route") -> None:
        assert self.rec.of_type(COMPONENT) == []
        assert [o for o in self.rec.kubernetes_objects() if o["kind"] == "GRPCRoute"] == []
        assert self.rec.of_type(INGRESS) == []
        assert [r.name for r in self.rec if r.name.startswith(name)] == []


def build(
    name: str = "greeter-route",
    *,
    gw: dict[str, Any] | None = None,
    svc: dict[str, Any] | None = None,
    via: str = "gateway",
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    after: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    gateway_kw: Callable[[], dict[str, Any]] | None = None,
    expect_error: bool = False,
    **kw: Any,
) -> Built:
    """One program: GatewayApiCrds -> NGF -> GrpcGateway (or ingress-nginx with via="nginx"),
    the greeter in namespace demo, and a GrpcIngress with `kw`. `extra(objects)` returns more
    GrpcIngress keywords; `after(objects)` builds policies from what was made. Outputs are
    resolved with `.apply` inside the program."""
    kw.setdefault("host", HOST)
    gw_args = {"hostnames": (HOST,), "route_namespaces": ("demo",), **(gw or {})}
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        service = GrpcService(
            "greeter", GrpcServiceArgs(image=IMAGE, namespace="demo", **(svc or {}))
        )
        holder["service"] = service
        controller: GrpcGateway | NginxIngressController
        if via == "gateway":
            crds = GatewayApiCrds("gateway-api")
            ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
            controller = GrpcGateway(
                "grpc-gateway",
                GrpcGatewayArgs(**gw_args),
                controller=ngf,
                **(gateway_kw() if gateway_kw else {}),
            )
            holder["gateway"] = controller
        else:
            controller = NginxIngressController("ingress-nginx")
        objects = {"service": service, "controller": controller}
        more = extra(objects) if extra else {}
        more.setdefault("service", service)
        try:
            ing = GrpcIngress(name, GrpcIngressArgs(**kw), controller=controller, **more)
        except InvalidArgumentError as exc:
            if not expect_error:
                raise
            holder["error"] = exc
            return
        holder["ingress"] = ing
        objects["ingress"] = ing
        seen = holder["seen"]
        ing.host.apply(lambda v: seen.__setitem__("host", v))
        ing.grpcurl_command.apply(lambda v: seen.__setitem__("grpcurl", v))
        ing.ca_cert_pem.apply(lambda v: seen.__setitem__("ca", v))
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
    route = b.route
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


@pytest.mark.parametrize("with_default", [True, False], ids=["service-and-routes", "routes-only"])
def test_routes_by_grpc_service_name_are_refused_because_ngf_would_drop_them(
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
    assert "service+method" in msg and "Fix: publish each service on its own host" in msg
    b.assert_nothing_registered()


def test_method_routes_without_a_catch_all_keep_reflection_reachable() -> None:
    # Routing by method is expressible (grpc_route_object); with no catch-all rule, grpcurl's
    # reflection calls (ServerReflectionInfo, v1 and v1alpha) go to the first backend.
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        gw = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(hostnames=(HOST,), route_namespaces=("demo",)),
            controller=ngf,
        )
        greeter = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        made["route"] = grpc_route_object(
            name="methods",
            gateway=gw,
            hostnames=(HOST,),
            routes=[
                (GrpcMethodMatch(service="helloworld.Greeter", method="SayHello"), greeter.ref),
                (GrpcMethodMatch(service="shop.Orders", method="Place"), orders().ref),
            ],
        )

    run_program(program)
    rules = made["route"]["spec"]["rules"]
    assert [r["backendRefs"] for r in rules] == [
        [{"name": "greeter", "port": 80}],
        [{"name": "orders", "port": 8080}],
        [{"name": "greeter", "port": 80}],
    ]
    assert rules[2]["matches"] == REFLECTION
    assert all("method" in m["method"] for r in rules for m in r["matches"])
    validate_all([made["route"]])


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
    assert b.route["spec"]["parentRefs"] == [parent(section)]
    assert b.route["spec"]["hostnames"] == [host]
    listeners = [x["name"] for x in b.rec.kube("Gateway")["spec"]["listeners"]]
    assert section in listeners


def test_route_name_labels_and_grpcurl_method() -> None:
    b = build(ingress_name="public-greeter", labels={"team": "payments"}, grpcurl_method="list")
    assert b.route["metadata"]["name"] == "public-greeter"
    assert b.route["metadata"]["labels"] == {
        "team": "payments",
        "app.kubernetes.io/managed-by": "grpc-kube",
    }
    assert b.seen["grpcurl"] == "grpcurl -cacert ca.crt grpc.example.com:443 list"


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
    assert b.ingress is not None
    assert b.ingress.tls_secret_name == "grpc-gateway-tls"
    assert b.ingress.annotations == {}
    assert (b.ingress.ingress_name, b.ingress.namespace, b.ingress.via) == (
        "greeter-route",
        "demo",
        "gateway-api",
    )


def test_the_route_waits_for_the_gateway() -> None:
    b = build()
    route = b.rec.one(ROUTE_T, "greeter-route-grpcroute")
    assert route.parent == b.rec.one(COMPONENT).urn
    assert b.rec.depends_on(route, b.rec.one("grpc-kube:index:GrpcGateway"))


@pytest.mark.parametrize(
    ("gw", "kw"),
    [
        ({}, {}),
        ({"mesh": True}, {"labels": {"team": "a"}, "ingress_name": "public"}),
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


# --- the switch: the same arguments on both paths ----------------------------------------------


@pytest.mark.parametrize("via", ["nginx", "gateway"])
def test_one_argument_switches_between_ingress_and_grpcroute(via: str) -> None:
    b = build(via=via)
    kinds = b.rec.kinds()
    assert b.ingress is not None
    if via == "nginx":
        assert "Ingress" in kinds and "GRPCRoute" not in kinds
        assert b.ingress.via == "ingress-nginx"
        ca_resource = "greeter-route-ca-cert"
    else:
        assert "GRPCRoute" in kinds and "Ingress" not in kinds
        assert b.ingress.via == "gateway-api"
        ca_resource = "grpc-gateway-ca-cert"
    # Outputs are the same on both paths.
    assert b.seen["host"] == HOST
    assert b.seen["grpcurl"] == (
        "grpcurl -cacert ca.crt grpc.example.com:443 helloworld.Greeter/SayHello"
    )
    assert f"MOCK-{ca_resource}" in b.seen["ca"]
    assert [i.name for i in b.ingress.backends] == ["greeter"]
    assert b.ingress.backends[0] == b.service.ref


def test_users_own_gateway_secret_gives_no_ca_and_no_cacert() -> None:
    b = build(gw={"tls_secret_name": "wildcard-example-com"})
    assert b.seen["ca"] is None
    assert b.seen["grpcurl"] == "grpcurl grpc.example.com:443 helloworld.Greeter/SayHello"
    assert b.rec.of_type("tls:index/privateKey:PrivateKey") == []
    listener = b.rec.kube("Gateway")["spec"]["listeners"][0]
    assert listener["tls"]["certificateRefs"] == [
        {"kind": "Secret", "group": "", "name": "wildcard-example-com"}
    ]


def test_shared_ca_issues_the_gateway_certificate_and_is_the_ca_output() -> None:
    def kw() -> dict[str, Any]:
        return {"ca": CertificateAuthority("stack-ca", CertificateAuthorityArgs(common_name="s"))}

    b = build(gateway_kw=kw)
    assert "MOCK-stack-ca-cert" in b.seen["ca"]
    assert b.rec.of_type("tls:index/selfSignedCert:SelfSignedCert")[0].name == "stack-ca-cert"
    assert "-cacert ca.crt" in b.seen["grpcurl"]


def test_a_tls_secret_object_on_the_gateway_is_served_and_its_ca_output() -> None:
    def kw() -> dict[str, Any]:
        ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp"))
        cert = Certificate(
            "wildcard", CertificateArgs(common_name=HOST, dns_names=("*.example.com",)), issuer=ca
        )
        secret = TlsSecret("w", certificate=cert, namespace="grpc-gateway", secret_name="wc")
        return {"tls_secret": secret}

    b = build(gateway_kw=kw)
    assert "MOCK-corp-ca-cert" in b.seen["ca"]
    assert "-cacert ca.crt" in b.seen["grpcurl"]
    ref = b.rec.kube("Gateway")["spec"]["listeners"][0]["tls"]["certificateRefs"][0]
    assert ref["name"] == "wc"
    assert b.rec.depends_on(
        b.rec.one(GATEWAY_T, "grpc-gateway-gateway"),
        b.rec.one("grpc-kube:index:TlsSecret", "w"),
    )


# --- policies: the gateway's data plane may reach the service --------------------------------


def test_backends_and_controller_peer_name_the_gateway_data_plane() -> None:
    b = build()
    assert b.ingress is not None and b.gateway is not None
    assert b.ingress.backends == (b.service.ref,)
    peer = b.ingress.controller_peer
    assert peer == b.gateway.peer
    assert peer.namespace == "grpc-gateway"
    assert peer.pod_labels == {"gateway.networking.k8s.io/gateway-name": "grpc-gateway"}
    assert peer.service_account == "grpc-gateway-nginx"
    assert peer.meshed is False


def _zero_trust(o: dict[str, Any]) -> dict[str, Any]:
    app = ZeroTrustPolicy(
        "demo-zero-trust", ZeroTrustPolicyArgs(namespace="demo"), ingresses=[o["ingress"]]
    )
    gateway = ZeroTrustPolicy(
        "gateway-zero-trust",
        ZeroTrustPolicyArgs(namespace="grpc-gateway"),
        ingresses=[o["ingress"]],
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
    authz = MeshAuthorization("greeter-authz", server=o["service"], allow=[o["controller"].peer])
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
    assert b.ingress is not None and b.ingress.controller_peer.meshed is True
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


def test_max_message_bytes_is_not_sent_unless_set_explicitly() -> None:
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


# --- bad input ----------------------------------------------------------------------------------


def _other_namespace(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": orders(namespace="shop")}


def _two_namespaces(o: dict[str, Any]) -> dict[str, Any]:
    return {"routes": {"shop.Orders": orders(namespace="shop")}}


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


def _tls_secret(o: dict[str, Any]) -> dict[str, Any]:
    ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp"))
    cert = Certificate("c", CertificateArgs(common_name=HOST, dns_names=(HOST,)), issuer=ca)
    return {"tls_secret": TlsSecret("w", certificate=cert, namespace="demo", secret_name="w")}


def _ca(o: dict[str, Any]) -> dict[str, Any]:
    return {"ca": CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp"))}


def _no_backend(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": None}


def _service_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": "greeter"}


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
        (_two_namespaces, {}, {}, "service/routes", "one GrpcIngress per namespace"),
        (None, {}, {"tls": EdgeTlsArgs()}, "tls", "GrpcGateway"),
        (None, {}, {"backend_protocol": "GRPC"}, "backend_protocol", "mesh"),
        (None, {}, {"issue_backend_certificates": False}, "issue_backend_certificates", "h2c"),
        (None, {}, {"stream_idle_timeout_seconds": 7200}, "stream_idle_timeout_seconds", "60 s"),
        (None, {}, {"stream_idle_timeout_seconds": None}, "stream_idle_timeout_seconds", "60 s"),
        (None, {}, {"connect_timeout_seconds": 10}, "connect_timeout_seconds", "remove it"),
        (None, {}, {"annotations": {"a.io/b": "c"}}, "annotations", "remove them"),
        (None, {}, {"max_message_bytes": 2**32}, "max_message_bytes", "4-byte length prefix"),
        (_tls_backend, {}, {}, "service", "serve TLS"),
        (_tls_secret, {}, {}, "tls_secret/ca", "pass them to the GrpcGateway"),
        (_ca, {}, {}, "tls_secret/ca", "pass them to the GrpcGateway"),
        (_two_namespaces, {}, {"host": "x.example.org"}, "host", "no listener"),
        (_no_backend, {}, {}, "service", "needs a backend"),
        (_service_by_name, {}, {}, "service", "pass the GrpcService object"),
    ],
)
def test_bad_input_on_the_gateway_path_registers_nothing(
    extra: Any, gw: dict[str, Any], kw: dict[str, Any], field: str, hint: str
) -> None:
    b = build(extra=extra, gw=gw, expect_error=True, **kw)
    assert b.error is not None, "expected InvalidArgumentError"
    msg = str(b.error)
    assert msg.startswith("GrpcIngress 'greeter-route': invalid input"), msg
    assert f"- {field}" in msg, msg
    assert hint in msg and "Fix:" in msg, msg
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


def test_name_labels_and_grpcurl_method_work_on_both_paths() -> None:
    options = {"grpcurl_method": "describe", "labels": {"team": "a"}, "ingress_name": "pub"}
    for via in ("nginx", "gateway"):
        b = build(via=via, **options)
        assert b.ingress is not None and b.ingress.ingress_name == "pub"
        assert b.seen["grpcurl"].endswith(f"{HOST}:443 describe")
