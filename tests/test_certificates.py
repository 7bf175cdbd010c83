"""Certificates: what the CA, issued certificates and TLS Secrets send to pulumi-tls and
Kubernetes (algorithms, CA flags, usages, path lengths, validity), that private keys only travel
as secrets, the edge TLS helpers GrpcIngress builds on, and every refusal."""

from __future__ import annotations

import ast
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.certificates import (
    CA_USES,
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    EdgeTlsArgs,
    TlsSecret,
    check_hostname,
    check_hostnames,
    edge_tls_problems,
    hostname_covered,
    issue_tls_secret,
    kubernetes_service_dns_names,
    provision_edge_tls,
    renewal_window_problem,
    suggest_hostname,
)
from grpc_kube.testing import Recording, run_program

KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
CSR = "tls:index/certRequest:CertRequest"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
SECRET = "kubernetes:core/v1:Secret"


def ca_args(**kw: Any) -> CertificateAuthorityArgs:
    kw.setdefault("common_name", "grpc-kube test CA")
    return CertificateAuthorityArgs(**kw)


def leaf_args(**kw: Any) -> CertificateArgs:
    kw.setdefault("common_name", "grpc.example.com")
    kw.setdefault("dns_names", ("grpc.example.com",))
    return CertificateArgs(**kw)


def run_leaf(ca_kw: dict[str, Any] | None = None, **leaf_kw: Any) -> Recording:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args(**(ca_kw or {})))
        Certificate("leaf", leaf_args(**leaf_kw), issuer=ca)

    return run_program(program)


# --- CA ---------------------------------------------------------------------------------------


def test_ca_defaults_are_an_ecdsa_p256_self_signed_ca() -> None:
    rec = run_program(lambda: CertificateAuthority("ca", ca_args()))
    key = rec.one(KEY, "ca-key").inputs
    assert key["algorithm"] == "ECDSA"
    assert key["ecdsaCurve"] == "P256"  # pulumi-tls would default to P224
    cert = rec.one(SELF_SIGNED, "ca-cert").inputs
    assert cert["isCaCertificate"] is True
    assert cert["allowedUses"] == ["cert_signing", "crl_signing"]
    assert cert["maxPathLength"] == 1
    assert cert["validityPeriodHours"] == 87600
    assert cert["earlyRenewalHours"] == 8760
    assert cert["subject"] == {"commonName": "grpc-kube test CA", "organization": "grpc-kube"}
    assert cert["setSubjectKeyId"] is True


def test_ca_children_are_parented_and_key_is_passed_as_a_secret() -> None:
    rec = run_program(lambda: CertificateAuthority("ca", ca_args()))
    comp = rec.one("grpc-kube:index:CertificateAuthority", "ca")
    assert sorted(r.name for r in rec.children_of(comp)) == ["ca-cert", "ca-key"]
    assert rec.one(SELF_SIGNED).secret_paths == ["privateKeyPem"]


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("ECDSA-P256", {"algorithm": "ECDSA", "ecdsaCurve": "P256"}),
        ("ECDSA-P384", {"algorithm": "ECDSA", "ecdsaCurve": "P384"}),
        ("RSA-2048", {"algorithm": "RSA", "rsaBits": 2048}),
        ("RSA-4096", {"algorithm": "RSA", "rsaBits": 4096}),
    ],
)
def test_key_algorithms(algorithm: str, expected: dict[str, Any]) -> None:
    rec = run_leaf({"algorithm": algorithm}, algorithm=algorithm)
    for key in rec.of_type(KEY):
        assert {k: key.inputs[k] for k in expected} == expected
        assert set(key.inputs) == set(expected)


@pytest.mark.parametrize(
    ("options", "path_length", "validity", "renewal"),
    [
        ({}, 1, 87600, 8760),
        ({"max_path_length": 0, "validity_hours": 1000, "early_renewal_hours": 100}, 0, 1000, 100),
    ],
)
def test_ca_path_length_and_validity(
    options: dict[str, Any], path_length: int, validity: int, renewal: int
) -> None:
    rec = run_program(lambda: CertificateAuthority("ca", ca_args(**options)))
    cert = rec.one(SELF_SIGNED).inputs
    assert (cert["maxPathLength"], cert["validityPeriodHours"], cert["earlyRenewalHours"]) == (
        path_length,
        validity,
        renewal,
    )


