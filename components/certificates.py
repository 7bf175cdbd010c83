"""Certificates from pulumi-tls: a self-signed CA, certificates it issues (server leaves, or
intermediate CAs such as Linkerd's identity issuer), and a helper that stores a certificate as a
`kubernetes.io/tls` Secret.

Keys are ECDSA P-256 by default (pulumi-tls defaults to P-224, which Linkerd and most TLS stacks
reject). Private keys only ever travel as Pulumi secrets: the key PEM output is wrapped with
`Output.secret` here, so even a provider that forgot to mark it cannot leak it to the state in
plain text or to `pulumi stack output`.

Edge TLS (`EdgeTlsArgs`, `edge_tls_problems`, `provision_edge_tls`) and `issue_tls_secret` are the
certificate handling GrpcIngress uses, kept here so every entry point (Ingress, Gateway listener)
generates, names and checks certificates the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls
from pydantic import Field

from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_dns_label,
    check_dns_subdomain,
    field_validator,
    model_validator,
)

__all__ = [
    "Certificate",
    "CertificateArgs",
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "EdgeTls",
    "EdgeTlsArgs",
    "KeyAlgorithm",
    "TlsSecret",
    "check_hostname",
    "edge_tls_problems",
    "hostname_covered",
    "issue_tls_secret",
    "issuer_validity_problem",
    "kubernetes_service_dns_names",
    "provision_edge_tls",
]

KeyAlgorithm = Literal["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-4096"]

CA_USES = ("cert_signing", "crl_signing")
SERVER_USES = ("digital_signature", "key_encipherment", "server_auth")
# RFC 5480 section 3: an ECDSA key signs, it never encrypts a session key, so keyEncipherment
# does not belong on an ECDSA certificate (strict verifiers reject it).
SERVER_USES_EC = ("digital_signature", "server_auth")

_HOUR_FIX = "Fix: give whole hours, e.g. 8760 for one year."


def check_hostname(value: str, *, wildcard_ok: bool = True) -> str:
    """A DNS hostname, optionally with one leading `*.` label."""
    host = value[2:] if wildcard_ok and value.startswith("*.") else value
    if "*" in host:
        raise ValueError(
            "only a single leading '*.' wildcard label is allowed in a hostname. "
            "Fix: use e.g. '*.dev.example.com'."
        )
    try:
        check_dns_subdomain(host, what="hostname")
    except ValueError:
        example = host.lower().strip(".") or "grpc.example.com"
        raise ValueError(
            "a hostname must be lowercase letters, digits, '-' and '.', each label starting and "
            f"ending with a letter or digit. Fix: use e.g. {example!r}."
        ) from None
    return value


def hostname_covered(host: str, dns_names: Sequence[str]) -> bool:
    """Whether a certificate with these SANs is valid for `host` (RFC 6125: a `*.` wildcard
    stands for exactly one label, so `*.example.com` covers `a.example.com`, not
    `a.b.example.com` nor `example.com`)."""
    for name in dns_names:
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == name[2:]:
                return True
    return False


def kubernetes_service_dns_names(
    name: str, namespace: str, cluster_domain: str = "cluster.local"
) -> tuple[str, ...]:
    """Every name a client inside the cluster may dial a Service by, most specific last
    (`name`, `name.ns`, `name.ns.svc`, `name.ns.svc.<cluster_domain>`)."""
    return (
        name,
        f"{name}.{namespace}",
        f"{name}.{namespace}.svc",
        f"{name}.{namespace}.svc.{cluster_domain}",
    )


def _uses(args: CertificateArgs) -> tuple[str, ...]:
    if args.is_ca:
        return CA_USES
    return SERVER_USES_EC if args.algorithm.startswith("ECDSA") else SERVER_USES


def check_hostnames(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """check_hostname for each of `hosts`."""
    for host in hosts:
        check_hostname(host)
    return hosts


def _private_key(name: str, algorithm: KeyAlgorithm, parent: pulumi.Resource) -> tls.PrivateKey:
    family, size = algorithm.split("-")
    if family == "ECDSA":
        return tls.PrivateKey(
            name, algorithm="ECDSA", ecdsa_curve=size, opts=pulumi.ResourceOptions(parent=parent)
        )
    return tls.PrivateKey(
        name, algorithm="RSA", rsa_bits=int(size), opts=pulumi.ResourceOptions(parent=parent)
    )


class CertificateAuthorityArgs(ArgsModel):
    """A self-signed certificate authority."""

    common_name: str
    """Subject CN, e.g. `root.linkerd.cluster.local` or `grpc-kube dev CA`."""
    organization: str = "grpc-kube"
    """Subject O (default `grpc-kube`)."""
    algorithm: KeyAlgorithm = "ECDSA-P256"
    """Key algorithm (default ECDSA-P256)."""
    validity_hours: int = Field(default=87600, ge=1)
    """Validity (default 87600 h = 10 years: a CA outlives what it issues)."""
    early_renewal_hours: int = Field(default=8760, ge=0)
    """Pulumi re-creates the CA this many hours before expiry on the next `pulumi up`
    (default 8760 h = 1 year). Re-creating a CA re-issues everything it signed."""
    max_path_length: int = Field(default=1, ge=0)
    """How many intermediate CAs may follow (default 1: one issuer level, as Linkerd needs)."""

    @model_validator(mode="after")
    def _renewal(self) -> CertificateAuthorityArgs:
        if self.early_renewal_hours >= self.validity_hours:
            raise ValueError(
                f"early_renewal_hours ({self.early_renewal_hours}) must be below validity_hours "
                f"({self.validity_hours}), or every `pulumi up` re-creates the CA. "
                "Fix: lower early_renewal_hours."
            )
        return self


class CertificateAuthority(Component):
    """A self-signed CA (private key + certificate)."""

    cert_pem: pulumi.Output[str]
    """Public CA certificate (PEM): safe to export and to hand to clients (`grpcurl -cacert`)."""
    private_key_pem: pulumi.Output[str]
    """The CA key, a Pulumi secret."""
    validity_end_time: pulumi.Output[str]

    def __init__(
        self, name: str, args: CertificateAuthorityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("CertificateAuthority", name, opts)
        self.args = args
        key = _private_key(f"{name}-key", args.algorithm, self)
        cert = tls.SelfSignedCert(
            f"{name}-cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=args.common_name, organization=args.organization
            ),
            is_ca_certificate=True,
            max_path_length=args.max_path_length,
            allowed_uses=list(CA_USES),
            validity_period_hours=args.validity_hours,
            early_renewal_hours=args.early_renewal_hours,
            set_subject_key_id=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cert_pem = cert.cert_pem
        self.private_key_pem = pulumi.Output.secret(key.private_key_pem)
        self.validity_end_time = cert.validity_end_time
        self.register_outputs(
            {"cert_pem": self.cert_pem, "validity_end_time": self.validity_end_time}
        )


class CertificateArgs(ArgsModel):
    """A certificate issued by a CertificateAuthority: a server leaf by default, or an
    intermediate CA (`is_ca=True`)."""

    common_name: str
    """Subject CN."""
    dns_names: tuple[str, ...] = ()
    """Subject alternative names (required for a server leaf; clients check these, not the CN)."""
    organization: str = "grpc-kube"
    """Subject O (default `grpc-kube`)."""
    algorithm: KeyAlgorithm = "ECDSA-P256"
    """Key algorithm (default ECDSA-P256, what Linkerd requires and every gRPC stack accepts)."""
    validity_hours: int = Field(default=2160, ge=1)
    """Validity (default 2160 h = 90 days). Must not exceed the issuer's."""
    early_renewal_hours: int = Field(default=720, ge=0)
    """Re-issued on the first `pulumi up` within this many hours of expiry (default 720 h =
    30 days). Pulumi only renews when it runs: schedule `pulumi up` more often than this."""
    is_ca: bool = False
    """Issue an intermediate CA (cert-sign + crl-sign) instead of a server leaf."""
    max_path_length: int = Field(default=0, ge=0)
    """For `is_ca`: intermediates allowed below this one (default 0)."""

    @field_validator("dns_names")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return check_hostnames(v)

    @model_validator(mode="after")
    def _shape(self) -> CertificateArgs:
        if not self.is_ca and not self.dns_names:
            raise ValueError(
                "a server certificate needs dns_names: clients verify the SAN, not the CN. "
                "Fix: set dns_names, e.g. ('grpc.example.com',)."
            )
        if self.early_renewal_hours >= self.validity_hours:
            raise ValueError(
                f"early_renewal_hours ({self.early_renewal_hours}) must be below validity_hours "
                f"({self.validity_hours}). Fix: lower early_renewal_hours."
            )
        return self


