"""Certificates: what the CA, issued certificates and TLS Secrets send to pulumi-tls and
Kubernetes (algorithms, CA flags, usages, path lengths, validity), that private keys only travel
as secrets, the edge TLS helpers GrpcIngress builds on, and every refusal."""

from __future__ import annotations

from typing import Any

import pulumi
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
    edge_tls_problems,
    hostname_covered,
    issue_tls_secret,
    kubernetes_service_dns_names,
    provision_edge_tls,
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
        (lambda: ca_args(early_renewal_hours=100, validity_hours=100), "(root)", "below"),
        (lambda: ca_args(validity_hours=0), "validity_hours", "greater than or equal to 1"),
        (lambda: ca_args(max_path_length=-1), "max_path_length", "greater than or equal to 0"),
        (lambda: ca_args(algorithm="ECDSA-P224"), "algorithm", "ECDSA-P256"),
        (lambda: leaf_args(dns_names=()), "(root)", "needs dns_names"),
        (lambda: leaf_args(early_renewal_hours=2160), "(root)", "lower early_renewal_hours"),
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
        ({"validity_hours": 10, "early_renewal_hours": 10}, "(root)", "below validity_hours"),
        ({"extra_dns_names": ("A.example.com",)}, "extra_dns_names", "Fix:"),
        ({"validity_hours": 0}, "validity_hours", "greater than or equal to 1"),
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
