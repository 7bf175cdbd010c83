"""A stand-in `pulumi-resource-tls` for the end-to-end run (see README.md next to this file).

It serves Pulumi's resource provider gRPC protocol (`pulumirpc.ResourceProvider`) for the four
resources grpc-kube creates: `PrivateKey`, `SelfSignedCert`, `CertRequest` and
`LocallySignedCert`, with the tokens, property names, defaults, secrets and replace rules of
pulumi-tls 5.6.2 (a bridge of hashicorp/terraform-provider-tls), and generates keys and
certificates the way that provider's Go code does. Nothing here talks to the network: these
resources live only in the Pulumi state.

Started by the engine as `pulumi-resource-tls [flags] <engine address>`; it listens on
127.0.0.1 and prints the port as its first stdout line. `TLS_STANDIN_LOG=<file>` appends one
line per call (method, type, URN), which shows what the engine asked for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any, NoReturn

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

try:  # Go's encoding/asn1 picks PrintableString when it can; match it where cryptography lets us.
    from cryptography.x509.name import _ASN1Type

    _PRINTABLE: Any = _ASN1Type.PrintableString
except ImportError:  # pragma: no cover - older/newer cryptography: default string types
    _PRINTABLE = None

VERSION = "5.6.2"

# Pulumi's wire sentinels (sdk/go/common/resource/plugin/rpc.go).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED_CERT = "tls:index/selfSignedCert:SelfSignedCert"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
LOCALLY_SIGNED_CERT = "tls:index/locallySignedCert:LocallySignedCert"


class ProviderError(Exception):
    """A failure reported to the engine as the call's error."""


# --- property values ------------------------------------------------------------------------


class Secret:
    """A value the engine sent (or we return) wrapped as a Pulumi secret."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __repr__(self) -> str:
        return "Secret(...)"


def decode(v: struct_pb2.Value) -> Any:
    kind = v.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "number_value":
        return v.number_value
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "list_value":
        return [decode(x) for x in v.list_value.values]
    fields = v.struct_value.fields
    if SIG_KEY in fields and fields[SIG_KEY].string_value == SECRET_SIG:
        return Secret(decode(fields["value"]) if "value" in fields else None)
    # Any other signed value (asset, archive, resource reference) is kept as a plain mapping, so
    # it is echoed back unchanged; no tls input takes one.
    return {k: decode(x) for k, x in fields.items()}


def decode_struct(s: struct_pb2.Struct) -> dict[str, Any]:
    return {k: decode(v) for k, v in s.fields.items()}


def encode(py: Any, into: struct_pb2.Value) -> None:
    if isinstance(py, Secret):
        st = into.struct_value
        st.fields[SIG_KEY].string_value = SECRET_SIG
        encode(py.value, st.fields["value"])
    elif py is None:
        into.null_value = struct_pb2.NULL_VALUE
    elif isinstance(py, bool):
        into.bool_value = py
    elif isinstance(py, int | float):
        into.number_value = float(py)
    elif isinstance(py, str):
        into.string_value = py
    elif isinstance(py, list | tuple):
        lv = into.list_value
        lv.SetInParent()
        for item in py:
            encode(item, lv.values.add())
    elif isinstance(py, dict):
        st = into.struct_value
        st.SetInParent()
        for k, item in py.items():
            encode(item, st.fields[k])
    else:  # pragma: no cover - programming error
        raise TypeError(f"cannot encode {type(py).__name__}")


def encode_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    for k, v in props.items():
        encode(v, s.fields[k])
    return s


def plain(v: Any) -> Any:
    """The value with secret wrappers removed (deeply) and null mapping entries dropped."""
    if isinstance(v, Secret):
        return plain(v.value)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if x is not None}
    return v


def has_unknown(v: Any) -> bool:
    v = plain(v)
    if v == UNKNOWN:
        return True
    if isinstance(v, list):
        return any(has_unknown(x) for x in v)
    if isinstance(v, dict):
        return any(has_unknown(x) for x in v.values())
    return False


def secret(v: Any) -> Any:
    return v if isinstance(v, Secret) else Secret(v)


def as_int(v: Any) -> int | None:
    v = plain(v)
    if v is None or v == UNKNOWN:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or float(v) != int(v):
        raise ProviderError(f"expected a whole number, got {v!r}")
    return int(v)


def as_bool(v: Any) -> bool:
    return bool(plain(v))


def as_strings(v: Any) -> list[str]:
    v = plain(v)
    return [str(x) for x in v] if isinstance(v, list) else []


# --- keys ----------------------------------------------------------------------------------

CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P224": ec.SECP224R1,
    "P256": ec.SECP256R1,
    "P384": ec.SECP384R1,
    "P521": ec.SECP521R1,
}
ALGORITHMS = ("RSA", "ECDSA", "ED25519")
PRIVATE_PREAMBLES = ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY")
PEM_RE = re.compile(r"^-----BEGIN [A-Za-z ]+-----\n(.|\s)+\n-----END [A-Za-z ]+-----\n?$")

PrivKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PubKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def key_algorithm(key: PrivKey | PubKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    return "ED25519"


def pem_type(text: str) -> str:
    m = re.search(r"-----BEGIN ([A-Z0-9 ]+)-----", text)
    if not m:
        raise ProviderError("failed to decode PEM block")
    return m.group(1)


def parse_private_key(text: str) -> PrivKey:
    """As the provider's parsePrivateKeyPEM: PKCS#1 RSA, SEC1 EC or PKCS#8 PEM."""
    preamble = pem_type(text)
    if preamble not in PRIVATE_PREAMBLES:
        raise ProviderError(f"unable to determine parser for PEM preamble: {preamble}")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ProviderError(
            f"failed to parse private key given PEM preamble '{preamble}': {exc}"
        ) from None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise ProviderError(f"unsupported private key type: {type(key).__name__}")
    return key