# --- issued certificates ----------------------------------------------------------------------


def test_server_leaf_defaults() -> None:
    rec = run_leaf(dns_names=("grpc.example.com", "*.grpc.example.com"))
    csr = rec.one(CSR, "leaf-csr").inputs
    assert csr["dnsNames"] == ["grpc.example.com", "*.grpc.example.com"]
    assert csr["subject"] == {"commonName": "grpc.example.com", "organization": "grpc-kube"}
    cert = rec.one(SIGNED, "leaf-cert").inputs
    assert cert["isCaCertificate"] is False
    # ECDSA keys sign; keyEncipherment is for RSA only (RFC 5480 section 3).
    assert cert["allowedUses"] == ["digital_signature", "server_auth"]
    assert "maxPathLength" not in cert
    assert cert["validityPeriodHours"] == 2160
    assert cert["earlyRenewalHours"] == 720
    assert (
        cert["caCertPem"]
        == "-----BEGIN CERTIFICATE-----\nMOCK-ca-cert\n-----END CERTIFICATE-----\n"
    )


@pytest.mark.parametrize(
    ("algorithm", "uses"),
    [
        ("ECDSA-P256", ["digital_signature", "server_auth"]),
        ("ECDSA-P384", ["digital_signature", "server_auth"]),
        ("RSA-2048", ["digital_signature", "key_encipherment", "server_auth"]),
    ],
)
def test_server_usages_follow_the_key_algorithm(algorithm: str, uses: list[str]) -> None:
    rec = run_leaf(algorithm=algorithm)
    assert rec.one(SIGNED).inputs["allowedUses"] == uses


def test_intermediate_ca_is_a_ca_with_path_length_zero() -> None:
    # Linkerd's identity issuer: CA signed by the trust anchor, cert-sign + crl-sign, pathlen 0.
    rec = run_leaf(
        common_name="identity.linkerd.cluster.local", dns_names=(), is_ca=True, validity_hours=8760
    )
    cert = rec.one(SIGNED).inputs
    assert cert["isCaCertificate"] is True
    assert cert["allowedUses"] == list(CA_USES)
    assert cert["maxPathLength"] == 0
    assert "dnsNames" not in rec.one(CSR).inputs


def test_issued_key_and_ca_key_travel_only_as_secrets() -> None:
    rec = run_leaf()
    assert rec.one(CSR).secret_paths == ["privateKeyPem"]
    assert rec.one(SIGNED).secret_paths == ["caPrivateKeyPem"]
    # Public material is not secret (it is exported and handed to clients).
    assert "caCertPem" not in rec.one(SIGNED).secret_paths


def test_validity_and_early_renewal_are_passed_through() -> None:
    rec = run_leaf(validity_hours=48, early_renewal_hours=24)
    cert = rec.one(SIGNED).inputs
    assert (cert["validityPeriodHours"], cert["earlyRenewalHours"]) == (48, 24)


def test_outputs_expose_public_pems_and_validity() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(validity_hours=24, early_renewal_hours=1), issuer=ca)
        pulumi.export("ca", ca.cert_pem)
        pulumi.export("leaf_ca", leaf.ca_cert_pem)
        pulumi.export("end", leaf.validity_end_time)

    out = run_program(program).outputs
    assert out["ca"] == out["leaf_ca"]
    assert out["end"] == "2026-01-02T00:00:00Z"


# --- TLS Secret -------------------------------------------------------------------------------


