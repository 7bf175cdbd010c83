"""Gateway API path: NGINX Gateway Fabric install, the Gateway (its listeners and the
certificate it serves, through the same edge TLS path as GrpcIngress), GRPCRoute objects, and
arguments that are Outputs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import unknown_value_keys, validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    TlsSecret,
)
from grpc_kube.gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs
from grpc_kube.grpc_gateway import (
    GatewayRef,
    GrpcGateway,
    GrpcGatewayArgs,
    GrpcMethodMatch,
    client_settings_policy_object,
    grpc_route_object,
    nginx_size,
)
from grpc_kube.grpc_route import GrpcRoute, GrpcRouteArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
from grpc_kube.nginx_gateway_fabric import NginxGatewayFabric, NginxGatewayFabricArgs
from grpc_kube.testing import run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY_T = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GATEWAY_ATTRIBUTES = (
    "name",
    "namespace",
    "hostnames",
    "listener_names",
    "tls_secret_name",
    "certificate_dns_names",
    "ca_cert_pem",
)


def watch(gw: GrpcGateway, seen: dict[str, Any]) -> None:
    """Record the gateway's Output attributes as they resolve (inside the program)."""
    for attr in GATEWAY_ATTRIBUTES:
        getattr(gw, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))


def gateway_stack(**gw: Any) -> tuple[Any, dict[str, Any]]:
    gw.setdefault("hostnames", ("grpc.example.com",))
    made: dict[str, Any] = {"seen": {}}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        made["ngf"] = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        made["gw"] = GrpcGateway("grpc-gateway", GrpcGatewayArgs(**gw), controller=made["ngf"])
        watch(made["gw"], made["seen"])

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
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


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
    assert "MOCK-grpc-gateway-ca-cert" in made["seen"]["ca_cert_pem"]
    assert made["seen"]["certificate_dns_names"] == ["grpc.example.com"]
    assert made["seen"]["name"] == "grpc-gateway"
    assert made["seen"]["tls_secret_name"] == "grpc-gateway-tls"
    assert made["seen"]["listener_names"] == {"grpc.example.com": "https-grpc-example-com"}
    assert "infrastructure" not in gw["spec"]
    # The certificate comes from the shared edge TLS path (registered as `<name>-tls-...`;
    # the component aliases its earlier name, so existing stacks keep their certificate).
    cert = rec.one("grpc-kube:index:Certificate")
    assert cert.name == "grpc-gateway-tls-certificate"
    assert cert.parent == rec.one("grpc-kube:index:GrpcGateway").urn
    # The Secret waits for the namespace the component creates; the Gateway for both.
    secret = rec.one("kubernetes:core/v1:Secret")
    namespace = rec.one("kubernetes:core/v1:Namespace", "grpc-gateway-namespace")
    assert rec.depends_on(secret, namespace)
    assert rec.depends_on(rec.one(GATEWAY_T), secret)
    assert rec.depends_on(rec.one(GATEWAY_T), namespace)


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
            name="greeter", service=svc.ref, gateway=gw, hostnames=hostnames, matches=matches
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
        "rules": [{"backendRefs": [{"name": "greeter", "port": 80}]}],
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
    # NGF 2.6.7 accepts only service+method matches: reflection's one method is named.
    assert reflection["matches"] == [
        {
            "method": {
                "type": "Exact",
                "service": "grpc.reflection.v1.ServerReflection",
                "method": "ServerReflectionInfo",
            }
        },
        {
            "method": {
                "type": "Exact",
                "service": "grpc.reflection.v1alpha.ServerReflection",
                "method": "ServerReflectionInfo",
            }
        },
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
        ({"hostnames": "grpc.example.com"}, "hostnames", "not allowed as a Sequence"),
        ({"hostnames": ("Bad_Host",)}, "hostnames", "hostname"),
        ({"hostnames": ("a.example.com", "a.example.com")}, "hostnames", "repeat"),
        ({"route_namespaces": ()}, "route_namespaces", "admits no route"),
        ({"namespace": "Gateway NS"}, "namespace", "Fix"),
        ({"tls_secret_name": "Bad Secret"}, "tls_secret_name", "Fix"),
        ({"gateway_name": "Bad_Name"}, "gateway_name", "'bad-name'"),
        (
            {"certificate_early_renewal_hours": 5000},
            "certificate_early_renewal_hours",
            "below certificate_validity_hours",
        ),
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
        ({"service": "hello world", "method": "SayHello"}, "package-qualified"),
        ({"service": "helloworld.Greeter"}, "- method: required field is missing"),
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


def test_gateway_args_as_plain_data_are_validated_like_the_model() -> None:
    def program(args: Any) -> Callable[[], None]:
        def run() -> None:
            crds = GatewayApiCrds("gateway-api")
            ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
            GrpcGateway("gw", args, controller=ngf)

        return run

    rec = run_program(program({"hostnames": ["a.example.com"], "mesh": True}))
    assert rec.kube("Gateway")["spec"]["listeners"][0]["hostname"] == "a.example.com"
    with pytest.raises(InvalidArgumentError, match="- hostname: unknown field"):
        run_program(program({"hostname": "a.example.com"}))
    with pytest.raises(InvalidArgumentError, match="GrpcGatewayArgs"):
        run_program(program("a.example.com"))


# --- listeners ----------------------------------------------------------------------------------


def test_listener_names_stay_unique_when_hostnames_collide() -> None:
    hosts = ("a-b.example.com", "a.b-example.com", "*.x.io", "wildcard.x.io")
    rec, made = gateway_stack(hostnames=hosts)
    names = [x["name"] for x in rec.kube("Gateway")["spec"]["listeners"]]
    assert names == [
        "https-a-b-example-com",
        "https-a-b-example-com-2",
        "https-wildcard-x-io",
        "https-wildcard-x-io-2",
    ]
    gw = made["gw"]
    assert [gw.listener_for(h) for h in hosts] == names
    assert gw.listener_for("api.x.io") == "https-wildcard-x-io"
    assert gw.listener_for("x.io") is None
    validate_all([rec.kube("Gateway")])


def test_listener_for_prefers_exact_then_the_longest_wildcard() -> None:
    _, made = gateway_stack(hostnames=("*.example.com", "*.eu.example.com", "api.eu.example.com"))
    gw = made["gw"]
    assert gw.listener_for("api.eu.example.com") == "https-api-eu-example-com"
    assert gw.listener_for("web.eu.example.com") == "https-wildcard-eu-example-com"
    assert gw.listener_for("a.b.example.com") == "https-wildcard-example-com"
    assert gw.listener_for("example.com") is None
    # A generated certificate's `*.` SAN covers one label only.
    assert gw.certificate_covers("web.eu.example.com") is True
    assert gw.certificate_covers("a.b.example.com") is False


# --- TLS: generated, shared CA, the user's Secret by name or as an object ------------------


def bad_gateway(
    gw: dict[str, Any] | None = None,
    extra: Callable[[], dict[str, Any]] | None = None,
    class_name: str | None = None,
) -> tuple[Any, InvalidArgumentError]:
    holder: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf_args = NginxGatewayFabricArgs(gateway_class_name=class_name or "nginx")
        ngf = NginxGatewayFabric("ngf", ngf_args, gateway_api_crds=crds)
        args = GrpcGatewayArgs(**{"hostnames": ("grpc.example.com",), **(gw or {})})
        try:
            GrpcGateway("grpc-gateway", args, controller=ngf, **(extra() if extra else {}))
        except InvalidArgumentError as exc:
            holder["error"] = exc

    rec = run_program(program)
    assert "error" in holder, "expected InvalidArgumentError"
    assert rec.of_type("grpc-kube:index:GrpcGateway") == []
    assert [o for o in rec.kubernetes_objects() if o["kind"] == "Gateway"] == []
    assert [r.name for r in rec if r.name.startswith("grpc-gateway")] == []
    return rec, holder["error"]


def _ca(validity: int = 87600) -> CertificateAuthority:
    return CertificateAuthority(
        "corp-ca",
        CertificateAuthorityArgs(
            common_name="corp", validity_hours=validity, early_renewal_hours=1
        ),
    )


def _tls_secret(namespace: str = "grpc-gateway", dns: tuple[str, ...] = ("*.example.com",)):
    cert = Certificate("wildcard", CertificateArgs(common_name=dns[0], dns_names=dns), issuer=_ca())
    return TlsSecret("w", certificate=cert, namespace=namespace, secret_name="w")


@pytest.mark.parametrize(
    ("gw", "extra", "field", "hint"),
    [
        ({"tls_secret_name": "mine"}, lambda: {"ca": _ca()}, "ca", "would be ignored"),
        ({}, lambda: {"ca": "corp-ca"}, "ca", "expected a CertificateAuthority"),
        ({}, lambda: {"ca": _ca(validity=100)}, "certificate_validity_hours", "at most 100"),
        ({}, lambda: {"tls_secret": "w"}, "tls_secret", "expected a TlsSecret"),
        (
            {"tls_secret_name": "mine"},
            lambda: {"tls_secret": _tls_secret()},
            "tls_secret",
            "named twice",
        ),
        ({}, lambda: {"tls_secret": _tls_secret(namespace="demo")}, "tls_secret", "'grpc-gateway'"),
        (
            {"hostnames": ("grpc.example.com", "a.b.example.com")},
            lambda: {"tls_secret": _tls_secret()},
            "tls_secret",
            "not ['a.b.example.com']",
        ),
        ({"gateway_name": "g" * 58}, None, "gateway_name", "at most 57 characters"),
    ],
)
def test_bad_gateway_objects_register_nothing(
    gw: dict[str, Any], extra: Any, field: str, hint: str
) -> None:
    _, err = bad_gateway(gw, extra)
    msg = str(err)
    assert f"- {field}" in msg and hint in msg and "Fix:" in msg, msg


def test_component_name_that_cannot_be_a_gateway_name_is_refused() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        try:
            GrpcGateway(
                "Grpc_Gateway", GrpcGatewayArgs(hostnames=("a.example.com",)), controller=ngf
            )
        except InvalidArgumentError as exc:
            holder["error"] = str(exc)

    rec = run_program(program)
    assert "- name: got 'Grpc_Gateway'" in holder["error"] and "gateway_name" in holder["error"]
    assert rec.of_type("grpc-kube:index:GrpcGateway") == []


def test_a_long_gateway_class_shortens_the_allowed_gateway_name() -> None:
    _, err = bad_gateway({"gateway_name": "g" * 40}, class_name="c" * 30)
    assert "at most 32 characters" in str(err)


def test_tls_secret_object_is_served_with_its_ca() -> None:
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        made["gw"] = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(hostnames=("grpc.example.com", "*.example.com")),
            controller=ngf,
            tls_secret=_tls_secret(),
        )
        made["seen"] = {}
        watch(made["gw"], made["seen"])

    rec = run_program(program)
    gw = made["gw"]
    assert gw.ref.certificate_dns_names == ["*.example.com"]
    seen = made["seen"]
    assert seen["tls_secret_name"] == "w"
    assert seen["certificate_dns_names"] == ["*.example.com"]
    assert "MOCK-corp-ca-cert" in seen["ca_cert_pem"]
    assert [r.name for r in rec.of_type("tls:index/selfSignedCert:SelfSignedCert")] == [
        "corp-ca-cert"
    ]
    refs = [x["tls"]["certificateRefs"] for x in rec.kube("Gateway")["spec"]["listeners"]]
    assert refs == [[{"kind": "Secret", "group": "", "name": "w"}]] * 2