def hash_for_state(data: bytes) -> str:
    """The provider's hashForState: SHA-1 hex of the value with surrounding whitespace removed."""
    return hashlib.sha1(data.strip()).hexdigest() if data else ""


def generate_key(algorithm: str, curve: str, bits: int) -> PrivKey:
    if algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if algorithm == "ECDSA":
        if curve not in CURVES:
            raise ProviderError(f"invalid ECDSA curve; supported values are: {sorted(CURVES)}")
        return ec.generate_private_key(CURVES[curve]())
    if algorithm == "ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ProviderError(f'Key Algorithm "{algorithm}" is not supported')


def openssh_capable(key: PrivKey | PubKey) -> bool:
    """x/crypto/ssh has no P-224: such keys get empty OpenSSH fields."""
    return not (
        isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)
        and key.curve.name == "secp224r1"
    )


def key_outputs(key: PrivKey) -> tuple[str, dict[str, Any]]:
    """(id, outputs) of a PrivateKey, in the formats terraform-provider-tls writes."""
    nocrypt = serialization.NoEncryption()
    pem = serialization.Encoding.PEM
    if isinstance(key, ed25519.Ed25519PrivateKey):  # Go marshals ED25519 keys as PKCS#8 only
        native = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, nocrypt)
    else:  # "RSA PRIVATE KEY" (PKCS#1) / "EC PRIVATE KEY" (SEC1)
        native = key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, nocrypt)
    pkcs8 = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, nocrypt)
    pub = key.public_key()
    der = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pub_pem = pub.public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    ssh_priv = ssh_pub = md5 = sha256 = ""
    if openssh_capable(key):
        ssh_priv = key.private_bytes(pem, serialization.PrivateFormat.OpenSSH, nocrypt).decode()
        line = pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        ssh_pub = line.decode() + "\n"  # ssh.MarshalAuthorizedKey ends the line
        blob = base64.b64decode(line.split()[1])
        md5 = ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())
        sha256 = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return hash_for_state(der), {
        "privateKeyPem": Secret(native.decode()),
        "privateKeyPemPkcs8": Secret(pkcs8.decode()),
        "privateKeyOpenssh": Secret(ssh_priv),
        "publicKeyPem": pub_pem.decode(),
        "publicKeyOpenssh": ssh_pub,
        "publicKeyFingerprintMd5": md5,
        "publicKeyFingerprintSha256": sha256,
    }