def test_tls_secret_is_a_kubernetes_tls_secret_whose_data_is_secret() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(), issuer=ca)
        TlsSecret("tls", certificate=leaf, namespace="demo", secret_name="grpc-example-tls")

    rec = run_program(program)
    secret = rec.kube("Secret", "grpc-example-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["metadata"]["namespace"] == "demo"
    assert secret["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "grpc-kube"}
    assert sorted(secret["stringData"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert secret["stringData"]["tls.key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert rec.one(SECRET).secret_paths == ["stringData"]
    assert validate_all(rec.kubernetes_objects()) == 1


def test_tls_secret_exposes_its_certificate_and_ca() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(), issuer=ca)
        s = TlsSecret("tls", certificate=leaf, namespace="demo", secret_name="t")
        seen["same"] = s.certificate is leaf
        pulumi.export("ca", s.ca_cert_pem)

    rec = run_program(program)
    assert seen["same"] is True
    assert "MOCK-ca-cert" in rec.outputs["ca"]


@pytest.mark.parametrize(
    ("namespace", "secret_name", "field"),
    [("Demo", "ok", "namespace"), ("demo", "Bad_Name", "secret_name"), ("-x", "a/b", "namespace")],
)
def test_tls_secret_bad_names(namespace: str, secret_name: str, field: str) -> None:
    errors: list[str] = []

    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(), issuer=ca)
        try:
            TlsSecret("tls", certificate=leaf, namespace=namespace, secret_name=secret_name)
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert f"- {field}: got" in errors[0] and "Fix:" in errors[0]
    assert rec.of_type("grpc-kube:index:TlsSecret") == []
    assert rec.of_type(SECRET) == []


def test_tls_secret_needs_a_certificate() -> None:
    with pytest.raises(TypeError, match="must be a Certificate"):
        run_program(
            lambda: TlsSecret("t", certificate="pem", namespace="demo", secret_name="t")  # type: ignore[arg-type]
        )


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field", "hint"),
    [
        (
            lambda: ca_args(early_renewal_hours=100, validity_hours=100),
            "early_renewal_hours",
            "below validity_hours (100)",
        ),
        (lambda: ca_args(validity_hours=0), "validity_hours", "at least 1"),
        (lambda: ca_args(max_path_length=-1), "max_path_length", "at least 0"),
        (lambda: ca_args(algorithm="ECDSA-P224"), "algorithm", "ECDSA-P256"),
        (lambda: leaf_args(dns_names=()), "dns_names", "needs dns_names"),
        (
            lambda: leaf_args(early_renewal_hours=2160),
            "early_renewal_hours",
            "lower early_renewal_hours",
        ),
        (lambda: leaf_args(dns_names=("Grpc.Example.com",)), "dns_names", "'grpc.example.com'"),
        (lambda: leaf_args(dns_names=("a..b",)), "dns_names", "Fix:"),
        (lambda: leaf_args(dns_names=("*.*.example.com",)), "dns_names", "single leading"),
        (lambda: leaf_args(dns_names=("grpc_x.example.com",)), "dns_names", "Fix:"),
        (lambda: leaf_args(commonname="x"), "commonname", "common_name"),
    ],
)
def test_bad_certificate_args(make: Any, field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


def test_leaf_longer_than_its_issuer_is_refused_before_registering() -> None:
    errors: list[str] = []

    def program() -> None:
        ca = CertificateAuthority("ca", ca_args(validity_hours=100, early_renewal_hours=10))
        try:
            Certificate("leaf", leaf_args(validity_hours=200, early_renewal_hours=10), issuer=ca)
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert "validity_hours: got 200" in errors[0] and "Fix: lower validity_hours" in errors[0]
    assert rec.of_type("grpc-kube:index:Certificate") == []
    assert rec.of_type(CSR) == []


def test_issuer_must_be_a_ca() -> None:
    with pytest.raises(TypeError, match="CertificateAuthority"):
        run_program(lambda: Certificate("leaf", leaf_args(), issuer="ca"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("grpc.example.com", True),
        ("*.dev.example.com", True),
        ("localhost", True),
        ("Grpc.example.com", False),
        ("grpc.example.com.", False),
        ("*.*.example.com", False),
        ("grpc.*.example.com", False),
        ("", False),
        ("a" * 254, False),
    ],
)
def test_check_hostname(host: str, ok: bool) -> None:
    if ok:
        assert check_hostname(host) == host
    else:
        with pytest.raises(ValueError, match="Fix:"):
            check_hostname(host)


def test_check_hostname_can_refuse_wildcards() -> None:
    with pytest.raises(ValueError, match="Fix:"):
        check_hostname("*.example.com", wildcard_ok=False)


# --- helpers GrpcIngress (and a gateway route) build on --------------------------------------


@pytest.mark.parametrize(
    ("host", "sans", "covered"),
    [
        ("grpc.example.com", ["grpc.example.com"], True),
        ("grpc.example.com", ["*.example.com"], True),
        ("a.grpc.example.com", ["*.example.com"], False),
        ("example.com", ["*.example.com"], False),
        ("grpc.example.com", ["other.example.com"], False),
        ("grpc.example.com", [], False),
    ],
)
def test_hostname_covered(host: str, sans: list[str], covered: bool) -> None:
    assert hostname_covered(host, sans) is covered


def test_kubernetes_service_dns_names() -> None:
    assert kubernetes_service_dns_names("greeter", "demo") == (
        "greeter",
        "greeter.demo",
        "greeter.demo.svc",
        "greeter.demo.svc.cluster.local",
    )
    assert kubernetes_service_dns_names("g", "d", "corp.local")[-1] == "g.d.svc.corp.local"


def test_issue_tls_secret_registers_certificate_and_secret() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        issue_tls_secret(
            "backend",
            issuer=ca,
            dns_names=kubernetes_service_dns_names("greeter", "demo"),
            namespace="demo",
            secret_name="greeter-tls",
            validity_hours=100,
            early_renewal_hours=10,
        )

    rec = run_program(program)
    assert rec.one("grpc-kube:index:Certificate", "backend-certificate")
    assert rec.one("grpc-kube:index:TlsSecret", "backend")
    csr = rec.one(CSR).inputs
    assert csr["subject"]["commonName"] == "greeter"
    assert csr["dnsNames"][-1] == "greeter.demo.svc.cluster.local"
    assert rec.one(SIGNED).inputs["validityPeriodHours"] == 100
    secret = rec.kube("Secret", "greeter-tls")
    assert secret["metadata"]["namespace"] == "demo"


@pytest.mark.parametrize(
    ("kw", "field", "hint"),
    [
        ({"secret_name": "other/wildcard"}, "secret_name", "namespace 'other'"),
        ({"secret_name": "Wildcard"}, "secret_name", "Fix:"),
        ({"existing": True}, "(root)", "needs secret_name"),
        (
            {"existing": True, "secret_name": "w", "extra_dns_names": ("a.example.com",)},
            "(root)",
            "only applies to a generated",
        ),
        (
            {"validity_hours": 10, "early_renewal_hours": 10},
            "early_renewal_hours",
            "below validity_hours",
        ),
        ({"extra_dns_names": ("A.example.com",)}, "extra_dns_names", "Fix:"),
        ({"validity_hours": 0}, "validity_hours", "at least 1"),
    ],
)
def test_edge_tls_args_refusals(kw: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        EdgeTlsArgs(**kw)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


def test_edge_tls_problems_cross_object_checks() -> None:
    found: dict[str, list[str]] = {}

    def program() -> None:
        ca = CertificateAuthority("ca", ca_args(validity_hours=1000, early_renewal_hours=10))
        leaf = Certificate(
            "leaf",
            leaf_args(dns_names=("*.dev.example.com",), validity_hours=500, early_renewal_hours=1),
            issuer=ca,
        )
        secret = TlsSecret("s", certificate=leaf, namespace="other", secret_name="wildcard")
        found["other_ns"] = edge_tls_problems(
            EdgeTlsArgs(), hosts=("grpc.dev.example.com",), namespace="demo", tls_secret=secret
        )
        found["uncovered"] = edge_tls_problems(
            EdgeTlsArgs(), hosts=("grpc.example.com",), namespace="other", tls_secret=secret
        )
        found["twice"] = edge_tls_problems(
            EdgeTlsArgs(secret_name="x"),
            hosts=("grpc.dev.example.com",),
            namespace="other",
            tls_secret=secret,
        )
        found["ok"] = edge_tls_problems(
            EdgeTlsArgs(), hosts=("grpc.dev.example.com",), namespace="other", tls_secret=secret
        )
        found["issuer"] = edge_tls_problems(
            EdgeTlsArgs(validity_hours=2000), hosts=("g.example.com",), namespace="d", issuer=ca
        )
        found["not_a_ca"] = edge_tls_problems(
            EdgeTlsArgs(),
            hosts=("g.example.com",),
            namespace="d",
            issuer="ca",  # type: ignore[arg-type]
        )

    run_program(program)
    assert "in namespace 'other'" in found["other_ns"][0]
    assert "namespace='demo'" in found["other_ns"][0]
    assert "not ['grpc.example.com']" in found["uncovered"][0]
    assert "named twice" in found["twice"][0]
    assert found["ok"] == []
    assert found["issuer"][0].startswith("tls.validity_hours: got 2000")
    assert found["not_a_ca"][0].startswith("ca: got str")


@pytest.mark.parametrize("existing", [False, True])
def test_provision_edge_tls_generated_or_existing(existing: bool) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        tls_args = EdgeTlsArgs(secret_name="my-tls", existing=existing)
        edge = provision_edge_tls(
            "edge",
            tls_args,
            hosts=("grpc.example.com",),
            namespace="demo",
            default_secret_name="unused-tls",
            issuer=ca,
        )
        seen["edge"] = (edge.secret_name, edge.namespace, edge.generated, len(edge.wait_for))
        pulumi.export("ca", edge.ca_cert_pem)

    rec = run_program(program)
    if existing:
        assert seen["edge"] == ("my-tls", "demo", False, 0)
        assert rec.outputs["ca"] is None
        assert rec.of_type(SECRET) == []
    else:
        assert seen["edge"] == ("my-tls", "demo", True, 1)
        assert "MOCK-ca-cert" in rec.outputs["ca"]
        assert rec.kube("Secret", "my-tls")["metadata"]["namespace"] == "demo"


# --- fix suggestions are themselves valid ---------------------------------------------------


def _suggestion(message: str) -> str:
    found = re.search(r"Fix: use e\.g\. ('.*')\.$", message)
    assert found, message
    return str(ast.literal_eval(found.group(1)))


@pytest.mark.parametrize(
    ("host", "wildcard_ok"),
    [
        ("GRPC_test.Dev.mydomain.com", True),
        ("a..b.com", True),
        ("-x.example.com", True),
        ("x-.example.com", True),
        ("grpc.example.com.", True),
        (".grpc.example.com", True),
        ("Grpc.example.com", True),
        ("grpc example.com", True),
        ("grpc.exämple.com", True),
        ("*.*.example.com", True),
        ("grpc.*.example.com", True),
        ("*.Dev_Example.com", True),
        ("*.", True),
        ("*", True),
        ("", True),
        ("-", True),
        ("..", True),
        ("a" * 254, True),
        (".".join(["b" * 63] * 5), True),
        ("*.example.com", False),
        ("GRPC_test.Dev.mydomain.com", False),
    ],
)
def test_every_hostname_fix_suggestion_passes_the_check(host: str, wildcard_ok: bool) -> None:
    with pytest.raises(ValueError) as err:
        check_hostname(host, wildcard_ok=wildcard_ok)
    suggestion = _suggestion(str(err.value))
    assert check_hostname(suggestion, wildcard_ok=wildcard_ok) == suggestion
    assert suggest_hostname(host, wildcard_ok=wildcard_ok) == suggestion


@pytest.mark.parametrize(
    ("host", "suggested"),
    [
        ("GRPC_test.Dev.mydomain.com", "grpc-test.dev.mydomain.com"),
        ("a..b.com", "a.b.com"),
        ("-x.example.com", "x.example.com"),
        ("*.Dev_Example.com", "*.dev-example.com"),
        ("", "grpc.example.com"),
    ],
)
def test_hostname_suggestions_stay_close_to_the_input(host: str, suggested: str) -> None:
    assert suggest_hostname(host) == suggested


def test_every_bad_dns_name_is_reported() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        leaf_args(dns_names=["ok.example.com", "GRPC_test.example.com", "a..b.com"])
    msg = str(err.value)
    assert "- dns_names[1]: got 'GRPC_test.example.com'" in msg, msg
    assert "'grpc-test.example.com'" in msg
    assert "- dns_names[2]: got 'a..b.com'" in msg and "'a.b.com'" in msg
    assert "dns_names[0]" not in msg


def test_check_hostnames_names_each_bad_entry() -> None:
    with pytest.raises(ValueError) as err:
        check_hostnames(["ok.example.com", "A_.com", "-b.com"])
    msg = str(err.value)
    assert "'A_.com':" in msg and "'-b.com':" in msg and "'ok.example.com'" not in msg
    with pytest.raises(ValueError) as err:
        check_hostnames(["A.com"])
    assert str(err.value).startswith("a hostname must be")  # one entry: the plain message
    assert check_hostnames(["a.example.com", "*.b.example.com"]) == [
        "a.example.com",
        "*.b.example.com",
    ]


# --- one rule for early renewal -------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: ca_args(validity_hours=100, early_renewal_hours=100),
        lambda: leaf_args(validity_hours=100, early_renewal_hours=100),
        lambda: EdgeTlsArgs(validity_hours=100, early_renewal_hours=100),
    ],
    ids=["ca", "certificate", "edge"],
)
def test_early_renewal_rule_is_one_rule(make: Any) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    rule = renewal_window_problem(100, 100)
    assert rule is not None
    assert f"- early_renewal_hours: got 100; {rule}" in str(err.value)
    assert renewal_window_problem(99, 100) is None


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    def program() -> None:
        ca = CertificateAuthority(
            "ca", {"common_name": "dict CA", "validity_hours": 9000, "early_renewal_hours": 10}
        )
        Certificate("leaf", {"common_name": "g", "dns_names": ["g.example.com"]}, issuer=ca)

    rec = run_program(program)
    assert rec.one(SELF_SIGNED).inputs["validityPeriodHours"] == 9000
    assert rec.one(CSR).inputs["dnsNames"] == ["g.example.com"]
    with pytest.raises(
        InvalidArgumentError, match=r"(?s)CertificateAuthority 'ca'.*- commonname: unknown"
    ):
        run_program(lambda: CertificateAuthority("ca", {"commonname": "x"}))


def test_outputs_flow_into_the_certificates() -> None:
    def program() -> None:
        # Outputs exist only inside a running program, so they are made in it.
        ca = CertificateAuthority(
            "ca",
            ca_args(
                common_name=pulumi.Output.from_input("output CA"),
                validity_hours=pulumi.Output.from_input(5000),
                early_renewal_hours=pulumi.Output.from_input(500),
            ),
        )
        Certificate(
            "leaf",
            leaf_args(
                common_name=pulumi.Output.from_input("grpc.example.com"),
                dns_names=pulumi.Output.from_input(["grpc.example.com", "*.grpc.example.com"]),
                validity_hours=pulumi.Output.from_input(48),
                early_renewal_hours=24,
            ),
            issuer=ca,
        )

    rec = run_program(program)
    ca_cert = rec.one(SELF_SIGNED).inputs
    assert ca_cert["subject"]["commonName"] == "output CA"
    assert ca_cert["validityPeriodHours"] == 5000
    assert rec.one(CSR).inputs["dnsNames"] == ["grpc.example.com", "*.grpc.example.com"]
    assert rec.one(CSR).inputs["subject"]["commonName"] == "grpc.example.com"
    assert rec.one(SIGNED).inputs["validityPeriodHours"] == 48


@pytest.mark.parametrize(
    ("leaf_kw", "expected"),
    [
        ({"dns_names": ["ok.example.com", "Bad_Host"]}, "- dns_names[1]: got 'Bad_Host'"),
        ({"dns_names": []}, "- dns_names: got []; a server certificate needs dns_names"),
        ({"early_renewal_hours": 5000}, "- early_renewal_hours: got 5000; it must be below"),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    leaf_kw: dict[str, Any], expected: str
) -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        kw = {k: pulumi.Output.from_input(v) for k, v in leaf_kw.items()}
        Certificate("leaf", leaf_args(**kw), issuer=ca)

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "Certificate 'leaf': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg
    assert err.value.recording.of_type(SIGNED) == []  # type: ignore[attr-defined]


def test_an_output_validity_longer_than_the_issuer_fails_the_deployment() -> None:
    def program() -> None:
        ca = CertificateAuthority(
            "ca", ca_args(validity_hours=pulumi.Output.from_input(100), early_renewal_hours=10)
        )
        Certificate("leaf", leaf_args(validity_hours=200, early_renewal_hours=10), issuer=ca)

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "Certificate 'leaf': invalid input (values that arrived as Outputs" in msg, msg
    assert "validity_hours: got 200; it is longer than the issuing CA's validity" in msg
    assert err.value.recording.of_type(SIGNED) == []  # type: ignore[attr-defined]


def test_tls_secret_namespace_from_a_namespace_resource_orders_it_with_no_depends_on() -> None:
    def program() -> None:
        ns = k8s.core.v1.Namespace("demo", metadata={"name": "demo"})
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(), issuer=ca)
        secret = TlsSecret(
            "tls",
            certificate=leaf,
            namespace=ns.metadata.apply(lambda m: m.name),  # type: ignore[union-attr]
            secret_name=pulumi.Output.from_input("grpc-tls"),
        )
        pulumi.export("name", secret.secret_name)
        pulumi.export("namespace", secret.namespace)
        # Whatever references the Secret by name waits for it.
        k8s.core.v1.ConfigMap("uses", data={"secret": secret.secret_name})

    rec = run_program(program)
    secret = rec.one(SECRET)
    assert secret.inputs["metadata"] == {
        "name": "grpc-tls",
        "namespace": "demo",
        "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
    }
    assert rec.depends_on(secret, rec.one("kubernetes:core/v1:Namespace"))
    assert rec.depends_on(rec.one("kubernetes:core/v1:ConfigMap"), secret)
    assert secret.secret_paths == ["stringData"]
    assert rec.outputs["name"] == "grpc-tls" and rec.outputs["namespace"] == "demo"


def test_tls_secret_bad_output_name_reaches_no_secret() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(), issuer=ca)
        TlsSecret(
            "tls",
            certificate=leaf,
            namespace=pulumi.Output.from_input("Demo"),
            secret_name="ok",
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "TlsSecret 'tls': invalid input (values that arrived as Outputs" in msg
    assert "- namespace: got 'Demo'" in msg
    assert err.value.recording.of_type(SECRET) == []  # type: ignore[attr-defined]


def test_issue_tls_secret_for_a_service_whose_names_are_outputs() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        name = pulumi.Output.from_input("greeter")
        namespace = pulumi.Output.from_input("demo")
        issue_tls_secret(
            "backend",
            issuer=ca,
            dns_names=kubernetes_service_dns_names(name, namespace),
            namespace=namespace,
            secret_name="greeter-tls",
        )

    rec = run_program(program)
    csr = rec.one(CSR).inputs
    assert csr["subject"]["commonName"] == "greeter"
    assert csr["dnsNames"] == [
        "greeter",
        "greeter.demo",
        "greeter.demo.svc",
        "greeter.demo.svc.cluster.local",
    ]
    assert rec.kube("Secret", "greeter-tls")["metadata"]["namespace"] == "demo"


@pytest.mark.parametrize("hosts_output", ["entry", "list"])
def test_edge_tls_with_output_hosts_and_extra_names(hosts_output: str) -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        host = "grpc.example.com"
        hosts: Any = (
            (pulumi.Output.from_input(host),)
            if hosts_output == "entry"
            else pulumi.Output.from_input([host])
        )
        assert edge_tls_problems(EdgeTlsArgs(), hosts=hosts, namespace="demo", issuer=ca) == []
        edge = provision_edge_tls(
            "edge",
            EdgeTlsArgs(extra_dns_names=pulumi.Output.from_input(["alt.example.com"])),
            hosts=hosts,
            namespace="demo",
            default_secret_name="edge-tls",
            issuer=ca,
        )
        assert edge.secret_name == "edge-tls" and edge.generated

    rec = run_program(program)
    assert rec.one(CSR).inputs["dnsNames"] == ["grpc.example.com", "alt.example.com"]


def test_a_tls_secret_in_another_namespace_fails_when_the_namespace_resolves() -> None:
    def program() -> None:
        ca = CertificateAuthority("ca", ca_args())
        leaf = Certificate("leaf", leaf_args(dns_names=("*.example.com",)), issuer=ca)
        secret = TlsSecret(
            "w", certificate=leaf, namespace=pulumi.Output.from_input("certs"), secret_name="w"
        )
        problems = edge_tls_problems(
            EdgeTlsArgs(), hosts=("grpc.example.com",), namespace="demo", tls_secret=secret
        )
        assert problems == []  # not known yet: checked when it resolves
        edge = provision_edge_tls(
            "edge",
            EdgeTlsArgs(),
            hosts=("grpc.example.com",),
            namespace="demo",
            default_secret_name="unused",
            tls_secret=secret,
        )
        k8s.core.v1.ConfigMap("route", data={"secret": edge.secret_name})

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "edge TLS 'edge': invalid input (values that arrived as Outputs" in msg, msg
    assert "in namespace 'certs', but the route lives in 'demo'" in msg
    assert err.value.recording.of_type("kubernetes:core/v1:ConfigMap") == []  # type: ignore[attr-defined]
