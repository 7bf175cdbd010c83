"""GrpcIngress: the reference gRPC Ingress field by field, the TLS Secret it serves
(generated, the user's by name, or a TlsSecret object), the GRPC/GRPCS switch with backend
certificates, the streaming options, the service-upstream rule on both sides, outputs, services
and controllers given as plain data, arguments that are Outputs, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
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
from grpc_kube.grpc_ingress import (
    GrpcIngress,
    GrpcIngressArgs,
    body_size_for,
    grpcurl_command,
    nginx_grpc_annotations,
    use_service_upstream,
)
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs, GrpcServiceRef, ServerTlsArgs
from grpc_kube.nginx_ingress_controller import (
    IngressControllerRef,
    NginxIngressController,
    NginxIngressControllerArgs,
)
from grpc_kube.testing import Recording, run_program

IMAGE = "ghcr.io/example/greeter:1.4.2"
HOST = "grpctest.dev.mydomain.com"
A = "nginx.ingress.kubernetes.io/"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CSR = "tls:index/certRequest:CertRequest"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"

# The reference ingress-nginx gRPC Ingress (helloworld behind a wildcard certificate).
REFERENCE_ANNOTATIONS = {f"{A}ssl-redirect": "true", f"{A}backend-protocol": "GRPC"}
REFERENCE_SPEC = {
    "ingressClassName": "nginx",
    "rules": [
        {
            "host": "grpctest.dev.mydomain.com",
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {
                            "service": {"name": "go-grpc-greeter-server", "port": {"number": 80}}
                        },
                    }
                ]
            },
        }
    ],
    "tls": [{"hosts": ["grpctest.dev.mydomain.com"], "secretName": "wildcard.dev.mydomain.com"}],
}
REFERENCE_TLS = EdgeTlsArgs(secret_name="wildcard.dev.mydomain.com", existing=True)

TLS_SERVICE = {"tls": ServerTlsArgs(secret_name="greeter-tls"), "health_port": 8086}


class Built:
    def __init__(self, rec: Recording, holder: dict[str, Any]) -> None:
        self.rec = rec
        self.ingress: GrpcIngress | None = holder.get("ingress")
        self.error: InvalidArgumentError | None = holder.get("error")
        self.controller: NginxIngressController = holder["controller"]
        self.seen: dict[str, Any] = holder["seen"]

    @property
    def obj(self) -> dict[str, Any]:
        return self.rec.kube("Ingress")

    @property
    def annotations(self) -> dict[str, str]:
        a: dict[str, str] = self.obj["metadata"]["annotations"]
        return a


def build(
    name: str = "fortune-ingress",
    *,
    svc: dict[str, Any] | None = None,
    ctl: dict[str, Any] | None = None,
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    expect_error: bool = False,
    **kw: Any,
) -> Built:
    """One program: the reference example's service, a controller, and a GrpcIngress with `kw`.
    `extra(objects)` returns more keyword arguments for GrpcIngress (objects made in-program)."""
    kw.setdefault("host", HOST)
    holder: dict[str, Any] = {"seen": {}}

    def program() -> None:
        service = GrpcService(
            "go-grpc-greeter-server",
            GrpcServiceArgs(image=IMAGE, namespace="demo", **(svc or {})),
        )
        controller = NginxIngressController(
            "ingress-nginx", NginxIngressControllerArgs(**(ctl or {}))
        )
        holder["controller"] = controller
        objects = {"service": service, "controller": controller}
        more = extra(objects) if extra else {}
        more.setdefault("service", service)
        more.setdefault("controller", controller)
        try:
            ing = GrpcIngress(name, GrpcIngressArgs(**kw), **more)
        except InvalidArgumentError as exc:
            if not expect_error:
                raise
            holder["error"] = exc
            return
        holder["ingress"] = ing
        pulumi.export("host", ing.host)
        pulumi.export("grpcurl", ing.grpcurl_command)
        pulumi.export("ca", ing.ca_cert_pem)
        seen = holder["seen"]
        for attr in ("ingress_name", "namespace", "tls_secret_name", "annotations"):
            getattr(ing, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))

    return Built(run_program(program), holder)


# --- the reference example ----------------------------------------------------------------------


def test_reference_example_reproduced_field_by_field() -> None:
    b = build(tls=REFERENCE_TLS, stream_idle_timeout_seconds=None, max_message_bytes=None)
    ing = b.obj
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["kind"] == "Ingress"
    assert ing["metadata"]["name"] == "fortune-ingress"
    assert ing["metadata"]["namespace"] == "demo"
    assert ing["metadata"]["annotations"] == REFERENCE_ANNOTATIONS
    assert ing["spec"]["ingressClassName"] == REFERENCE_SPEC["ingressClassName"]
    assert ing["spec"]["rules"] == REFERENCE_SPEC["rules"]
    assert ing["spec"]["tls"] == REFERENCE_SPEC["tls"]
    assert ing["spec"] == REFERENCE_SPEC
    # Backend name and port are read from the Service object: they cannot disagree.
    service = b.rec.kube("Service", "go-grpc-greeter-server")
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"number": 80}}
    assert service["spec"]["ports"][0]["port"] == 80


def test_reference_example_with_streaming_defaults_adds_only_timeouts_and_body_size() -> None:
    b = build(tls=REFERENCE_TLS)
    assert b.obj["spec"] == REFERENCE_SPEC
    assert b.annotations == {
        **REFERENCE_ANNOTATIONS,
        f"{A}proxy-read-timeout": "3600",
        f"{A}proxy-send-timeout": "3600",
        f"{A}proxy-body-size": "4194309",
    }


def test_ingress_name_can_differ_from_the_component_name() -> None:
    b = build("edge", ingress_name="fortune-ingress", tls=REFERENCE_TLS)
    assert b.obj["metadata"]["name"] == "fortune-ingress"
    assert b.rec.one(INGRESS, "edge-ingress")


# --- TLS at the edge ---------------------------------------------------------------------------


def test_default_tls_is_generated_for_the_host_in_the_service_namespace() -> None:
    b = build()
    assert b.obj["spec"]["tls"] == [{"hosts": [HOST], "secretName": "fortune-ingress-tls"}]
    secret = b.rec.kube("Secret", "fortune-ingress-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["metadata"]["namespace"] == "demo"
    assert b.rec.one(
        "kubernetes:core/v1:Secret", "fortune-ingress-edge-tls-secret"
    ).secret_paths == ["stringData"]
    csr = b.rec.one(CSR, "fortune-ingress-edge-tls-certificate-csr").inputs
    assert csr["dnsNames"] == [HOST]
    assert csr["subject"]["commonName"] == HOST
    ca = b.rec.one("tls:index/selfSignedCert:SelfSignedCert", "fortune-ingress-ca-cert").inputs
    assert ca["subject"]["commonName"] == "grpc-kube ingress fortune-ingress CA"
    assert "MOCK-fortune-ingress-ca-cert" in b.rec.outputs["ca"]
    assert b.rec.outputs["grpcurl"] == (
        "grpcurl -cacert ca.crt grpctest.dev.mydomain.com:443 helloworld.Greeter/SayHello"
    )
    assert b.seen["tls_secret_name"] == "fortune-ingress-tls"


def test_generated_tls_options() -> None:
    b = build(
        tls=EdgeTlsArgs(
            secret_name="wildcard.dev.mydomain.com",
            extra_dns_names=("grpc.dev.mydomain.com",),
            validity_hours=720,
            early_renewal_hours=240,
        )
    )
    assert b.obj["spec"]["tls"][0]["secretName"] == "wildcard.dev.mydomain.com"
    assert b.rec.kube("Secret", "wildcard.dev.mydomain.com")
    assert b.rec.one(CSR).inputs["dnsNames"] == [HOST, "grpc.dev.mydomain.com"]
    cert = b.rec.one(SIGNED).inputs
    assert (cert["validityPeriodHours"], cert["earlyRenewalHours"]) == (720, 240)


def test_existing_secret_generates_nothing_and_outputs_no_ca() -> None:
    b = build(tls=REFERENCE_TLS)
    assert b.rec.of_type("kubernetes:core/v1:Secret") == []
    assert b.rec.of_type("grpc-kube:index:CertificateAuthority") == []
    assert b.rec.outputs["ca"] is None
    assert b.rec.outputs["grpcurl"] == (
        "grpcurl grpctest.dev.mydomain.com:443 helloworld.Greeter/SayHello"
    )


def test_tls_secret_object_is_served_and_its_ca_output() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp CA"))
        cert = Certificate(
            "wildcard",
            CertificateArgs(common_name="*.dev.mydomain.com", dns_names=("*.dev.mydomain.com",)),
            issuer=ca,
        )
        secret = TlsSecret(
            "wildcard", certificate=cert, namespace="demo", secret_name="wildcard.dev.mydomain.com"
        )
        return {"tls_secret": secret}

    b = build(extra=extra)
    assert b.obj["spec"]["tls"] == REFERENCE_SPEC["tls"]
    assert "MOCK-corp-ca-cert" in b.rec.outputs["ca"]
    assert b.rec.outputs["grpcurl"].startswith("grpcurl -cacert ca.crt ")
    # The given Secret is used as is: no CA or certificate of the ingress's own.
    assert [r.name for r in b.rec.of_type("grpc-kube:index:CertificateAuthority")] == ["corp-ca"]
    ingress = b.rec.one(INGRESS)
    secret_urn = b.rec.one("kubernetes:core/v1:Secret").urn
    assert secret_urn in ingress.dependencies


def test_given_ca_issues_the_certificates() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        return {"ca": CertificateAuthority("team-ca", CertificateAuthorityArgs(common_name="t"))}

    b = build(extra=extra)
    assert [r.name for r in b.rec.of_type("grpc-kube:index:CertificateAuthority")] == ["team-ca"]
    assert "MOCK-team-ca-cert" in b.rec.one(SIGNED).inputs["caCertPem"]
    assert "MOCK-team-ca-cert" in b.rec.outputs["ca"]


def test_ingress_waits_for_the_controller_and_its_tls_secret() -> None:
    b = build()
    deps = b.rec.one(INGRESS).dependencies
    assert b.rec.one("kubernetes:helm.sh/v3:Release").urn in deps
    assert b.rec.one("kubernetes:core/v1:Secret").urn in deps


# --- GRPC / GRPCS -------------------------------------------------------------------------------


def test_grpcs_issues_the_secret_the_service_mounts() -> None:
    b = build(backend_protocol="GRPCS", svc=TLS_SERVICE)
    assert b.annotations[f"{A}backend-protocol"] == "GRPCS"
    mounted = b.rec.kube("Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "tls", "secret": {"secretName": "greeter-tls", "defaultMode": 0o440}} in mounted
    secret = b.rec.kube("Secret", "greeter-tls")
    assert secret["metadata"]["namespace"] == "demo"
    assert secret["type"] == "kubernetes.io/tls"
    backend_csr = b.rec.one(
        CSR, "fortune-ingress-backend-go-grpc-greeter-server-tls-certificate-csr"
    )
    assert backend_csr.inputs["dnsNames"] == [
        "go-grpc-greeter-server",
        "go-grpc-greeter-server.demo",
        "go-grpc-greeter-server.demo.svc",
        "go-grpc-greeter-server.demo.svc.cluster.local",
    ]
    # Edge and backend certificates come from one CA.
    assert len(b.rec.of_type("grpc-kube:index:CertificateAuthority")) == 1
    for secret_rec in b.rec.of_type("kubernetes:core/v1:Secret"):
        assert secret_rec.secret_paths == ["stringData"]


def test_grpcs_with_the_users_own_backend_secrets() -> None:
    b = build(backend_protocol="GRPCS", issue_backend_certificates=False, svc=TLS_SERVICE)
    assert b.annotations[f"{A}backend-protocol"] == "GRPCS"
    assert [s["metadata"]["name"] for s in b.rec.kubernetes_objects() if s["kind"] == "Secret"] == [
        "fortune-ingress-tls"
    ]


def test_grpcs_with_existing_edge_secret_still_creates_a_ca_for_backends() -> None:
    b = build(backend_protocol="GRPCS", svc=TLS_SERVICE, tls=REFERENCE_TLS)
    assert b.rec.kube("Secret", "greeter-tls")
    assert b.rec.outputs["ca"] is None  # the edge certificate is the user's


# --- service-upstream: both sides of the rule ----------------------------------------------------


@pytest.mark.parametrize("meshed", [False, True])
def test_service_upstream_exactly_when_the_controller_is_meshed(meshed: bool) -> None:
    b = build(ctl={"mesh": meshed})
    if meshed:
        assert b.annotations[f"{A}service-upstream"] == "true"
    else:
        # Without a mesh, the ClusterIP would bring per-connection pinning back.
        assert f"{A}service-upstream" not in b.annotations
    assert b.ingress is not None and b.ingress.controller_peer.meshed is meshed


@pytest.mark.parametrize(
    ("meshed", "protocol", "headless", "expected"),
    [
        (False, "GRPC", False, False),  # kube-proxy would pin each connection to one pod
        (True, "GRPC", False, True),  # the controller's Linkerd proxy balances every call
        (True, "GRPCS", False, False),  # Linkerd relays app TLS as opaque TCP
        (True, "GRPC", True, False),  # headless: no ClusterIP to send to
        (False, "GRPCS", True, False),
    ],
)
def test_service_upstream_rule_as_a_pure_function(
    meshed: bool, protocol: Any, headless: bool, expected: bool
) -> None:
    assert (
        use_service_upstream(
            controller_meshed=meshed, backend_protocol=protocol, headless_backends=headless
        )
        is expected
    )
    out = nginx_grpc_annotations(
        backend_protocol=protocol,
        controller_meshed=meshed,
        stream_idle_timeout_seconds=None,
        connect_timeout_seconds=None,
        max_message_bytes=None,
        headless_backends=headless,
    )
    assert (f"{A}service-upstream" in out) is expected


def test_meshed_controller_with_grpcs_keeps_nginx_balancing_and_warns() -> None:
    b = build(ctl={"mesh": True}, svc=TLS_SERVICE, backend_protocol="GRPCS")
    assert f"{A}service-upstream" not in b.annotations
    assert any("encrypts twice" in w for w in b.rec.warnings)
    assert not any(
        "encrypts twice" in w for w in build(svc=TLS_SERVICE, backend_protocol="GRPCS").rec.warnings
    )


# --- streaming options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {},
            {
                "proxy-read-timeout": "3600",
                "proxy-send-timeout": "3600",
                "proxy-body-size": "4194309",
            },
        ),
        (
            {"stream_idle_timeout_seconds": 120, "connect_timeout_seconds": 10},
            {
                "proxy-read-timeout": "120",
                "proxy-send-timeout": "120",
                "proxy-connect-timeout": "10",
                "proxy-body-size": "4194309",
            },
        ),
        ({"stream_idle_timeout_seconds": None}, {"proxy-body-size": "4194309"}),
        (
            {"max_message_bytes": 16 * 1024 * 1024},
            {
                "proxy-read-timeout": "3600",
                "proxy-send-timeout": "3600",
                "proxy-body-size": "16777221",
            },
        ),
        ({"max_message_bytes": None, "stream_idle_timeout_seconds": None}, {}),
    ],
)
def test_streaming_options(options: dict[str, Any], expected: dict[str, str]) -> None:
    b = build(**options)
    got = {k[len(A) :]: v for k, v in b.annotations.items()}
    assert got == {"ssl-redirect": "true", "backend-protocol": "GRPC", **expected}


def test_defaults_do_not_cut_60_second_streams_or_4_mib_messages() -> None:
    b = build()
    assert int(b.annotations[f"{A}proxy-read-timeout"]) > 60
    assert int(b.annotations[f"{A}proxy-send-timeout"]) > 60
    # nginx counts the 5-byte gRPC frame header (measured with nginx 1.22 grpc_pass).
    assert int(b.annotations[f"{A}proxy-body-size"]) >= 4 * 1024 * 1024 + 5
    assert body_size_for(65531) == "65536"


def test_warns_when_the_controller_would_cut_silent_client_streams_first() -> None:
    b = build(stream_idle_timeout_seconds=7200)
    assert any("client_body_timeout_seconds=3600" in w for w in b.rec.warnings)
    b = build(stream_idle_timeout_seconds=7200, ctl={"client_body_timeout_seconds": 7200})
    assert not any("client_body_timeout" in w for w in b.rec.warnings)


def test_headless_backend_behind_a_meshed_controller_skips_service_upstream_and_warns() -> None:
    b = build(svc={"headless": True}, ctl={"mesh": True})
    assert f"{A}service-upstream" not in b.annotations
    assert any("headless" in w for w in b.rec.warnings)
    b = build(svc={"headless": True})
    assert not any("headless" in w for w in b.rec.warnings)


# --- several services ---------------------------------------------------------------------------


def test_routes_by_grpc_service_name() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        orders = GrpcService("orders", GrpcServiceArgs(image=IMAGE, namespace="demo", port=8080))
        return {"routes": {"shop.Orders": orders, "helloworld.Greeter": o["service"]}}

    b = build(extra=extra)
    paths = b.obj["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"], p["backend"]["service"]) for p in paths] == [
        ("/shop.Orders", "Prefix", {"name": "orders", "port": {"number": 8080}}),
        (
            "/helloworld.Greeter",
            "Prefix",
            {"name": "go-grpc-greeter-server", "port": {"number": 80}},
        ),
        ("/", "Prefix", {"name": "go-grpc-greeter-server", "port": {"number": 80}}),
    ]
    assert b.ingress is not None
    assert [i.name for i in b.ingress.backends] == ["go-grpc-greeter-server", "orders"]


def test_routes_only_without_a_default_service() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        return {"service": None, "routes": {"helloworld.Greeter": o["service"]}}

    b = build(extra=extra)
    assert [p["path"] for p in b.obj["spec"]["rules"][0]["http"]["paths"]] == [
        "/helloworld.Greeter"
    ]


def test_grpcs_routes_issue_one_certificate_per_service() -> None:
    def extra(o: dict[str, Any]) -> dict[str, Any]:
        orders = GrpcService(
            "orders",
            GrpcServiceArgs(
                image=IMAGE,
                namespace="demo",
                tls=ServerTlsArgs(secret_name="orders-tls"),
                health_port=8086,
            ),
        )
        return {"routes": {"shop.Orders": orders, "helloworld.Greeter": o["service"]}}

    b = build(backend_protocol="GRPCS", svc=TLS_SERVICE, extra=extra)
    secrets = sorted(
        o["metadata"]["name"] for o in b.rec.kubernetes_objects() if o["kind"] == "Secret"
    )
    assert secrets == ["fortune-ingress-tls", "greeter-tls", "orders-tls"]


# --- attributes, outputs, extras ----------------------------------------------------------------


def test_plain_attributes_and_outputs() -> None:
    b = build(grpcurl_method="list")
    ing = b.ingress
    assert ing is not None
    assert [i.name for i in ing.backends] == ["go-grpc-greeter-server"]
    assert ing.backends[0].port == 80
    assert ing.controller_peer == b.controller.peer
    assert (b.seen["ingress_name"], b.seen["namespace"]) == ("fortune-ingress", "demo")
    assert b.seen["annotations"] == b.annotations
    assert b.rec.outputs["host"] == HOST
    assert b.rec.outputs["grpcurl"] == "grpcurl -cacert ca.crt grpctest.dev.mydomain.com:443 list"
    comp = b.rec.one("grpc-kube:index:GrpcIngress")
    assert sorted(r.name for r in b.rec.children_of(comp)) == [
        "fortune-ingress-ca",
        "fortune-ingress-edge-tls",
        "fortune-ingress-edge-tls-certificate",
        "fortune-ingress-ingress",
    ]


def test_grpcurl_command_helper() -> None:
    assert grpcurl_command(HOST, "helloworld.Greeter/SayHello") == (
        "grpcurl grpctest.dev.mydomain.com:443 helloworld.Greeter/SayHello"
    )
    assert grpcurl_command("h.example.com", "list", port=8443, cacert_file="ca.pem") == (
        "grpcurl -cacert ca.pem h.example.com:8443 list"
    )


def test_extra_annotations_labels_and_class_pass_through() -> None:
    b = build(
        annotations={f"{A}whitelist-source-range": "10.0.0.0/8"},
        labels={"team": "payments"},
        ctl={"ingress_class": "grpc"},
    )
    assert b.annotations[f"{A}whitelist-source-range"] == "10.0.0.0/8"
    assert b.obj["metadata"]["labels"] == {
        "team": "payments",
        "app.kubernetes.io/managed-by": "grpc-kube",
    }
    assert b.obj["spec"]["ingressClassName"] == "grpc"


EVERY_OPTION: dict[str, Any] = {
    "ingress_name": "fortune-ingress",
    "tls": EdgeTlsArgs(
        secret_name="wildcard.dev.mydomain.com", extra_dns_names=("a.mydomain.com",)
    ),
    "backend_protocol": "GRPCS",
    "issue_backend_certificates": True,
    "stream_idle_timeout_seconds": 600,
    "connect_timeout_seconds": 10,
    "max_message_bytes": 1024,
    "grpcurl_method": "describe",
    "annotations": {f"{A}whitelist-source-range": "10.0.0.0/8"},
    "labels": {"team": "payments"},
}


@pytest.mark.parametrize("options", [{}, EVERY_OPTION], ids=["defaults", "every-option"])
def test_objects_validate_against_kubernetes_1_31_to_1_35(options: dict[str, Any]) -> None:
    svc = TLS_SERVICE if options else None
    b = build(svc=svc, ctl={"mesh": bool(options)}, **options)
    assert validate_all(b.rec.kubernetes_objects()) >= 6


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"host": "GrpcTest.dev.mydomain.com"}, "host", "'grpctest.dev.mydomain.com'"),
        ({"host": "grpc_test.example.com"}, "host", "Fix:"),
        ({"host": "a..example.com"}, "host", "Fix:"),
        ({"host": "grpctest.dev.mydomain.com."}, "host", "Fix:"),
        ({"host": "*.dev.mydomain.com"}, "host", "'grpc.dev.mydomain.com'"),
        ({"host": "10.0.0.1"}, "host", "cannot be an IP"),
        ({"host": ""}, "host", "Fix:"),
        ({"ingress_name": "Fortune_Ingress"}, "ingress_name", "'fortune-ingress'"),
        (
            {"tls": {"secret_name": "certs/wildcard.dev.mydomain.com"}},
            "tls.secret_name",
            "namespace 'certs'",
        ),
        ({"tls": {"existing": True}}, "tls", "needs secret_name"),
        ({"stream_idle_timeout_seconds": 0}, "stream_idle_timeout_seconds", "at least 1 second"),
        ({"stream_idle_timeout_seconds": -30}, "stream_idle_timeout_seconds", "at least 1 second"),
        ({"connect_timeout_seconds": 0}, "connect_timeout_seconds", "at least 1 second"),
        ({"connect_timeout_seconds": -1}, "connect_timeout_seconds", "at least 1 second"),
        ({"connect_timeout_seconds": 120}, "connect_timeout_seconds", "at most 75"),
        ({"max_message_bytes": 0}, "max_message_bytes", "at least 1 byte"),
        ({"max_message_bytes": -1}, "max_message_bytes", "at least 1 byte"),
        ({"backend_protocol": "HTTPS"}, "backend_protocol", "'GRPC' or 'GRPCS'"),
        ({"grpcurl_method": "SayHello"}, "grpcurl_method", "helloworld.Greeter/SayHello"),
        ({"annotations": {f"{A}backend-protocol": "GRPCS"}}, "annotations", "backend_protocol"),
        ({"annotations": {f"{A}proxy-read-timeout": "5"}}, "annotations", "stream_idle_timeout"),
        ({"annotations": {f"{A}service-upstream": "true"}}, "annotations", "use_service_upstream"),
        ({"annotations": {f"{A}configuration-snippet": "x"}}, "annotations", "risk Critical"),
        ({"annotations": {"bad key!": "x"}}, "annotations", "Fix:"),
        ({"labels": {"app.kubernetes.io/managed-by": "me"}}, "labels", "set by GrpcIngress"),
        ({"hosts": [HOST]}, "hosts", "Did you mean 'host'"),
    ],
)
def test_bad_args_name_field_and_fix(options: dict[str, Any], field: str, hint: str) -> None:
    options = {"host": HOST, **options}
    with pytest.raises(InvalidArgumentError) as err:
        GrpcIngressArgs(**options)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


def _other_namespace_secret(o: dict[str, Any]) -> dict[str, Any]:
    ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp CA"))
    cert = Certificate(
        "wildcard",
        CertificateArgs(common_name="*.dev.mydomain.com", dns_names=("*.dev.mydomain.com",)),
        issuer=ca,
    )
    return {"tls_secret": TlsSecret("w", certificate=cert, namespace="certs", secret_name="w")}


def _uncovering_secret(o: dict[str, Any]) -> dict[str, Any]:
    ca = CertificateAuthority("corp-ca", CertificateAuthorityArgs(common_name="corp CA"))
    cert = Certificate(
        "other", CertificateArgs(common_name="x", dns_names=("other.example.com",)), issuer=ca
    )
    return {"tls_secret": TlsSecret("w", certificate=cert, namespace="demo", secret_name="w")}


def _short_ca(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "ca": CertificateAuthority(
            "short",
            CertificateAuthorityArgs(common_name="s", validity_hours=100, early_renewal_hours=1),
        )
    }


def _ca_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"ca": "corp-ca"}


def _tls_secret_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"tls_secret": "wildcard.dev.mydomain.com"}


def _service_by_name(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": "go-grpc-greeter-server"}


def _other_namespace_route(o: dict[str, Any]) -> dict[str, Any]:
    other = GrpcService("orders", GrpcServiceArgs(image=IMAGE, namespace="shop"))
    return {"routes": {"shop.Orders": other}}


def _bad_route_key(o: dict[str, Any]) -> dict[str, Any]:
    return {"routes": {"/helloworld.Greeter": o["service"]}}


def _no_backend(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": None}


@pytest.mark.parametrize(
    ("extra", "options", "field", "hint"),
    [
        (_other_namespace_secret, {}, "tls_secret", "namespace='demo'"),
        (_uncovering_secret, {}, "tls_secret", "covers ['other.example.com']"),
        (_short_ca, {}, "tls.validity_hours", "at most 100"),
        (_short_ca, {"backend_protocol": "GRPCS", "tls": REFERENCE_TLS}, "ca (backend", "at most"),
        (_ca_by_name, {"backend_protocol": "GRPCS"}, "ca", "expected a CertificateAuthority"),
        (_tls_secret_by_name, {}, "tls_secret", "tls.existing=True"),
        (_service_by_name, {}, "service", "pass the GrpcService object"),
        (_other_namespace_route, {}, "service/routes", "one GrpcIngress per namespace"),
        (_bad_route_key, {}, "routes", "'helloworld.Greeter'"),
        (_no_backend, {}, "service", "needs a backend"),
        (None, {"backend_protocol": "GRPCS"}, "backend_protocol", "serves plaintext"),
    ],
)
def test_bad_objects_are_refused_before_anything_registers(
    extra: Any, options: dict[str, Any], field: str, hint: str
) -> None:
    b = build(extra=extra, expect_error=True, **options)
    assert b.error is not None, "expected InvalidArgumentError"
    msg = str(b.error)
    assert f"- {field}" in msg, msg
    assert hint in msg and "Fix:" in msg, msg
    assert b.rec.of_type("grpc-kube:index:GrpcIngress") == []
    assert b.rec.of_type(INGRESS) == []
    assert [r.name for r in b.rec if r.name.startswith("fortune-ingress")] == []


def test_grpc_to_a_tls_service_is_refused() -> None:
    b = build(svc=TLS_SERVICE, expect_error=True)
    assert b.error is not None
    assert "serves TLS" in str(b.error) and "Fix: use 'GRPCS'" in str(b.error)
    assert b.rec.of_type(INGRESS) == []


def test_controller_must_be_the_object() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        svc = GrpcService("g", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        try:
            GrpcIngress("i", GrpcIngressArgs(host=HOST), service=svc, controller="nginx")  # type: ignore[arg-type]
        except InvalidArgumentError as exc:
            holder["error"] = str(exc)

    rec = run_program(program)
    assert "- controller: got str" in holder["error"]
    assert rec.of_type(INGRESS) == []


def test_invalid_component_name_needs_ingress_name() -> None:
    b = build("Fortune_Ingress", expect_error=True)
    assert b.error is not None
    assert "- name: got 'Fortune_Ingress'" in str(b.error)
    assert build("Fortune_Ingress", ingress_name="fortune-ingress").obj


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        svc = GrpcService("g", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        ctl = NginxIngressController("ingress-nginx")
        GrpcIngress("i", {"host": HOST, "labels": {"team": "a"}}, service=svc, controller=ctl)
        for bad in ({"hots": HOST}, "i"):
            try:
                GrpcIngress("j", bad, service=svc, controller=ctl)  # type: ignore[arg-type]
            except InvalidArgumentError as exc:
                holder.setdefault("errors", []).append(str(exc))

    rec = run_program(program)
    assert rec.kube("Ingress")["metadata"]["labels"]["team"] == "a"
    assert "- hots: unknown field" in holder["errors"][0]
    assert "GrpcIngressArgs" in holder["errors"][1]


# --- services and controllers as plain data ------------------------------------------------------


@pytest.mark.parametrize("as_model", [False, True], ids=["dicts", "refs"])
def test_a_service_ref_and_a_controller_ref_as_plain_data(as_model: bool) -> None:
    # A controller and a service another program (or language) installed: given as their
    # facts. Nothing here waits for them: there is nothing of theirs in this program.
    service: Any = {"name": "greeter", "namespace": "demo", "port": 8080}
    controller: Any = {
        "ingress_class": "nginx-internal",
        "namespace": "ingress",
        "pod_labels": {"app": "ingress"},
        "meshed": True,
    }
    if as_model:
        service = GrpcServiceRef(**service)
        controller = IngressControllerRef(**controller)
    holder: dict[str, Any] = {}

    def program() -> None:
        holder["ingress"] = GrpcIngress(
            "fortune-ingress",
            {"host": HOST, "tls": REFERENCE_TLS},
            service=service,
            controller=controller,
        )

    rec = run_program(program)
    ing = rec.kube("Ingress")
    assert ing["spec"]["ingressClassName"] == "nginx-internal"
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": "greeter",
        "port": {"number": 8080},
    }
    # A meshed controller and a ClusterIP backend: Linkerd balances, so service-upstream.
    assert ing["metadata"]["annotations"][f"{A}service-upstream"] == "true"
    assert rec.one(INGRESS).dependencies == []
    peer = holder["ingress"].controller_peer
    assert (peer.namespace, peer.pod_labels, peer.meshed) == ("ingress", {"app": "ingress"}, True)
    assert holder["ingress"].backends == (
        GrpcServiceRef(name="greeter", namespace="demo", port=8080),
    )


def _controller_ref_with_bad_labels(o: dict[str, Any]) -> dict[str, Any]:
    return {"controller": {"ingress_class": "nginx", "namespace": "ingress", "pod_labels": {}}}


def _grpcs_service_ref(o: dict[str, Any]) -> dict[str, Any]:
    return {"service": GrpcServiceRef(name="greeter", namespace="demo", tls=True)}


@pytest.mark.parametrize(
    ("extra", "options", "field", "hint"),
    [
        (_controller_ref_with_bad_labels, {}, "controller.pod_labels", "empty selector"),
        (
            _grpcs_service_ref,
            {"backend_protocol": "GRPCS"},
            "service",
            "does not name the Secret its pods mount",
        ),
    ],
)
def test_plain_data_is_checked_before_anything_registers(
    extra: Any, options: dict[str, Any], field: str, hint: str
) -> None:
    b = build(extra=extra, expect_error=True, **options)
    assert b.error is not None
    msg = str(b.error)
    assert f"- {field}" in msg and hint in msg and "Fix:" in msg, msg
    assert b.rec.of_type(INGRESS) == []


def test_grpcs_with_a_service_ref_and_the_users_own_secrets() -> None:
    b = build(
        backend_protocol="GRPCS",
        issue_backend_certificates=False,
        extra=_grpcs_service_ref,
    )
    assert b.annotations[f"{A}backend-protocol"] == "GRPCS"


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_outputs_flow_into_the_ingress_and_its_outputs() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        # Outputs exist only inside a running program, so they are made in it.
        out = pulumi.Output.from_input
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        ing = GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(
                host=out(HOST),
                ingress_name=out("edge"),
                tls=REFERENCE_TLS,
                stream_idle_timeout_seconds=out(120),
                connect_timeout_seconds=out(10),
                max_message_bytes=out(1024),
                grpcurl_method=out("list"),
                annotations={f"{A}whitelist-source-range": out("10.0.0.0/8")},
                labels={"team": out("payments")},
            ),
            service=svc,
            controller=NginxIngressController("ingress-nginx"),
        )
        for attr in ("host", "grpcurl_command", "ingress_name", "annotations"):
            getattr(ing, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))

    rec = run_program(program)
    ing = rec.kube("Ingress")
    assert ing["metadata"]["name"] == "edge"
    assert ing["metadata"]["labels"] == {
        "team": "payments",
        "app.kubernetes.io/managed-by": "grpc-kube",
    }
    assert ing["spec"]["rules"][0]["host"] == HOST
    assert ing["spec"]["tls"] == REFERENCE_SPEC["tls"]
    assert (
        ing["metadata"]["annotations"]
        == seen["annotations"]
        == {
            **REFERENCE_ANNOTATIONS,
            f"{A}proxy-read-timeout": "120",
            f"{A}proxy-send-timeout": "120",
            f"{A}proxy-connect-timeout": "10",
            f"{A}proxy-body-size": "1029",
            f"{A}whitelist-source-range": "10.0.0.0/8",
        }
    )
    assert seen["host"] == HOST
    assert seen["grpcurl_command"] == "grpcurl grpctest.dev.mydomain.com:443 list"
    assert seen["ingress_name"] == "edge"


def test_namespace_from_a_namespace_resource_orders_the_ingress_with_no_depends_on() -> None:
    def program() -> None:
        ns = k8s.core.v1.Namespace("team-ns", metadata={"name": "team"})
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace=ns.metadata.name))
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(host=HOST, tls=REFERENCE_TLS),
            service=svc,
            controller=NginxIngressController("ingress-nginx"),
        )

    rec = run_program(program)
    ingress = rec.one(INGRESS)
    assert ingress.get("metadata.namespace") == "team"
    assert rec.depends_on(ingress, rec.one("kubernetes:core/v1:Namespace", "team-ns"))


def test_a_controller_ref_with_outputs_names_the_class_and_warns_when_resolved() -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(host=HOST, tls=REFERENCE_TLS, stream_idle_timeout_seconds=7200),
            service=svc,
            controller=IngressControllerRef(
                ingress_class=pulumi.Output.from_input("grpc"),
                namespace="ingress",
                pod_labels={"app": "ingress"},
                client_body_timeout_seconds=pulumi.Output.from_input(3600),
            ),
        )

    rec = run_program(program)
    assert rec.kube("Ingress")["spec"]["ingressClassName"] == "grpc"
    assert any("client_body_timeout_seconds=3600" in w for w in rec.warnings)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"stream_idle_timeout_seconds": 0}, "stream_idle_timeout_seconds: got 0"),
        ({"connect_timeout_seconds": 120}, "connect_timeout_seconds: got 120"),
        ({"host": "10.0.0.1"}, "host: got '10.0.0.1'"),
        ({"annotations": {f"{A}backend-protocol": "GRPCS"}}, "is set by GrpcIngress itself"),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    options: dict[str, Any], expected: str
) -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        kw: dict[str, Any] = {"host": HOST, "tls": REFERENCE_TLS}
        kw.update({k: pulumi.Output.from_input(v) for k, v in options.items()})
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(**kw),
            service=svc,
            controller=NginxIngressController("ingress-nginx"),
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "GrpcIngress 'fortune-ingress': invalid input (values that arrived as Outputs" in msg
    assert expected in msg, msg
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert INGRESS not in registered


def test_services_whose_namespaces_differ_once_resolved_fail_the_deployment() -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        other = GrpcServiceRef(name="orders", namespace=pulumi.Output.from_input("shop"))
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(host=HOST, tls=REFERENCE_TLS),
            service=svc,
            routes={"shop.Orders": other},
            controller=NginxIngressController("ingress-nginx"),
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "values that arrived as Outputs" in msg and "one GrpcIngress per namespace" in msg, msg
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert INGRESS not in registered


def test_a_generated_certificate_for_an_output_host_and_ingress_name() -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(
                host=pulumi.Output.from_input(HOST),
                ingress_name=pulumi.Output.from_input("edge"),
            ),
            service=svc,
            controller=NginxIngressController("ingress-nginx"),
        )

    rec = run_program(program)
    assert rec.one(CSR).inputs["dnsNames"] == [HOST]
    assert rec.kube("Secret", "edge-tls")["metadata"]["namespace"] == "demo"
    assert rec.kube("Ingress")["spec"]["tls"] == [{"hosts": [HOST], "secretName": "edge-tls"}]
    ca = rec.one("tls:index/selfSignedCert:SelfSignedCert").inputs
    assert ca["subject"]["commonName"] == "grpc-kube ingress edge CA"
    assert rec.depends_on(rec.one(INGRESS), rec.one("grpc-kube:index:TlsSecret"))


def test_a_switch_that_decides_which_objects_exist_must_be_plain() -> None:
    def program() -> None:
        GrpcIngressArgs(
            host=HOST,
            issue_backend_certificates=pulumi.Output.from_input(False),  # type: ignore[arg-type]
        )

    with pytest.raises(
        InvalidArgumentError, match=r"issue_backend_certificates: got an Output.*known when the"
    ):
        run_program(program)


def test_services_whose_namespaces_agree_once_resolved_share_the_ingress() -> None:
    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        other = GrpcServiceRef(name="orders", namespace=pulumi.Output.from_input("demo"))
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(host=HOST, tls=REFERENCE_TLS),
            service=svc,
            routes={"shop.Orders": other},
            controller=NginxIngressController("ingress-nginx"),
        )

    rec = run_program(program)
    ing = rec.kube("Ingress")
    assert ing["metadata"]["namespace"] == "demo"
    paths = ing["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == [
        ("/shop.Orders", "orders"),
        ("/", "greeter"),
    ]


def test_grpcs_backend_certificate_for_a_service_named_by_an_output() -> None:
    def program() -> None:
        svc = GrpcService(
            "greeter",
            GrpcServiceArgs(
                image=IMAGE,
                namespace="demo",
                service_name=pulumi.Output.from_input("greeter-v2"),
                **TLS_SERVICE,
            ),
        )
        GrpcIngress(
            "fortune-ingress",
            GrpcIngressArgs(host=HOST, tls=REFERENCE_TLS, backend_protocol="GRPCS"),
            service=svc,
            controller=NginxIngressController("ingress-nginx"),
        )

    rec = run_program(program)
    # Pulumi names are plain: the backend's certificate is named by its position.
    csr = rec.one(CSR, "fortune-ingress-backend-0-tls-certificate-csr").inputs
    assert csr["dnsNames"] == [
        "greeter-v2",
        "greeter-v2.demo",
        "greeter-v2.demo.svc",
        "greeter-v2.demo.svc.cluster.local",
    ]
    assert rec.kube("Secret", "greeter-tls")["metadata"]["namespace"] == "demo"