def signature_hash(key: PrivKey) -> hashes.HashAlgorithm | None:
    """The digest Go's x509 picks for the signing key."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
            key.curve.name, hashes.SHA256()
        )
    return hashes.SHA256()


# --- names and extensions --------------------------------------------------------------------

KEY_USAGES = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
EXT_KEY_USAGES = {
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": x509.ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": x509.ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}
SUPPORTED_USES = sorted({*KEY_USAGES, *EXT_KEY_USAGES})

# pkix.Name.ToRDNSequence order; each attribute type is one RDN (several values: multi-valued).
SUBJECT_FIELDS = (
    ("country", NameOID.COUNTRY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("streetAddresses", NameOID.STREET_ADDRESS),
    ("postalCode", NameOID.POSTAL_CODE),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("commonName", NameOID.COMMON_NAME),
    ("serialNumber", NameOID.SERIAL_NUMBER),
)
_PRINTABLE_CHARS = re.compile(r"^[A-Za-z0-9 '()+,\-./:=?]*$")


def _attribute(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    if _PRINTABLE is not None and _PRINTABLE_CHARS.match(value):
        return x509.NameAttribute(oid, value, _type=_PRINTABLE)
    return x509.NameAttribute(oid, value)


def subject_name(subject: Any) -> x509.Name:
    subject = plain(subject) or {}
    rdns = []
    for field, oid in SUBJECT_FIELDS:
        value = subject.get(field)
        values = value if isinstance(value, list) else ([] if value is None else [value])
        if values:
            rdns.append(x509.RelativeDistinguishedName([_attribute(oid, str(v)) for v in values]))
    if subject.get("emailAddress") is not None:  # an extra name, IA5String
        rdns.append(
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.EMAIL_ADDRESS, str(subject["emailAddress"]))]
            )
        )
    return x509.Name(rdns)


def alt_names(props: dict[str, Any]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in as_strings(props.get("dnsNames"))]
    for ip in as_strings(props.get("ipAddresses")):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise ProviderError(f'Invalid IP address: failed to parse "{ip}"') from None
    names += [x509.UniformResourceIdentifier(u) for u in as_strings(props.get("uris"))]
    return names


def key_id(pub: PubKey) -> bytes:
    """SHA-1 of the subjectPublicKey bits, as the provider's generateSubjectKeyID."""
    return x509.SubjectKeyIdentifier.from_public_key(pub).digest


# --- certificates ---------------------------------------------------------------------------


def rfc3339(t: dt.datetime) -> str:
    """Go's time.Time.MarshalText (RFC 3339, fractional seconds without trailing zeros)."""
    frac = f"{t.microsecond:06d}".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


_TIME_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))$"
)


def parse_rfc3339(text: str) -> dt.datetime:
    m = _TIME_RE.match(text)
    if not m:
        raise ProviderError(f"Failed to parse data from string: {text}")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    t = dt.datetime(
        int(y), int(mo), int(d), int(h), int(mi), int(s), int((frac or "0")[:6].ljust(6, "0"))
    )
    offset = dt.timedelta(0) if z else dt.timedelta(hours=int(oh), minutes=int(om))
    if sign == "-":
        offset = -offset
    return (t - offset).replace(tzinfo=dt.timezone.utc)


def planned_ready(props: dict[str, Any]) -> Any:
    """`readyForRenewal` as the provider plans it for a new certificate."""
    validity, early = props.get("validityPeriodHours"), props.get("earlyRenewalHours")
    if has_unknown(validity):
        return UNKNOWN
    v = as_int(validity) or 0
    if v == 0:
        return True
    if has_unknown(early) or plain(early) is None:
        return False
    return (as_int(early) or 0) >= v


def renewal_due(props: dict[str, Any], early: Any) -> bool:
    """Whether the early-renewal time (validity end minus `early` hours) has passed."""
    end = plain(props.get("validityEndTime"))
    if not isinstance(end, str) or end == UNKNOWN or has_unknown(early):
        return False
    renew_at = parse_rfc3339(end) - dt.timedelta(hours=as_int(early) or 0)
    return dt.datetime.now(dt.timezone.utc) >= renew_at