def test_users_own_secret_by_name_leaves_certificate_coverage_unknown() -> None:
    rec, made = gateway_stack(tls_secret_name="mine")
    assert made["gw"].certificate_covers("a.b.example.com") is None
    assert made["seen"]["ca_cert_pem"] is None
    assert made["seen"]["certificate_dns_names"] is None
    assert made["gw"].ref.ca_cert_pem is None
    assert rec.of_type("grpc-kube:index:CertificateAuthority") == []


# --- the gateway's namespace --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"mesh": True, "pod_security": "restricted"}, "(root)", "linkerd_cni=True"),
        ({"mesh": True, "pod_security": "baseline"}, "(root)", "NET_ADMIN"),
        ({"create_namespace": False, "pod_security": "privileged"}, "(root)", "create_namespace"),
        ({"max_message_bytes": 0}, "max_message_bytes", "must be between 1 and 4294967295"),
        ({"max_message_bytes": 2**32}, "max_message_bytes", "must be between 1 and 4294967295"),
        ({"pod_security": "strict"}, "pod_security", "restricted"),
    ],
)
def test_bad_namespace_and_size_args(kwargs: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        GrpcGatewayArgs(hostnames=("grpc.example.com",), **kwargs)
    assert f"- {field}" in str(err.value) and hint in str(err.value), str(err.value)


def test_meshed_gateway_with_cni_may_enforce_restricted() -> None:
    rec, _ = gateway_stack(mesh=True, linkerd_cni=True, pod_security="restricted")
    ns = rec.kube("Namespace", "grpc-gateway")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- message size: NGF ClientSettingsPolicy on the Gateway ------------------------------------


def test_gateway_max_message_bytes_is_a_client_settings_policy_on_the_gateway() -> None:
    rec, made = gateway_stack(max_message_bytes=4 * 1024 * 1024)
    (policy,) = [o for o in rec.kubernetes_objects() if o["kind"] == "ClientSettingsPolicy"]
    assert policy == {
        "apiVersion": "gateway.nginx.org/v1alpha1",
        "kind": "ClientSettingsPolicy",
        "metadata": {
            "name": "grpc-gateway-client-settings",
            "namespace": "grpc-gateway",
            "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
        },
        "spec": {
            "targetRef": {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": "grpc-gateway",
            },
            "body": {"maxSize": "4097k"},
        },
    }
    res = rec.one(
        "kubernetes:gateway.nginx.org/v1alpha1:ClientSettingsPolicy", "grpc-gateway-client-settings"
    )
    assert rec.depends_on(
        res, rec.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "grpc-gateway-gateway")
    )
    assert made["gw"].client_settings_policy is not None
    rec, made = gateway_stack()
    assert [o for o in rec.kubernetes_objects() if o["kind"] == "ClientSettingsPolicy"] == []
    assert made["gw"].client_settings_policy is None