class Certificate(Component):
    """A key and a certificate signed by `issuer`."""

    cert_pem: pulumi.Output[str]
    """The certificate (PEM, public)."""
    private_key_pem: pulumi.Output[str]
    """Its key, a Pulumi secret."""
    ca_cert_pem: pulumi.Output[str]
    """The issuer's certificate (PEM, public)."""
    validity_end_time: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: CertificateArgs,
        issuer: CertificateAuthority,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not isinstance(issuer, CertificateAuthority):
            raise TypeError(
                f"Certificate {name!r}: issuer must be a CertificateAuthority, got "
                f"{type(issuer).__name__}."
            )
        problem = issuer_validity_problem(issuer, args.validity_hours)
        if problem:
            raise InvalidArgumentError(f"Certificate {name!r}", [problem])
        super().__init__("Certificate", name, opts)
        self.args = args
        key = _private_key(f"{name}-key", args.algorithm, self)
        csr = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(
                common_name=args.common_name, organization=args.organization
            ),
            dns_names=list(args.dns_names) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        cert = tls.LocallySignedCert(
            f"{name}-cert",
            cert_request_pem=csr.cert_request_pem,
            ca_private_key_pem=issuer.private_key_pem,
            ca_cert_pem=issuer.cert_pem,
            is_ca_certificate=args.is_ca,
            max_path_length=args.max_path_length if args.is_ca else None,
            allowed_uses=list(_uses(args)),
            validity_period_hours=args.validity_hours,
            early_renewal_hours=args.early_renewal_hours,
            set_subject_key_id=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cert_pem = cert.cert_pem
        self.private_key_pem = pulumi.Output.secret(key.private_key_pem)
        self.ca_cert_pem = issuer.cert_pem
        self.validity_end_time = cert.validity_end_time
        self.register_outputs(
            {
                "cert_pem": self.cert_pem,
                "ca_cert_pem": self.ca_cert_pem,
                "validity_end_time": self.validity_end_time,
            }
        )


class TlsSecret(Component):
    """Stores a Certificate as a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`) in
    one namespace. Ingresses and Gateways may only reference Secrets in their own namespace, so
    create one per namespace that needs it."""

    secret_name: str
    namespace: str
    certificate: Certificate
    """The certificate stored (its `args.dns_names` say which hosts the Secret serves)."""
    ca_cert_pem: pulumi.Output[str]
    """The issuing CA's certificate (PEM, public): what clients of this Secret must trust."""

    def __init__(
        self,
        name: str,
        *,
        certificate: Certificate,
        namespace: str,
        secret_name: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not isinstance(certificate, Certificate):
            raise TypeError(
                f"TlsSecret {name!r}: certificate must be a Certificate, got "
                f"{type(certificate).__name__}."
            )
        problems = []
        try:
            check_dns_label(namespace, what="namespace", must_start_with_letter=False)
        except ValueError as exc:
            problems.append(f"namespace: got {namespace!r}; {exc}")
        try:
            check_dns_subdomain(secret_name, what="Secret name")
        except ValueError as exc:
            problems.append(f"secret_name: got {secret_name!r}; {exc}")
        if problems:
            raise InvalidArgumentError(f"TlsSecret {name!r}", problems)
        super().__init__("TlsSecret", name, opts)
        self.secret_name = secret_name
        self.namespace = namespace
        self.certificate = certificate
        self.ca_cert_pem = certificate.ca_cert_pem
        data: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            certificate.cert_pem, certificate.private_key_pem, certificate.ca_cert_pem
        ).apply(lambda v: {"tls.crt": v[0], "tls.key": v[1], "ca.crt": v[2]})
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={
                "name": secret_name,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "grpc-kube"},
            },
            type="kubernetes.io/tls",
            # The whole map is secret: the key must never reach the state in plain text.
            string_data=pulumi.Output.secret(data),  # type: ignore[arg-type]  # SDK TypeVar
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"secret_name": secret_name, "namespace": namespace})