def issue(
    props: dict[str, Any],
    *,
    subject: x509.Name,
    sans: list[x509.GeneralName],
    public_key: PubKey,
    issuer: x509.Name,
    issuer_key: PrivKey,
    issuer_key_id: bytes | None,
    self_signed: bool,
) -> tuple[str, dict[str, Any]]:
    """Build and sign a certificate as the provider's createCertificate (through Go's x509)."""
    hours = as_int(props.get("validityPeriodHours")) or 0
    now = dt.datetime.now(dt.timezone.utc)
    not_after = now + dt.timedelta(hours=hours)
    serial = secrets.randbelow((1 << 128) - 1) + 1
    is_ca = as_bool(props.get("isCaCertificate"))
    if is_ca and len(subject) == 0:
        raise ProviderError(
            "Invalid Certificate Subject: Must contain at least one Distinguished Name when "
            "creating Certificate Authority (CA)"
        )
    uses = as_strings(props.get("allowedUses"))
    flags = {v: False for v in KEY_USAGES.values()}
    for use in uses:
        if use in KEY_USAGES:
            flags[KEY_USAGES[use]] = True
    ekus: list[x509.ObjectIdentifier] = []
    for use in uses:
        if use in EXT_KEY_USAGES:
            ekus.append(EXT_KEY_USAGES[use])
    # Go: MaxPathLen 0 without MaxPathLenZero (the provider never sets it) means "no limit",
    # so only a positive max_path_length reaches the certificate. See README.md.
    path_len = as_int(props.get("maxPathLength"))
    path_len = path_len if path_len is not None and path_len > 0 else None
    if path_len is not None and not is_ca:
        raise ProviderError(
            "Failed to create certificate: x509: only CAs are allowed to specify MaxPathLen"
        )
    skid = key_id(public_key) if is_ca or as_bool(props.get("setSubjectKeyId")) else None
    if self_signed:
        akid = None
        if as_bool(props.get("setAuthorityKeyId")):
            if skid is None:
                raise ProviderError(
                    "Invalid Certificate Authority: Could not determine Authority Key Identifier"
                )
            akid = skid
    else:
        akid = issuer_key_id if issuer != subject else None

    b = (
        x509.CertificateBuilder()
        .serial_number(serial)
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .not_valid_before(now.replace(microsecond=0))
        .not_valid_after(not_after.replace(microsecond=0))
    )
    # Go's extension order: key usage, extended key usage, basic constraints, key ids, SANs.
    if any(flags.values()):
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
    if ekus:
        b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    b = b.add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_len), critical=True)
    if skid is not None:
        b = b.add_extension(x509.SubjectKeyIdentifier(skid), critical=False)
    if akid is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier(akid, None, None),
            critical=False,
        )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=len(subject) == 0)
    cert = b.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return str(serial), {
        "certPem": pem,
        "validityStartTime": rfc3339(now),
        "validityEndTime": rfc3339(not_after),
        "readyForRenewal": planned_ready(props),
    }


def private_key_input(props: dict[str, Any], field: str) -> str:
    value = plain(props.get(field))
    if value is None:
        value = plain(props.get(field + "Wo"))
    if not isinstance(value, str) or not value:
        raise ProviderError(f"missing {field}")
    return value