@pytest.mark.parametrize(
    ("n", "size"),
    [
        (0, "0"),
        (9999, "9999"),
        (10000, "10k"),
        (1024 * 1024 + 5, "1025k"),
        (4 * 1024 * 1024 + 5, "4097k"),
        (1024 * 9999, "9999k"),
        (1024 * 9999 + 1, "10m"),
        (3 * 1024**3, "3072m"),
        (20 * 1024**3, "20g"),
    ],
)
def test_nginx_size_rounds_up_to_ngfs_format(n: int, size: str) -> None:
    assert nginx_size(n) == size
    # NGF v2.6.7 apis/v1alpha1/shared_types.go: `Size` pattern.
    assert re.fullmatch(r"\d{1,4}(k|m|g)?", size)
    factor = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(size[-1], 1)
    assert int(size.rstrip("kmg")) * factor >= n


def test_client_settings_policy_targets_only_kinds_ngf_accepts() -> None:
    obj = client_settings_policy_object(
        name="r", namespace="demo", target_kind="GRPCRoute", target_name="r", max_message_bytes=1
    )
    # The CRD's CEL rules: kind Gateway, HTTPRoute or GRPCRoute; group gateway.networking.k8s.io.
    assert obj["spec"]["targetRef"]["kind"] in ("Gateway", "HTTPRoute", "GRPCRoute")
    assert obj["spec"]["targetRef"]["group"] == "gateway.networking.k8s.io"
    assert obj["spec"]["body"] == {"maxSize": "6"}
    assert set(obj["spec"]) == {"targetRef", "body"}