def issuer_validity_problem(
    issuer: CertificateAuthority, validity_hours: int, *, field: str = "validity_hours"
) -> str | None:
    """The problem line (or None) for a certificate that would outlive its issuer. Components
    call this before registering anything, since Certificate itself raises only once called."""
    if validity_hours > issuer.args.validity_hours:
        return (
            f"{field}: got {validity_hours}; it is longer than the issuing CA's validity "
            f"({issuer.args.validity_hours} h), so the certificate would outlive the CA that "
            f"vouches for it. Fix: lower {field} to at most {issuer.args.validity_hours}."
        )
    return None


def issue_tls_secret(
    name: str,
    *,
    issuer: CertificateAuthority,
    dns_names: Sequence[str],
    namespace: str,
    secret_name: str,
    validity_hours: int = 2160,
    early_renewal_hours: int = 720,
    parent: pulumi.Resource | None = None,
) -> TlsSecret:
    """Issue a server certificate for `dns_names` from `issuer` and store it as the
    `kubernetes.io/tls` Secret `namespace/secret_name`.

    Registers Certificate `<name>-certificate` and TlsSecret `<name>` (children of `parent`).
    The first DNS name becomes the subject CN (clients verify the SANs, which list them all).
    """
    cert = Certificate(
        f"{name}-certificate",
        CertificateArgs(
            common_name=dns_names[0],
            dns_names=tuple(dns_names),
            validity_hours=validity_hours,
            early_renewal_hours=early_renewal_hours,
        ),
        issuer=issuer,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return TlsSecret(
        name,
        certificate=cert,
        namespace=namespace,
        secret_name=secret_name,
        opts=pulumi.ResourceOptions(parent=parent),
    )


class EdgeTlsArgs(ArgsModel):
    """TLS where clients connect (an Ingress's TLS block). By default a certificate for the host
    is issued by an internal CA; set `existing=True` to use your own Secret instead."""

    secret_name: str | None = None
    """Name of the `kubernetes.io/tls` Secret, in the Ingress's namespace (default
    `<ingress name>-tls`). A plain name only: an Ingress cannot read a Secret in another
    namespace."""
    existing: bool = False
    """True: `secret_name` is your own Secret (cert-manager, a purchased wildcard...) and nothing
    is generated; the CA output is then None, since clients already trust your CA. Default
    False: a certificate is generated, and its CA's PEM is output for `grpcurl -cacert`."""
    extra_dns_names: tuple[str, ...] = ()
    """More SANs for the generated certificate beyond the host (default none)."""
    validity_hours: int = Field(default=2160, ge=1)
    """Validity of the generated certificate (default 2160 h = 90 days)."""
    early_renewal_hours: int = Field(default=720, ge=0)
    """Re-issued on the first `pulumi up` within this many hours of expiry (default 720 h = 30
    days): schedule `pulumi up` more often than that."""

    @field_validator("secret_name")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "/" in v:
            ns, _, secret = v.partition("/")
            raise ValueError(
                f"this names Secret {secret!r} in namespace {ns!r}, but an Ingress only reads TLS "
                "Secrets in its own namespace (its backend Service's). Fix: create or copy the "
                f"Secret into that namespace and give only its name, e.g. {secret!r}."
            )
        return check_dns_subdomain(v, what="Secret name")

    @field_validator("extra_dns_names")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return check_hostnames(v)

    @model_validator(mode="after")
    def _shape(self) -> EdgeTlsArgs:
        if self.existing and self.secret_name is None:
            raise ValueError(
                "existing=True needs secret_name, the name of your Secret. Fix: set "
                "secret_name, or drop existing to have a certificate generated."
            )
        if self.existing and self.extra_dns_names:
            raise ValueError(
                "extra_dns_names only applies to a generated certificate, not to your own "
                "Secret. Fix: remove extra_dns_names, or set existing=False."
            )
        if self.early_renewal_hours >= self.validity_hours:
            raise ValueError(
                f"early_renewal_hours ({self.early_renewal_hours}) must be below validity_hours "
                f"({self.validity_hours}), or every `pulumi up` re-issues the certificate. "
                "Fix: lower early_renewal_hours."
            )
        return self


@dataclass(frozen=True)
class EdgeTls:
    """What an edge route needs to know about its TLS Secret."""

    secret_name: str
    namespace: str
    generated: bool
    """True when grpc-kube issued the certificate (clients then need `ca_cert_pem`)."""
    ca_cert_pem: pulumi.Output[str | None]
    """The CA that signed the served certificate, or None for a user's Secret given by name."""
    wait_for: tuple[pulumi.Resource, ...]
    """Resources the route should depend on so the Secret exists before it is referenced."""


def tls_secret_problems(
    tls_secret: object,
    *,
    hosts: Sequence[str],
    namespace: str,
    reader: str,
    name_instead: str,
    named_twice: bool,
    twice_fields: str,
) -> list[str]:
    """Checks for a TlsSecret object handed to whatever serves `hosts` from `namespace` (an
    Ingress or a Gateway listener): the type, not also named another way, the same namespace
    (neither reads Secrets elsewhere), and SANs covering every host."""
    if not isinstance(tls_secret, TlsSecret):
        return [
            f"tls_secret: got {type(tls_secret).__name__}; expected a TlsSecret. Fix: pass "
            f"the TlsSecret object, or {name_instead}."
        ]
    problems: list[str] = []
    if named_twice:
        problems.append(
            f"tls_secret: given together with {twice_fields}; the Secret would be named twice. "
            "Fix: pass only one of them."
        )
    if tls_secret.namespace != namespace:
        problems.append(
            f"tls_secret: got TlsSecret {tls_secret.secret_name!r} in namespace "
            f"{tls_secret.namespace!r}, but {reader} lives in {namespace!r} and can only read "
            f"Secrets there. Fix: create the TlsSecret with namespace={namespace!r}."
        )
    sans = tls_secret.certificate.args.dns_names
    uncovered = [h for h in hosts if not hostname_covered(h, sans)]
    if uncovered:
        problems.append(
            f"tls_secret: its certificate covers {list(sans)}, not {uncovered}; clients "
            f"would reject it. Fix: issue it with dns_names including {uncovered[0]!r}."
        )
    return problems


def edge_tls_problems(
    tls_args: EdgeTlsArgs,
    *,
    hosts: Sequence[str],
    namespace: str,
    tls_secret: TlsSecret | None = None,
    issuer: CertificateAuthority | None = None,
) -> list[str]:
    """Cross-object checks for edge TLS, as `field: problem. Fix: ...` lines (empty when fine).
    Call before registering anything."""
    problems: list[str] = []
    if tls_secret is not None:
        problems += tls_secret_problems(
            tls_secret,
            hosts=hosts,
            namespace=namespace,
            reader="the route",
            name_instead="its name as tls.secret_name with tls.existing=True",
            named_twice=tls_args.existing or tls_args.secret_name is not None,
            twice_fields="tls.secret_name/tls.existing",
        )
    elif not tls_args.existing and issuer is not None:
        if not isinstance(issuer, CertificateAuthority):
            problems.append(
                f"ca: got {type(issuer).__name__}; expected a CertificateAuthority. Fix: pass "
                "a CertificateAuthority, or leave it out to have one generated."
            )
        else:
            problem = issuer_validity_problem(
                issuer, tls_args.validity_hours, field="tls.validity_hours"
            )
            if problem:
                problems.append(problem)
    return problems


def provision_edge_tls(
    name: str,
    tls_args: EdgeTlsArgs,
    *,
    hosts: Sequence[str],
    namespace: str,
    default_secret_name: str,
    tls_secret: TlsSecret | None = None,
    issuer: CertificateAuthority | None = None,
    parent: pulumi.Resource | None = None,
) -> EdgeTls:
    """Resolve the edge TLS Secret: the given TlsSecret, the user's Secret by name
    (`existing`), or a certificate for `hosts` issued by `issuer` and stored as
    `namespace/(secret_name or default_secret_name)` (registered as TlsSecret `name`).

    `issuer` is required only in the last case. Validate first with `edge_tls_problems`.
    """
    if tls_secret is not None:
        return EdgeTls(
            secret_name=tls_secret.secret_name,
            namespace=tls_secret.namespace,
            generated=False,
            ca_cert_pem=tls_secret.ca_cert_pem,
            wait_for=(tls_secret,),
        )
    secret_name = tls_args.secret_name or default_secret_name
    if tls_args.existing:
        return EdgeTls(
            secret_name=secret_name,
            namespace=namespace,
            generated=False,
            ca_cert_pem=pulumi.Output.from_input(None),
            wait_for=(),
        )
    if issuer is None:
        raise ValueError("provision_edge_tls: an issuer is needed to generate a certificate")
    dns_names = tuple(dict.fromkeys((*hosts, *tls_args.extra_dns_names)))
    secret = issue_tls_secret(
        name,
        issuer=issuer,
        dns_names=dns_names,
        namespace=namespace,
        secret_name=secret_name,
        validity_hours=tls_args.validity_hours,
        early_renewal_hours=tls_args.early_renewal_hours,
        parent=parent,
    )
    return EdgeTls(
        secret_name=secret_name,
        namespace=namespace,
        generated=True,
        ca_cert_pem=secret.ca_cert_pem,
        wait_for=(secret,),
    )