def create_private_key(props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key = generate_key(
        str(plain(props["algorithm"])),
        str(plain(props.get("ecdsaCurve", "P224"))),
        as_int(props.get("rsaBits", 2048)) or 2048,
    )
    return key_outputs(key)


def create_self_signed(props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key = parse_private_key(private_key_input(props, "privateKeyPem"))
    subject = subject_name(props.get("subject"))
    rid, out = issue(
        props,
        subject=subject,
        sans=alt_names(props),
        public_key=key.public_key(),
        issuer=subject,
        issuer_key=key,
        issuer_key_id=None,
        self_signed=True,
    )
    out["keyAlgorithm"] = key_algorithm(key)
    return rid, out


def create_cert_request(props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key = parse_private_key(private_key_input(props, "privateKeyPem"))
    b = x509.CertificateSigningRequestBuilder().subject_name(subject_name(props.get("subject")))
    sans = alt_names(props)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    csr = b.sign(key, signature_hash(key))  # type: ignore[arg-type]
    der = csr.public_bytes(serialization.Encoding.DER)
    return hash_for_state(der), {
        "certRequestPem": csr.public_bytes(serialization.Encoding.PEM).decode(),
        "keyAlgorithm": key_algorithm(key),
    }


def create_locally_signed(props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    csr_pem = str(plain(props.get("certRequestPem")) or "")
    if pem_type(csr_pem) != "CERTIFICATE REQUEST":
        raise ProviderError(
            f'invalid PEM type - expected "CERTIFICATE REQUEST", got "{pem_type(csr_pem)}"'
        )
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as exc:
        raise ProviderError(f"failed to parse certificate request: {exc}") from None
    if not csr.is_signature_valid:
        raise ProviderError("failed to parse certificate request: bad signature")
    ca_key = parse_private_key(private_key_input(props, "caPrivateKeyPem"))
    ca_pem = str(plain(props.get("caCertPem")) or "")
    if pem_type(ca_pem) != "CERTIFICATE":
        raise ProviderError(f'invalid PEM type - expected "CERTIFICATE", got "{pem_type(ca_pem)}"')
    try:
        ca = x509.load_pem_x509_certificate(ca_pem.encode())
    except ValueError as exc:
        raise ProviderError(f"failed to parse certificate: {exc}") from None
    ca_pub = ca.public_key()
    if ca_pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != ca_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ProviderError(
            "Failed to create certificate: x509: provided PrivateKey doesn't match parent's "
            "PublicKey"
        )
    try:
        ca_skid: bytes | None = ca.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest
    except x509.ExtensionNotFound:
        ca_skid = None
    # Only the CSR's subject, public key and SANs (DNS, IP, URI) reach the certificate.
    sans: list[x509.GeneralName] = []
    try:
        requested = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for kind in (x509.DNSName, x509.IPAddress, x509.UniformResourceIdentifier):
            sans += [n for n in requested if isinstance(n, kind)]
    except x509.ExtensionNotFound:
        pass
    pub = csr.public_key()
    if not isinstance(pub, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise ProviderError(f"unsupported public key type {type(pub).__name__}")
    rid, out = issue(
        props,
        subject=csr.subject,
        sans=sans,
        public_key=pub,
        issuer=ca.subject,
        issuer_key=ca_key,
        issuer_key_id=ca_skid,
        self_signed=False,
    )
    out["caKeyAlgorithm"] = key_algorithm(ca_key)
    return rid, out


# --- resource types -------------------------------------------------------------------------


class Kind:
    """What the engine needs to know about one resource type."""

    def __init__(
        self,
        *,
        defaults: dict[str, Any],
        required: Iterable[str],
        update_in_place: Iterable[str] = (),
        pem_inputs: Iterable[str] = (),
        secret_inputs: Iterable[str] = (),
        write_only: Iterable[str] = (),
        computed: Iterable[str],
        create: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
        certificate: bool = False,
        schema_version: int = 0,
    ) -> None:
        self.defaults = defaults
        self.required = tuple(required)
        self.update_in_place = set(update_in_place)
        self.pem_inputs = set(pem_inputs)
        self.secret_inputs = set(secret_inputs)
        self.write_only = set(write_only)
        self.computed = tuple(computed)
        self.create = create
        self.certificate = certificate
        self.schema_version = schema_version


_CERT_COMPUTED = ("certPem", "validityStartTime", "validityEndTime", "readyForRenewal")

KINDS: dict[str, Kind] = {
    PRIVATE_KEY: Kind(
        defaults={"ecdsaCurve": "P224", "rsaBits": 2048},
        required=("algorithm",),
        computed=(
            "privateKeyPem",
            "privateKeyPemPkcs8",
            "privateKeyOpenssh",
            "publicKeyPem",
            "publicKeyOpenssh",
            "publicKeyFingerprintMd5",
            "publicKeyFingerprintSha256",
        ),
        create=create_private_key,
        schema_version=1,
    ),
    SELF_SIGNED_CERT: Kind(
        defaults={
            "earlyRenewalHours": 0,
            "isCaCertificate": False,
            "setSubjectKeyId": False,
            "setAuthorityKeyId": False,
        },
        required=("validityPeriodHours",),
        update_in_place=("earlyRenewalHours",),
        pem_inputs=("privateKeyPem",),
        secret_inputs=("privateKeyPem",),
        write_only=("privateKeyPemWo",),
        computed=(*_CERT_COMPUTED, "keyAlgorithm"),
        create=create_self_signed,
        certificate=True,
    ),
    CERT_REQUEST: Kind(
        defaults={},
        required=(),
        pem_inputs=("privateKeyPem",),
        secret_inputs=("privateKeyPem",),
        write_only=("privateKeyPemWo",),
        computed=("certRequestPem", "keyAlgorithm"),
        create=create_cert_request,
    ),
    LOCALLY_SIGNED_CERT: Kind(
        defaults={"earlyRenewalHours": 0, "isCaCertificate": False, "setSubjectKeyId": False},
        required=("certRequestPem", "caCertPem", "validityPeriodHours"),
        update_in_place=("earlyRenewalHours",),
        pem_inputs=("certRequestPem", "caCertPem", "caPrivateKeyPem"),
        secret_inputs=("caPrivateKeyPem",),
        write_only=("caPrivateKeyPemWo",),
        computed=(*_CERT_COMPUTED, "caKeyAlgorithm"),
        create=create_locally_signed,
        certificate=True,
    ),
}


def kind_of(type_token: str, urn: str) -> Kind:
    token = type_token or (urn.split("::")[2].split("$")[-1] if urn.count("::") >= 3 else "")
    if token not in KINDS:
        raise ProviderError(
            f"unknown resource type {token!r} (this stand-in implements: "
            f"{', '.join(sorted(KINDS))})"
        )
    return KINDS[token]


def check_inputs(token: str, news: dict[str, Any]) -> list[tuple[str, str]]:
    """Schema validation the provider does before planning; unknown values pass."""
    kind = KINDS[token]
    failures = []

    def known(key: str) -> Any:
        v = news.get(key)
        return None if has_unknown(v) else plain(v)

    for key in kind.required:
        if plain(news.get(key)) is None:
            failures.append((key, f'Missing required argument "{key}"'))
    if token == PRIVATE_KEY:
        algo = known("algorithm")
        if algo is not None and algo not in ALGORITHMS:
            failures.append(("algorithm", f"value must be one of: {list(ALGORITHMS)}"))
        curve = known("ecdsaCurve")
        if curve is not None and curve not in CURVES:
            failures.append(("ecdsaCurve", f"value must be one of: {sorted(CURVES)}"))
    key_field = {SELF_SIGNED_CERT: "privateKeyPem", CERT_REQUEST: "privateKeyPem"}.get(
        token, "caPrivateKeyPem" if token == LOCALLY_SIGNED_CERT else ""
    )
    if key_field and all(plain(news.get(f)) is None for f in (key_field, key_field + "Wo")):
        failures.append((key_field, f"Exactly one of {key_field} or {key_field}Wo must be set"))
    for key, low in (("validityPeriodHours", 0), ("earlyRenewalHours", 0), ("maxPathLength", -1)):
        v = known(key)
        if v is None:
            continue
        try:
            n = as_int(v)
        except ProviderError as exc:
            failures.append((key, str(exc)))
            continue
        if n is not None and n < low:
            failures.append((key, f"value must be at least {low}, got: {n}"))
    uses = known("allowedUses")
    for use in uses if isinstance(uses, list) else []:
        if use != UNKNOWN and use not in SUPPORTED_USES:
            failures.append(("allowedUses", f"value must be one of: {SUPPORTED_USES}, got: {use}"))
    return failures


def diff(
    kind: Kind, olds: dict[str, Any], news: dict[str, Any], old_outputs: dict[str, Any]
) -> provider_pb2.DiffResponse:
    """Every input change replaces (as the provider's RequiresReplace modifiers), but for
    `earlyRenewalHours` (in place) and PEM inputs whose old value is not a PEM (in place);
    a certificate past its early-renewal time is replaced through `readyForRenewal`."""
    replaces: list[str] = []
    updates: list[str] = []
    detailed: dict[str, int] = {}
    kinds = provider_pb2.PropertyDiff
    olds, news = with_defaults(kind, olds), with_defaults(kind, news)
    for key in sorted({*olds, *news} - set(kind.computed) - kind.write_only - BRIDGE_KEYS):
        old, new = plain(olds.get(key)), plain(news.get(key))
        if key == "maxPathLength" and new is None:  # Optional+Computed, UseStateForUnknown
            continue
        if old == new and not has_unknown(new):
            continue
        in_place = key in kind.update_in_place or (
            key in kind.pem_inputs and not (isinstance(old, str) and PEM_RE.match(old))
        )
        (updates if in_place else replaces).append(key)
        if old is None:
            detailed[key] = kinds.ADD if in_place else kinds.ADD_REPLACE
        elif new is None:
            detailed[key] = kinds.DELETE if in_place else kinds.DELETE_REPLACE
        else:
            detailed[key] = kinds.UPDATE if in_place else kinds.UPDATE_REPLACE
    renew = kind.certificate and renewal_due(old_outputs, news.get("earlyRenewalHours", 0))
    if renew:
        replaces.append("readyForRenewal")
    resp = provider_pb2.DiffResponse(
        changes=provider_pb2.DiffResponse.DIFF_SOME
        if replaces or updates
        else provider_pb2.DiffResponse.DIFF_NONE,
        replaces=replaces,
        diffs=sorted({*replaces, *updates}),
        deleteBeforeReplace=False,
        hasDetailedDiff=True,
    )
    for key, k in detailed.items():
        resp.detailedDiff[key].kind = k  # type: ignore[assignment]
        resp.detailedDiff[key].inputDiff = True
    if renew:
        resp.detailedDiff["readyForRenewal"].kind = kinds.UPDATE_REPLACE
    return resp


BRIDGE_KEYS = {"id", "__meta"}


def with_defaults(kind: Kind, props: dict[str, Any]) -> dict[str, Any]:
    out = dict(props)
    for key, value in kind.defaults.items():
        if plain(out.get(key)) is None:
            out[key] = value
    return out


def outputs(
    kind: Kind, inputs: dict[str, Any], computed: dict[str, Any], rid: str
) -> dict[str, Any]:
    """What the bridged provider returns as state: the inputs with their defaults (sensitive
    ones as secrets, write-only ones dropped), the computed values, `id` and, for a resource
    with a schema version, the bridge's `__meta`."""
    out = {k: v for k, v in with_defaults(kind, inputs).items() if k not in kind.write_only}
    for k in kind.secret_inputs:
        if k in out and out[k] is not None:
            out[k] = secret(out[k])
    out.update(computed)
    out["id"] = rid
    if kind.schema_version:
        out["__meta"] = json.dumps({"schema_version": str(kind.schema_version)})
    return dict(sorted(out.items()))


# --- the gRPC service -----------------------------------------------------------------------


def _log(method: str, detail: str = "") -> None:
    path = os.environ.get("TLS_STANDIN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{method} {detail}".rstrip() + "\n")


def _fail(context: grpc.ServicerContext, exc: Exception) -> NoReturn:
    context.abort(grpc.StatusCode.UNKNOWN, str(exc))
    raise AssertionError("unreachable")  # context.abort raises


class TlsProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    # -- plugin and provider configuration

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        _log("GetPluginInfo")
        return plugin_pb2.PluginInfo(version=VERSION)

    def Handshake(self, request: Any, context: Any) -> provider_pb2.ProviderHandshakeResponse:
        _log("Handshake", request.engine_address)
        return provider_pb2.ProviderHandshakeResponse(
            accept_secrets=True, accept_resources=True, accept_outputs=False
        )

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        _log("GetSchema", str(request.version))
        return provider_pb2.GetSchemaResponse(
            schema=json.dumps({"name": "tls", "version": VERSION})
        )

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        _log("CheckConfig", request.urn)
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        _log("DiffConfig", request.urn)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        _log("Configure", request.urn)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True, acceptOutputs=False
        )

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        _log("Cancel")
        return empty_pb2.Empty()

    def Attach(self, request: Any, context: Any) -> empty_pb2.Empty:
        _log("Attach", request.address)
        return empty_pb2.Empty()

    def GetMapping(self, request: Any, context: Any) -> provider_pb2.GetMappingResponse:
        _log("GetMapping", request.key)
        return provider_pb2.GetMappingResponse()

    def GetMappings(self, request: Any, context: Any) -> provider_pb2.GetMappingsResponse:
        _log("GetMappings", request.key)
        return provider_pb2.GetMappingsResponse()

    # -- resources

    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        _log("Check", request.urn)
        try:
            token = request.type or request.urn.split("::")[2].split("$")[-1]
            kind = kind_of(token, request.urn)
            news = decode_struct(request.news)
            failures = [
                provider_pb2.CheckFailure(property=p, reason=r)
                for p, r in check_inputs(token, with_defaults(kind, news))
            ]
            # The inputs as given: the bridge adds defaults to the outputs only.
            return provider_pb2.CheckResponse(inputs=request.news, failures=failures)
        except ProviderError as exc:
            _fail(context, exc)

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        _log("Diff", request.urn)
        try:
            kind = kind_of(request.type, request.urn)
            olds = decode_struct(request.olds)
            old_inputs = decode_struct(request.old_inputs) if request.old_inputs.fields else {}
            news = decode_struct(request.news)
            # Inputs are compared with the old inputs; the old outputs hold the validity end time.
            base = old_inputs or {
                k: v for k, v in olds.items() if k not in kind.computed and k not in BRIDGE_KEYS
            }
            for path in request.ignoreChanges:  # ignore_changes: keep the old value
                key = re.split(r"[.\[]", path, maxsplit=1)[0]
                if key in base:
                    news[key] = base[key]
                else:
                    news.pop(key, None)
            return diff(kind, base, news, olds)
        except ProviderError as exc:
            _fail(context, exc)

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        _log("Create", f"{request.urn} preview={request.preview}")
        try:
            kind = kind_of(request.type, request.urn)
            inputs = decode_struct(request.properties)
            if request.preview:  # the plan: computed values are not known yet
                computed: dict[str, Any] = {k: UNKNOWN for k in kind.computed}
                if "readyForRenewal" in computed:
                    computed["readyForRenewal"] = planned_ready(inputs)
                for k in ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"):
                    if k in computed:
                        computed[k] = Secret(UNKNOWN)
                return provider_pb2.CreateResponse(
                    id="", properties=encode_struct(outputs(kind, inputs, computed, UNKNOWN))
                )
            rid, computed = kind.create(inputs)
            return provider_pb2.CreateResponse(
                id=rid, properties=encode_struct(outputs(kind, inputs, computed, rid))
            )
        except ProviderError as exc:
            _fail(context, exc)

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:
        _log("Read", request.urn)
        try:
            kind = kind_of(request.type, request.urn)
            props = decode_struct(request.properties)
            if not props:
                raise ProviderError(
                    "the stand-in tls provider cannot import: these resources exist only in state"
                )
            if kind.certificate and renewal_due(props, props.get("earlyRenewalHours", 0)):
                props["readyForRenewal"] = True
            return provider_pb2.ReadResponse(
                id=request.id, properties=encode_struct(props), inputs=request.inputs
            )
        except ProviderError as exc:
            _fail(context, exc)

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        _log("Update", f"{request.urn} preview={request.preview}")
        try:
            kind = kind_of(request.type, request.urn)
            olds = decode_struct(request.olds)
            news = decode_struct(request.news)
            computed = {k: olds[k] for k in kind.computed if k in olds}
            if "readyForRenewal" in kind.computed:
                computed["readyForRenewal"] = planned_ready(news)
            return provider_pb2.UpdateResponse(
                properties=encode_struct(outputs(kind, news, computed, request.id))
            )
        except ProviderError as exc:
            _fail(context, exc)

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        _log("Delete", request.urn)
        return empty_pb2.Empty()


def main(argv: list[str]) -> int:
    # The engine passes flags (--logtostderr, -v=N, --tracing X, ...) and its own address last.
    stop = threading.Event()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[
            ("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024),
        ],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(TlsProvider(stop), server)
    port = server.add_insecure_port("127.0.0.1:0")
    if not port:
        print("could not bind 127.0.0.1", file=sys.stderr)
        return 1
    server.start()
    _log("start", " ".join(argv))
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop.wait()
    server.stop(grace=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