# --- grpc_route_object: several backends, limits -------------------------------------------------


def routes_program(**kw: Any) -> dict[str, Any]:
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        gw = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(hostnames=("grpc.example.com",), route_namespaces=("demo",)),
            controller=ngf,
        )
        greeter = GrpcService("greeter", GrpcServiceArgs(image="r/greeter:1.0.0", namespace="demo"))
        orders = GrpcService(
            "orders", GrpcServiceArgs(image="r/orders:1.0.0", namespace=kw.pop("ns", "demo"))
        )
        try:
            made["route"] = grpc_route_object(
                name="r",
                gateway=gw,
                hostnames=("grpc.example.com",),
                **{k: v(greeter.ref, orders.ref) for k, v in kw.items()},
            )
        except InvalidArgumentError as exc:
            made["error"] = str(exc)

    run_program(program)
    return made


def test_route_object_with_matches_and_routes_to_other_services() -> None:
    made = routes_program(
        service=lambda g, o: g,
        matches=lambda g, o: (GrpcMethodMatch(service="helloworld.Greeter", method="SayHello"),),
        routes=lambda g, o: [(GrpcMethodMatch(service="shop.Orders", method="Place"), o)],
    )
    assert made["route"]["spec"]["rules"] == [
        {
            "matches": [
                {"method": {"type": "Exact", "service": "helloworld.Greeter", "method": "SayHello"}}
            ],
            "backendRefs": [{"name": "greeter", "port": 80}],
        },
        {
            "matches": [{"method": {"type": "Exact", "service": "shop.Orders", "method": "Place"}}],
            "backendRefs": [{"name": "orders", "port": 80}],
        },
        {
            "matches": [
                {
                    "method": {
                        "type": "Exact",
                        "service": f"grpc.reflection.{v}.ServerReflection",
                        "method": "ServerReflectionInfo",
                    }
                }
                for v in ("v1", "v1alpha")
            ],
            "backendRefs": [{"name": "greeter", "port": 80}],
        },
    ]
    validate_all([made["route"]])


