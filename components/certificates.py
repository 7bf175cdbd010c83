"""Certificates from pulumi-tls: a self-signed CA, certificates it issues (server leaves, or
intermediate CAs such as Linkerd's identity issuer), and a helper that stores a certificate as a
`kubernetes.io/tls` Secret.

Keys are ECDSA P-256 by default (pulumi-tls defaults to P-224, which Linkerd and most TLS stacks
reject). Private keys only ever travel as Pulumi secrets: the key PEM output is wrapped with
`Output.secret` here, so even a provider that forgot to mark it cannot leak it to the state in
plain text or to `pulumi stack output`.
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls
from pydantic import Field, field_validator, model_validator

from ._validation import ArgsModel, InvalidArgumentError, check_dns_label, check_dns_subdomain

__all__ = [
    "Certificate",
    "CertificateArgs",
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "KeyAlgorithm",
    "TlsSecret",
    "check_hostname",
]

KeyAlgorithm = Literal["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-4096"]

CA_USES = ("cert_signing", "crl_signing")
SERVER_USES = ("digital_signature", "key_encipherment", "server_auth")

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


class CertificateAuthority(pulumi.ComponentResource):
    """A self-signed CA (private key + certificate)."""

    cert_pem: pulumi.Output[str]
    """Public CA certificate (PEM): safe to export and to hand to clients (`grpcurl -cacert`)."""
    private_key_pem: pulumi.Output[str]
    """The CA key, a Pulumi secret."""
    validity_end_time: pulumi.Output[str]

    def __init__(
        self, name: str, args: CertificateAuthorityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("grpc-kube:index:CertificateAuthority", name, None, opts)
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
    algorithm: KeyAlgorithm = "ECDSA-P256"
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
        for host in v:
            check_hostname(host)
        return v

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


class Certificate(pulumi.ComponentResource):
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
        if args.validity_hours > issuer.args.validity_hours:
            raise InvalidArgumentError(
                f"Certificate {name!r}",
                [
                    f"validity_hours: got {args.validity_hours}; it is longer than its issuer's "
                    f"({issuer.args.validity_hours} h), so it would outlive the CA that vouches "
                    f"for it. Fix: lower validity_hours below {issuer.args.validity_hours}."
                ],
            )
        super().__init__("grpc-kube:index:Certificate", name, None, opts)
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
            allowed_uses=list(CA_USES if args.is_ca else SERVER_USES),
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


class TlsSecret(pulumi.ComponentResource):
    """Stores a Certificate as a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`) in
    one namespace. Ingresses and Gateways may only reference Secrets in their own namespace, so
    create one per namespace that needs it."""

    secret_name: str
    namespace: str

    def __init__(
        self,
        name: str,
        *,
        certificate: Certificate,
        namespace: str,
        secret_name: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
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
        super().__init__("grpc-kube:index:TlsSecret", name, None, opts)
        self.secret_name = secret_name
        self.namespace = namespace
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
