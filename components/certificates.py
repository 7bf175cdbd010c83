"""Certificates from pulumi-tls: a self-signed CA, certificates it issues (server leaves, or
intermediate CAs such as Linkerd's identity issuer), and a helper that stores a certificate as a
`kubernetes.io/tls` Secret.

Keys are ECDSA P-256 by default (pulumi-tls defaults to P-224, which Linkerd and most TLS stacks
reject). Private keys only ever travel as Pulumi secrets: the key PEM output is wrapped with
`Output.secret` here, so even a provider that forgot to mark it cannot leak it to the state in
plain text or to `pulumi stack output`.

Names, namespaces, host names, subject fields and validity hours accept `pulumi.Input`s: a plain
value is checked before anything registers, an Output when it resolves (the deployment then fails
naming the property, before the resource that would carry it is sent). The key algorithm and
`is_ca` stay plain: they decide the shape of the key and the certificate's usages.

Edge TLS (`EdgeTlsArgs`, `edge_tls_problems`, `provision_edge_tls`) and `issue_tls_secret` are the
certificate handling GrpcIngress uses, kept here so every entry point (Ingress, Gateway listener)
generates, names and checks certificates the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls
from pydantic import AfterValidator

from ._inputs import DeferredChecks, contains_output, fmt, gate, is_output, lift, to_output
from ._namespaces import MANAGED_BY
from ._ordering import Component
from ._validation import (
    ArgsModel,
    FieldError,
    InvalidArgumentError,
    check_dns_label,
    check_dns_subdomain,
    check_range,
    field_validator,
    model_validator,
    validate_model,
)

__all__ = [
    "Certificate",
    "CertificateArgs",
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "EdgeTls",
    "EdgeTlsArgs",
    "Hostname",
    "KeyAlgorithm",
    "TlsSecret",
    "TlsSecretArgs",
    "check_hostname",
    "check_hostnames",
    "checked_tls_secret_name",
    "edge_tls_problems",
    "hostname_covered",
    "issue_tls_secret",
    "issuer_validity_problem",
    "kubernetes_service_dns_names",
    "provision_edge_tls",
    "renewal_window_problem",
    "suggest_hostname",
]

KeyAlgorithm = Literal["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-4096"]

CA_USES = ("cert_signing", "crl_signing")
SERVER_USES = ("digital_signature", "key_encipherment", "server_auth")
# RFC 5480 section 3: an ECDSA key signs, it never encrypts a session key, so keyEncipherment
# does not belong on an ECDSA certificate (strict verifiers reject it).
SERVER_USES_EC = ("digital_signature", "server_auth")

_NOT_LABEL_CHARS = re.compile(r"[^a-z0-9-]+")


def renewal_window_problem(
    early: int,
    validity: int,
    *,
    early_field: str = "early_renewal_hours",
    validity_field: str = "validity_hours",
) -> str | None:
    """The rule every certificate setting follows: early renewal must be shorter than the
    validity. pulumi-tls marks a certificate for renewal once fewer than `early` hours are left,
    so with `early >= validity` it is due as soon as it is issued and every `pulumi up` re-creates
    it (and, for a CA, re-issues everything it signed). Returns the problem (to follow
    `<early_field>: got <early>; `) or None."""
    if early >= validity:
        return (
            f"it must be below {validity_field} ({validity}), or the certificate is due for "
            "renewal as soon as it is issued and every `pulumi up` re-creates it. Fix: lower "
            f"{early_field}."
        )
    return None


def suggest_hostname(value: str, *, wildcard_ok: bool = True) -> str:
    """A valid host name close to `value`, for error messages: lowercased, characters other
    than letters, digits and '-' replaced by '-', empty labels dropped, '-' stripped from the
    ends of each label, labels cut to 63 characters (and the name to 253). It always passes
    `check_hostname` with the same `wildcard_ok`."""
    wildcard = wildcard_ok and value.startswith("*.")
    host = value[2:] if wildcard else value
    labels: list[str] = []
    for part in host.lower().split("."):
        label = _NOT_LABEL_CHARS.sub("-", part).strip("-")[:63].rstrip("-")
        if label:
            labels.append(label)
    prefix = "*." if wildcard else ""
    while labels and len(prefix) + len(".".join(labels)) > 253:
        labels.pop(0)  # keep the most significant labels (the domain)
    return prefix + (".".join(labels) or "grpc.example.com")


def check_hostname(value: str, *, wildcard_ok: bool = True) -> str:
    """A DNS hostname, optionally (`wildcard_ok`) with one leading `*.` label."""
    host = value[2:] if wildcard_ok and value.startswith("*.") else value
    if "*" in host:
        what = (
            "only a single leading '*.' wildcard label is allowed in a hostname"
            if wildcard_ok
            else "a wildcard is not allowed here: this hostname names exactly one host"
        )
        raise ValueError(
            f"{what}. Fix: use e.g. {suggest_hostname(value, wildcard_ok=wildcard_ok)!r}."
        )
    try:
        check_dns_subdomain(host, what="hostname")
    except ValueError:
        raise ValueError(
            "a hostname must be lowercase letters, digits, '-' and '.', each label starting and "
            "ending with a letter or digit. Fix: use e.g. "
            f"{suggest_hostname(value, wildcard_ok=wildcard_ok)!r}."
        ) from None
    return value


def _hostname(value: str) -> str:
    return check_hostname(value)


Hostname = Annotated[str, AfterValidator(_hostname)]
"""A host name (one leading `*.` allowed) checked on its own, so a list of them reports every bad
entry with its index (`dns_names[2]: ...`)."""


def check_hostnames(hosts: Sequence[str]) -> Sequence[str]:
    """check_hostname for each of `hosts`; the message names every bad entry."""
    bad: list[str] = []
    for host in hosts:
        try:
            check_hostname(host)
        except ValueError as exc:
            bad.append(f"{host!r}: {exc}" if len(hosts) > 1 else str(exc))
    if bad:
        raise ValueError(" ".join(bad))
    return hosts


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
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    cluster_domain: pulumi.Input[str] = "cluster.local",
) -> tuple[Any, ...]:
    """Every name a client inside the cluster may dial a Service by, most specific last
    (`name`, `name.ns`, `name.ns.svc`, `name.ns.svc.<cluster_domain>`). Plain strings when the
    arguments are plain, Outputs otherwise."""
    return (
        name,
        fmt("{}.{}", name, namespace),
        fmt("{}.{}.svc", name, namespace),
        fmt("{}.{}.svc.{}", name, namespace, cluster_domain),
    )


def _uses(args: CertificateArgs) -> tuple[str, ...]:
    if args.is_ca:
        return CA_USES
    return SERVER_USES_EC if args.algorithm.startswith("ECDSA") else SERVER_USES


def _private_key(name: str, algorithm: KeyAlgorithm, parent: pulumi.Resource) -> tls.PrivateKey:
    family, size = algorithm.split("-")
    if family == "ECDSA":
        return tls.PrivateKey(
            name, algorithm="ECDSA", ecdsa_curve=size, opts=pulumi.ResourceOptions(parent=parent)
        )
    return tls.PrivateKey(
        name, algorithm="RSA", rsa_bits=int(size), opts=pulumi.ResourceOptions(parent=parent)
    )


def _renewal(model: Any, early_field: str, validity_field: str) -> None:
    early, validity = getattr(model, early_field), getattr(model, validity_field)
    problem = renewal_window_problem(
        early, validity, early_field=early_field, validity_field=validity_field
    )
    if problem:
        raise FieldError(early_field, early, problem)


class CertificateAuthorityArgs(ArgsModel):
    """A self-signed certificate authority."""

    common_name: pulumi.Input[str]
    """Subject CN, e.g. `root.linkerd.cluster.local` or `grpc-kube dev CA`."""
    organization: pulumi.Input[str] = "grpc-kube"
    """Subject O (default `grpc-kube`)."""
    algorithm: KeyAlgorithm = "ECDSA-P256"
    """Key algorithm (default ECDSA-P256). Plain: it decides which key parameters are sent."""
    validity_hours: pulumi.Input[int] = 87600
    """Validity (default 87600 h = 10 years: a CA outlives what it issues)."""
    early_renewal_hours: pulumi.Input[int] = 8760
    """Pulumi re-creates the CA this many hours before expiry on the next `pulumi up`
    (default 8760 h = 1 year). Re-creating a CA re-issues everything it signed."""
    max_path_length: pulumi.Input[int] = 1
    """How many intermediate CAs may follow (default 1: one issuer level, as Linkerd needs)."""

    @field_validator("validity_hours")
    @classmethod
    def _validity(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("early_renewal_hours", "max_path_length")
    @classmethod
    def _not_negative(cls, v: int) -> int:
        return check_range(v, low=0)

    @model_validator(mode="after")
    def _window(self) -> CertificateAuthorityArgs:
        _renewal(self, "early_renewal_hours", "validity_hours")
        return self


class CertificateAuthority(Component):
    """A self-signed CA (private key + certificate)."""

    args: CertificateAuthorityArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    cert_pem: pulumi.Output[str]
    """Public CA certificate (PEM): safe to export and to hand to clients (`grpcurl -cacert`)."""
    private_key_pem: pulumi.Output[str]
    """The CA key, a Pulumi secret."""
    validity_end_time: pulumi.Output[str]
    """When the CA certificate expires (RFC 3339)."""

    def __init__(
        self,
        name: str,
        args: CertificateAuthorityArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"CertificateAuthority {name!r}"
        args = validate_model(CertificateAuthorityArgs, args, where=where)
        super().__init__("CertificateAuthority", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
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

    common_name: pulumi.Input[str]
    """Subject CN."""
    dns_names: pulumi.Input[list[pulumi.Input[Hostname]]] = []
    """Subject alternative names (required for a server leaf; clients check these, not the CN)."""
    organization: pulumi.Input[str] = "grpc-kube"
    """Subject O (default `grpc-kube`)."""
    algorithm: KeyAlgorithm = "ECDSA-P256"
    """Key algorithm (default ECDSA-P256, what Linkerd requires and every gRPC stack accepts).
    Plain: it decides the key parameters and the certificate's usages."""
    validity_hours: pulumi.Input[int] = 2160
    """Validity (default 2160 h = 90 days). Must not exceed the issuer's."""
    early_renewal_hours: pulumi.Input[int] = 720
    """Re-issued on the first `pulumi up` within this many hours of expiry (default 720 h =
    30 days). Pulumi only renews when it runs: schedule `pulumi up` more often than this."""
    is_ca: bool = False
    """Issue an intermediate CA (cert-sign + crl-sign) instead of a server leaf. Plain: it
    decides the certificate's usages."""
    max_path_length: pulumi.Input[int] = 0
    """For `is_ca`: intermediates allowed below this one (default 0)."""

    @field_validator("validity_hours")
    @classmethod
    def _validity(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("early_renewal_hours", "max_path_length")
    @classmethod
    def _not_negative(cls, v: int) -> int:
        return check_range(v, low=0)

    @model_validator(mode="after")
    def _shape(self) -> CertificateArgs:
        if not self.is_ca and not self.dns_names:
            raise FieldError(
                "dns_names",
                self.dns_names,
                "a server certificate needs dns_names: clients verify the SAN, not the CN. "
                "Fix: set dns_names, e.g. ['grpc.example.com'].",
            )
        _renewal(self, "early_renewal_hours", "validity_hours")
        return self


def _outlives_problem(issuer_hours: int, hours: int, field: str) -> str | None:
    if hours > issuer_hours:
        return (
            f"{field}: got {hours}; it is longer than the issuing CA's validity "
            f"({issuer_hours} h), so the certificate would outlive the CA that vouches for it. "
            f"Fix: lower {field} to at most {issuer_hours}."
        )
    return None


def issuer_validity_problem(
    issuer: CertificateAuthority, validity_hours: Any, *, field: str = "validity_hours"
) -> str | None:
    """The problem line (or None) for a certificate that would outlive its issuer. Components
    call this before registering anything, since Certificate itself raises only once called.
    When either validity is an Output this returns None: the Certificate issued checks the pair
    when they resolve."""
    issuer_hours: Any = issuer.args.validity_hours
    if is_output(issuer_hours) or is_output(validity_hours):
        return None
    return _outlives_problem(issuer_hours, validity_hours, field)


class Certificate(Component):
    """A key and a certificate signed by `issuer`."""

    args: CertificateArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    cert_pem: pulumi.Output[str]
    """The certificate (PEM, public)."""
    private_key_pem: pulumi.Output[str]
    """Its key, a Pulumi secret."""
    ca_cert_pem: pulumi.Output[str]
    """The issuer's certificate (PEM, public)."""
    dns_names: pulumi.Output[list[str]]
    """The subject alternative names."""
    validity_end_time: pulumi.Output[str]
    """When the certificate expires (RFC 3339)."""

    def __init__(
        self,
        name: str,
        args: CertificateArgs | Mapping[str, Any],
        issuer: CertificateAuthority,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"Certificate {name!r}"
        if not isinstance(issuer, CertificateAuthority):
            raise TypeError(
                f"Certificate {name!r}: issuer must be a CertificateAuthority, got "
                f"{type(issuer).__name__}."
            )
        args = validate_model(CertificateArgs, args, where=where)
        problem = issuer_validity_problem(issuer, args.validity_hours)
        if problem:
            raise InvalidArgumentError(where, [problem])
        super().__init__("Certificate", name, opts)
        args = gate(args, where=where)
        self.args = args
        validity = _within_issuer(issuer.args.validity_hours, args.validity_hours, where)
        key = _private_key(f"{name}-key", args.algorithm, self)
        csr = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(
                common_name=args.common_name, organization=args.organization
            ),
            dns_names=lift(lambda names: list(names) or None, args.dns_names),
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
            validity_period_hours=validity,
            early_renewal_hours=args.early_renewal_hours,
            set_subject_key_id=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cert_pem = cert.cert_pem
        self.private_key_pem = pulumi.Output.secret(key.private_key_pem)
        self.ca_cert_pem = issuer.cert_pem
        self.dns_names = to_output(args.dns_names).apply(lambda names: list(names))
        self.validity_end_time = cert.validity_end_time
        self.register_outputs(
            {
                "cert_pem": self.cert_pem,
                "ca_cert_pem": self.ca_cert_pem,
                "validity_end_time": self.validity_end_time,
            }
        )


def _within_issuer(issuer_hours: Any, hours: Any, where: str) -> Any:
    """`hours`, checked against the issuer's validity when either arrived as an Output (plain
    pairs were checked before anything registered)."""
    if not (is_output(issuer_hours) or is_output(hours)):
        return hours

    def check(issuer_value: int, value: int) -> int:
        problem = _outlives_problem(issuer_value, value, "validity_hours")
        if problem:
            raise InvalidArgumentError(where, [problem], resolved=True)
        return value

    return lift(check, issuer_hours, hours)


class TlsSecretArgs(ArgsModel):
    """Where a TlsSecret is stored (the `namespace=` and `secret_name=` of TlsSecret)."""

    namespace: pulumi.Input[str]
    """Namespace of the Secret: the one of the Ingress or Gateway that serves it."""
    secret_name: pulumi.Input[str]
    """Name of the `kubernetes.io/tls` Secret."""

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("secret_name")
    @classmethod
    def _secret(cls, v: str) -> str:
        return check_dns_subdomain(v, what="Secret name")


class TlsSecret(Component):
    """Stores a Certificate as a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`) in
    one namespace. Ingresses and Gateways may only reference Secrets in their own namespace, so
    create one per namespace that needs it."""

    args: TlsSecretArgs
    """Namespace and Secret name as given (plain, or Outputs passed on once checked): what
    other components compare before they register anything."""
    secret_name: pulumi.Output[str]
    """The Secret's name; resolves once the Secret exists, so what uses it waits for it."""
    namespace: pulumi.Output[str]
    """The Secret's namespace."""
    certificate: Certificate
    """The certificate stored (its `args.dns_names` say which hosts the Secret serves)."""
    ca_cert_pem: pulumi.Output[str]
    """The issuing CA's certificate (PEM, public): what clients of this Secret must trust."""

    def __init__(
        self,
        name: str,
        *,
        certificate: Certificate,
        namespace: pulumi.Input[str],
        secret_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"TlsSecret {name!r}"
        if not isinstance(certificate, Certificate):
            raise TypeError(
                f"TlsSecret {name!r}: certificate must be a Certificate, got "
                f"{type(certificate).__name__}."
            )
        args = validate_model(
            TlsSecretArgs, {"namespace": namespace, "secret_name": secret_name}, where=where
        )
        super().__init__("TlsSecret", name, opts)
        args = gate(args, where=where)
        self.args = args
        self.certificate = certificate
        self.ca_cert_pem = certificate.ca_cert_pem
        data: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            certificate.cert_pem, certificate.private_key_pem, certificate.ca_cert_pem
        ).apply(lambda v: {"tls.crt": v[0], "tls.key": v[1], "ca.crt": v[2]})
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={
                "name": args.secret_name,
                "namespace": args.namespace,
                "labels": dict(MANAGED_BY),
            },
            type="kubernetes.io/tls",
            # The whole map is secret: the key must never reach the state in plain text.
            string_data=pulumi.Output.secret(data),  # type: ignore[arg-type]  # SDK TypeVar
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Tied to the Secret, so an Ingress given this name is created after the Secret.
        self.secret_name = pulumi.Output.all(self.secret.id, args.secret_name).apply(lambda v: v[1])
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({"secret_name": self.secret_name, "namespace": self.namespace})


def issue_tls_secret(
    name: str,
    *,
    issuer: CertificateAuthority,
    dns_names: pulumi.Input[Sequence[pulumi.Input[str]]],
    namespace: pulumi.Input[str],
    secret_name: pulumi.Input[str],
    validity_hours: pulumi.Input[int] = 2160,
    early_renewal_hours: pulumi.Input[int] = 720,
    parent: pulumi.Resource | None = None,
) -> TlsSecret:
    """Issue a server certificate for `dns_names` from `issuer` and store it as the
    `kubernetes.io/tls` Secret `namespace/secret_name`.

    Registers Certificate `<name>-certificate` and TlsSecret `<name>` (children of `parent`).
    The first DNS name becomes the subject CN (clients verify the SANs, which list them all).
    """
    names: Any = dns_names if is_output(dns_names) else list(cast(Sequence[Any], dns_names))
    cert = Certificate(
        f"{name}-certificate",
        CertificateArgs(
            common_name=lift(lambda ns: ns[0] if ns else "", names),
            dns_names=names,
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

    secret_name: pulumi.Input[str] | None = None
    """Name of the `kubernetes.io/tls` Secret, in the Ingress's namespace (default
    `<ingress name>-tls`). A plain name only: an Ingress cannot read a Secret in another
    namespace."""
    existing: bool = False
    """True: `secret_name` is your own Secret (cert-manager, a purchased wildcard...) and nothing
    is generated; the CA output is then None, since clients already trust your CA. Default
    False: a certificate is generated, and its CA's PEM is output for `grpcurl -cacert`. Plain:
    it decides whether a certificate is created."""
    extra_dns_names: pulumi.Input[list[pulumi.Input[Hostname]]] = []
    """More SANs for the generated certificate beyond the host (default none)."""
    validity_hours: pulumi.Input[int] = 2160
    """Validity of the generated certificate (default 2160 h = 90 days)."""
    early_renewal_hours: pulumi.Input[int] = 720
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

    @field_validator("validity_hours")
    @classmethod
    def _validity(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("early_renewal_hours")
    @classmethod
    def _early(cls, v: int) -> int:
        return check_range(v, low=0)

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
        _renewal(self, "early_renewal_hours", "validity_hours")
        return self


@dataclass(frozen=True)
class EdgeTls:
    """What an edge route needs to know about its TLS Secret (values plain when the inputs
    were, Outputs otherwise)."""

    secret_name: pulumi.Input[str]
    """Name of the Secret the route references."""
    namespace: pulumi.Input[str]
    """Namespace of that Secret (the route's own)."""
    generated: bool
    """True when grpc-kube issued the certificate (clients then need `ca_cert_pem`)."""
    ca_cert_pem: pulumi.Output[str | None]
    """The CA that signed the served certificate, or None for a user's Secret given by name."""
    wait_for: tuple[pulumi.Resource, ...]
    """Resources the route should depend on so the Secret exists before it is referenced."""


def _listed(hosts: Any) -> Any:
    """Hosts as a list, or the Output of one."""
    return hosts if is_output(hosts) else list(hosts)


def _shown(value: Any) -> str:
    return "(an Output)" if contains_output(value) else repr(value)


def _secret_problems(
    *,
    secret_name: Any,
    secret_namespace: Any,
    sans: Any,
    hosts: Any,
    namespace: Any,
    reader: str,
) -> list[str]:
    """Same namespace, and SANs covering every host; each check is skipped while a value it
    needs is still an Output."""
    problems: list[str] = []
    if not (is_output(secret_namespace) or is_output(namespace)) and secret_namespace != namespace:
        problems.append(
            f"tls_secret: got TlsSecret {_shown(secret_name)} in namespace "
            f"{secret_namespace!r}, but {reader} lives in {namespace!r} and can only read "
            f"Secrets there. Fix: create the TlsSecret with namespace={namespace!r}."
        )
    if not (contains_output(sans) or contains_output(hosts)):
        uncovered = [h for h in hosts if not hostname_covered(h, sans)]
        if uncovered:
            problems.append(
                f"tls_secret: its certificate covers {list(sans)}, not {uncovered}; clients "
                f"would reject it. Fix: issue it with dns_names including {uncovered[0]!r}."
            )
    return problems


def tls_secret_problems(
    tls_secret: object,
    *,
    hosts: pulumi.Input[Sequence[pulumi.Input[str]]],
    namespace: pulumi.Input[str],
    reader: str,
    name_instead: str,
    named_twice: bool,
    twice_fields: str,
) -> list[str]:
    """Checks for a TlsSecret object handed to whatever serves `hosts` from `namespace` (an
    Ingress or a Gateway listener): the type, not also named another way, the same namespace
    (neither reads Secrets elsewhere), and SANs covering every host. Checks that need a value
    still an Output are left to `checked_tls_secret_name`."""
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
    problems += _secret_problems(
        secret_name=tls_secret.args.secret_name,
        secret_namespace=tls_secret.args.namespace,
        sans=tls_secret.certificate.args.dns_names,
        hosts=_listed(hosts),
        namespace=namespace,
        reader=reader,
    )
    return problems


def checked_tls_secret_name(
    tls_secret: TlsSecret,
    *,
    hosts: pulumi.Input[Sequence[pulumi.Input[str]]],
    namespace: pulumi.Input[str],
    reader: str,
    where: str,
) -> pulumi.Input[str]:
    """The TlsSecret's name for a route to reference. Plain values were checked before anything
    registered (`tls_secret_problems`); when some were Outputs, the name resolves only once the
    same checks pass with the resolved values, so a mismatch fails the deployment before the
    route is sent."""
    a = tls_secret.args
    sans = tls_secret.certificate.args.dns_names
    hosts = _listed(hosts)
    checks = DeferredChecks(where)
    if contains_output([a.secret_name, a.namespace, sans, hosts, namespace]):
        checks.check(
            lambda name, secret_ns, names, hs, ns: _secret_problems(
                secret_name=name,
                secret_namespace=secret_ns,
                sans=names,
                hosts=hs,
                namespace=ns,
                reader=reader,
            ),
            a.secret_name,
            a.namespace,
            sans,
            hosts,
            namespace,
        )
    return checks.guard(a.secret_name)  # type: ignore[no-any-return]


def edge_tls_problems(
    tls_args: EdgeTlsArgs,
    *,
    hosts: pulumi.Input[Sequence[pulumi.Input[str]]],
    namespace: pulumi.Input[str],
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
    hosts: pulumi.Input[Sequence[pulumi.Input[str]]],
    namespace: pulumi.Input[str],
    default_secret_name: pulumi.Input[str],
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
            secret_name=checked_tls_secret_name(
                tls_secret,
                hosts=hosts,
                namespace=namespace,
                reader="the route",
                where=f"edge TLS {name!r}",
            ),
            namespace=tls_secret.args.namespace,
            generated=False,
            ca_cert_pem=tls_secret.ca_cert_pem,
            wait_for=(tls_secret,),
        )
    secret_name = tls_args.secret_name if tls_args.secret_name is not None else default_secret_name
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
    dns_names = lift(
        lambda hs, extra: list(dict.fromkeys((*hs, *extra))),
        _listed(hosts),
        tls_args.extra_dns_names,
    )
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