@pytest.mark.parametrize(
    ("kw", "hint"),
    [
        (
            {
                "service": lambda g, o: g,
                "routes": lambda g, o: [
                    (GrpcMethodMatch(service="shop.Orders", method="Place"), o)
                ],
                "ns": "shop",
            },
            "one route per namespace",
        ),
        (
            {"matches": lambda g, o: (GrpcMethodMatch(service="a.B", method="C"),)},
            "matches: given without service",
        ),
        (
            {
                "routes": lambda g, o: [
                    (GrpcMethodMatch(service="a.B", method="C"), g),
                    (GrpcMethodMatch(service="a.B", method="C"), o),
                ]
            },
            "a.B/C is matched twice",
        ),
        (
            {
                "routes": lambda g, o: [
                    (GrpcMethodMatch(service=f"p{i}.S", method="M"), g if i % 2 else o)
                    for i in range(130)
                ]
            },
            "127 in all",
        ),
        ({}, "service: missing"),
    ],
)
def test_route_object_refuses_what_a_grpcroute_cannot_hold(kw: dict[str, Any], hint: str) -> None:
    made = routes_program(**kw)
    assert "route" not in made
    assert hint in made["error"] and "Fix:" in made["error"], made["error"]


# --- NginxGatewayFabric arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"nginxGateway": {"gatewayClassName": "other"}}, "gateway_class_name"),
        ({"nginxGateway": {"replicas": 3}}, "high_availability"),
        ({"nginx": {"replicas": 3}}, "high_availability"),
        ({"nginx": {"service": {"type": "NodePort"}}}, "service_type"),
        ({"nginxGateway": {"productTelemetry": {"enable": True}}}, "telemetry"),
    ],
)
def test_ngf_extra_values_cannot_override_the_fields(values: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        NginxGatewayFabricArgs(extra_values=values)
    assert "- extra_values" in str(err.value) and f"set {field} instead" in str(err.value)


def test_ngf_args_as_plain_data_are_validated_like_the_model() -> None:
    def program(args: Any) -> Callable[[], None]:
        def run() -> None:
            crds = GatewayApiCrds("gateway-api")
            NginxGatewayFabric("ngf", args, gateway_api_crds=crds)

        return run

    rec = run_program(program({"namespace": "edge-gw", "high_availability": True}))
    assert rec.one(RELEASE).inputs["namespace"] == "edge-gw"
    assert rec.one(RELEASE).inputs["values"]["nginx"]["replicas"] == 2
    with pytest.raises(InvalidArgumentError, match="- namspace: unknown field"):
        run_program(program({"namspace": "x"}))
    with pytest.raises(InvalidArgumentError, match="NginxGatewayFabricArgs"):
        run_program(program("x"))


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: NginxGatewayFabricArgs(release_name="a" * 60), "at most 53"),
        (lambda: NginxGatewayFabricArgs(gateway_class_name="a.b"), "GatewayClass name"),
        (
            lambda: GrpcGatewayArgs(hostnames=tuple(f"h{i}.example.com" for i in range(65))),
            "at most 64",
        ),
        (
            lambda: GrpcMethodMatch(service=".helloworld.Greeter", method="SayHello"),
            "package-qualified",
        ),
    ],
)
def test_values_the_api_or_ngf_would_refuse_fail_early(make: Any, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    assert hint in str(err.value), str(err.value)


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_gateway_outputs_flow_into_the_gateway_and_order_it() -> None:
    made: dict[str, Any] = {"seen": {}}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric(
            "ngf",
            NginxGatewayFabricArgs(gateway_class_name=pulumi.Output.from_input("edge")),
            gateway_api_crds=crds,
        )
        ns = k8s.core.v1.Namespace("gw-ns", metadata={"name": "gateways"})
        made["gw"] = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(
                hostnames=[pulumi.Output.from_input("grpc.example.com"), "*.apps.example.com"],
                namespace=ns.metadata.name,
                create_namespace=False,
                gateway_name=pulumi.Output.from_input("public"),
                tls_secret_name=pulumi.Output.from_input("wildcard-tls"),
                route_namespaces=[pulumi.Output.from_input("demo")],
                max_message_bytes=pulumi.Output.from_input(4 * 1024 * 1024),
            ),
            controller=ngf,
        )
        watch(made["gw"], made["seen"])
        made["gw"].peer.pod_labels.apply(lambda v: made.__setitem__("labels", v))
        made["gw"].peer.mesh_identity.apply(lambda v: made.__setitem__("identity", v))

    rec = run_program(program)
    gw = rec.kube("Gateway")
    assert gw["metadata"] == {
        "name": "public",
        "namespace": "gateways",
        "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
    }
    assert gw["spec"]["gatewayClassName"] == "edge"
    assert [(x["name"], x["hostname"]) for x in gw["spec"]["listeners"]] == [
        ("https-grpc-example-com", "grpc.example.com"),
        ("https-wildcard-apps-example-com", "*.apps.example.com"),
    ]
    listener = gw["spec"]["listeners"][0]
    assert listener["tls"]["certificateRefs"][0]["name"] == "wildcard-tls"
    assert listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"] == [
        "demo"
    ]
    assert rec.one(RELEASE).inputs["values"]["nginxGateway"]["gatewayClassName"] == "edge"
    policy = rec.kube("ClientSettingsPolicy")
    assert policy["metadata"]["name"] == "public-client-settings"
    assert policy["spec"]["body"] == {"maxSize": "4097k"}
    # Ordering from the data: the namespace came from the Namespace resource.
    ns = rec.one("kubernetes:core/v1:Namespace", "gw-ns")
    assert rec.depends_on(rec.one(GATEWAY_T), ns)
    assert made["seen"]["name"] == "public"
    assert made["seen"]["hostnames"] == ["grpc.example.com", "*.apps.example.com"]
    assert made["labels"] == {"gateway.networking.k8s.io/gateway-name": "public"}
    assert made["identity"] == "public-edge.gateways.serviceaccount.identity.linkerd.cluster.local"


POLICY_T = "kubernetes:gateway.nginx.org/v1alpha1:ClientSettingsPolicy"


@pytest.mark.parametrize(
    ("options", "expected", "not_sent"),
    [
        ({"namespace": "Bad_NS"}, "namespace: got 'Bad_NS'", GATEWAY_T),
        ({"hostnames": ["grpc.example.com", "grpc.example.com"]}, "hostnames repeat", GATEWAY_T),
        # Only the policy carries the size, so only the policy is held back.
        ({"max_message_bytes": 0}, "max_message_bytes: got 0", POLICY_T),
        # NGF names the data plane `<gateway>-<class>`: 58 + 6 characters is too long.
        ({"gateway_name": "g" * 58}, "a gateway_name of at most 57 characters", GATEWAY_T),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    options: dict[str, Any], expected: str, not_sent: str
) -> None:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        kw: dict[str, Any] = {
            "hostnames": ["grpc.example.com"],
            "tls_secret_name": "mine",
            **{k: pulumi.Output.from_input(v) for k, v in options.items()},
        }
        GrpcGateway("grpc-gateway", GrpcGatewayArgs(**kw), controller=ngf)

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "GrpcGateway 'grpc-gateway': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert not_sent not in registered


def test_a_generated_certificate_for_output_hostnames() -> None:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api")
        ngf = NginxGatewayFabric("ngf", gateway_api_crds=crds)
        GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(
                hostnames=pulumi.Output.from_input(["grpc.example.com", "*.apps.example.com"]),
                gateway_name=pulumi.Output.from_input("public"),
            ),
            controller=ngf,
        )

    rec = run_program(program)
    csr = rec.one("tls:index/certRequest:CertRequest").inputs
    assert csr["dnsNames"] == ["grpc.example.com", "*.apps.example.com"]
    assert rec.kube("Secret", "public-tls")["metadata"]["namespace"] == "grpc-gateway"
    ca = rec.one("tls:index/selfSignedCert:SelfSignedCert").inputs
    assert ca["subject"]["commonName"] == "grpc-kube gateway public CA"
    listeners = rec.kube("Gateway")["spec"]["listeners"]
    assert [x["tls"]["certificateRefs"][0]["name"] for x in listeners] == ["public-tls"] * 2


def test_gateway_ref_from_plain_data() -> None:
    ref = GatewayRef(
        name="shared",
        namespace="edge",
        hostnames=["*.example.com", "api.example.com"],
        route_namespaces="All",
        certificate_dns_names=["*.example.com"],
        service_account="shared-nginx",
        mesh=True,
    )
    assert ref.listener_for("api.example.com") == "https-api-example-com"
    assert ref.listener_for("web.example.com") == "https-wildcard-example-com"
    assert ref.certificate_covers("a.b.example.com") is False
    assert ref.admits_namespace("anything")
    assert ref.peer.pod_labels == {"gateway.networking.k8s.io/gateway-name": "shared"}
    assert ref.peer.meshed is True
    with pytest.raises(InvalidArgumentError, match="- hostnames: got"):
        GatewayRef(name="shared", namespace="edge", hostnames=[])


def test_the_listener_certificate_keeps_its_earlier_name_as_an_alias() -> None:
    # Before the shared edge TLS path named it `<name>-tls-certificate`, the listener
    # certificate was `<name>-cert`: the alias keeps existing stacks from re-issuing it.
    from grpc_kube.grpc_gateway import _certificate_alias

    transform = _certificate_alias("grpc-gateway")

    def args(type_: str, name: str) -> pulumi.ResourceTransformationArgs:
        return pulumi.ResourceTransformationArgs(None, type_, name, {}, pulumi.ResourceOptions())  # type: ignore[arg-type]

    result = transform(args("grpc-kube:index:Certificate", "grpc-gateway-tls-certificate"))
    assert result is not None and result.opts.aliases is not None
    (alias,) = result.opts.aliases
    assert isinstance(alias, pulumi.Alias) and alias.name == "grpc-gateway-cert"
    assert transform(args("grpc-kube:index:Certificate", "other-tls-certificate")) is None
    assert transform(args("grpc-kube:index:TlsSecret", "grpc-gateway-tls")) is None


# --- NGF: where the chart comes from, or one the cluster already runs ---------------------------


def _gateway_program(
    ngf_args: dict[str, Any], crds_args: dict[str, Any] | None = None
) -> Callable[[], None]:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api", crds_args)
        ngf = NginxGatewayFabric("ngf", ngf_args, gateway_api_crds=crds)
        gw = GrpcGateway(
            "grpc-gateway",
            GrpcGatewayArgs(hostnames=("grpc.example.com",), route_namespaces=("demo",), mesh=True),
            controller=ngf,
        )
        svc = GrpcService("greeter", GrpcServiceArgs(image="r/greeter:1.0.0", namespace="demo"))
        GrpcRoute("greeter", GrpcRouteArgs(host="grpc.example.com"), service=svc, gateway=gw)

    return program


def test_an_existing_ngf_installs_nothing_and_the_gateway_comes_out_the_same() -> None:
    facts = {"namespace": "edge-gateway", "gateway_class_name": "edge"}
    installed = run_program(_gateway_program(facts))
    existing = run_program(_gateway_program({**facts, "install": {"existing": True}}))
    assert existing.of_type(RELEASE) == []
    namespaces = [
        o["metadata"]["name"]
        for o in (o for o in existing.kubernetes_objects() if o["kind"] == "Namespace")
    ]
    assert namespaces == ["grpc-gateway"]  # the Gateway's own, not NGF's
    ngf = existing.one("grpc-kube:index:NginxGatewayFabric")
    assert existing.children_of(ngf) == []
    # Every object GrpcGateway and GrpcRoute send is the same as on an NGF installed here.
    without_ngf_namespace = [
        o
        for o in installed.kubernetes_objects()
        if (o["kind"], o["metadata"]["name"]) != ("Namespace", "edge-gateway")
    ]
    assert existing.kubernetes_objects() == without_ngf_namespace
    assert existing.kube("Gateway")["spec"]["gatewayClassName"] == "edge"
    assert {o["kind"] for o in existing.kubernetes_objects()} >= {"Gateway", "GRPCRoute"}


def test_an_existing_ngf_reports_its_facts_and_warns_about_install_settings() -> None:
    made: dict[str, Any] = {}

    def program() -> None:
        crds = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(version="v1.6.1"))
        made["ngf"] = NginxGatewayFabric(
            "ngf",
            {"install": {"existing": True}, "gateway_class_name": "edge", "telemetry": True},
            gateway_api_crds=crds,
        )
        made["ngf"].gateway_class_name.apply(lambda v: made.__setitem__("class", v))
        made["ngf"].namespace.apply(lambda v: made.__setitem__("namespace", v))

    rec = run_program(program)
    ngf = made["ngf"]
    assert ngf.existing is True and ngf.release is None and ngf.values is None
    assert (made["class"], made["namespace"]) == ("edge", "nginx-gateway")
    assert ngf.gateway_api_crds.version == "v1.6.1"
    # Nothing compares an existing NGF's (unknown) version with the CRDs; the ignored setting
    # is reported.
    assert not any("built against" in w for w in rec.warnings), rec.warnings
    (warning,) = rec.warnings
    assert "telemetry is ignored" in warning and "gateway_class_name" in warning


def test_ngf_from_an_oci_mirror_a_repository_mirror_or_a_local_chart(tmp_path: Path) -> None:
    def release(install: dict[str, Any]) -> dict[str, Any]:
        def program() -> None:
            NginxGatewayFabric("ngf", {"install": install}, gateway_api_crds=GatewayApiCrds("g"))

        inputs: dict[str, Any] = run_program(program).one(RELEASE).inputs
        return inputs

    mirror = "oci://registry.example.com/nginx/charts/nginx-gateway-fabric"
    r = release({"chart": mirror})
    assert (r["chart"], r["version"], "repositoryOpts" in r) == (mirror, "2.6.7", False)
    r = release({"repository": "https://charts.example.com/nginx"})
    assert (r["chart"], r["version"]) == ("nginx-gateway-fabric", "2.6.7")
    assert r["repositoryOpts"] == {"repo": "https://charts.example.com/nginx"}
    chart = tmp_path / "nginx-gateway-fabric"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: nginx-gateway-fabric\nversion: 2.6.7\n"
    )
    r = release({"chart": str(chart)})
    assert r["chart"] == str(chart) and "version" not in r and "repositoryOpts" not in r
    # The directory holding it (as `helm pull --untar -d` leaves it) works too.
    assert release({"chart": str(tmp_path)})["chart"] == str(chart)


@pytest.mark.parametrize(
    ("install", "expected"),
    [
        (
            {"existing": True, "chart": "oci://registry.example.com/nginx-gateway-fabric"},
            "install.chart: got 'oci://registry.example.com/nginx-gateway-fabric'; existing is",
        ),
        (
            {"chart": "oci://r.example.com/ngf", "repository": "https://charts.example.com"},
            "install.repository: got 'https://charts.example.com'; chart is set",
        ),
        ({"chart": "charts/ngf.tgz"}, "there is no file or directory at 'charts/ngf.tgz'"),
    ],
)
def test_ngf_bad_install_names_field_value_and_fix(install: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        NginxGatewayFabricArgs(install=install)
    assert expected in str(err.value) and "Fix:" in str(err.value), str(err.value)
