"""GrpcIngress: publish GrpcServices through the ingress-nginx controller, with TLS at the edge
and nginx balancing every gRPC call (HTTP/2 stream) across the pods.

The Ingress takes the services it fronts (GrpcService objects, or GrpcServiceRefs as plain
data), so its backend names and ports come from the Services themselves (a port mismatch
cannot be written), and the controller, so `ingressClassName` and the `service-upstream` rule
follow from how the controller runs. TLS handling lives in `certificates` (`EdgeTlsArgs`,
`provision_edge_tls`, `issue_tls_secret`), the path GrpcGateway's listener certificate takes
too, and the grpcurl command in `grpcurl_command`, which GrpcRoute (the Gateway API route)
reuses. GrpcIngress writes Ingresses only: on a Gateway, publish with GrpcRoute.

nginx facts the defaults rest on (checked against controller v1.15.1 and measured with nginx
1.22 `grpc_pass`): `proxy-read-timeout`/`proxy-send-timeout` become `grpc_read_timeout`/
`grpc_send_timeout`, which cut a stream that stays silent longer than that (default 60 s);
`proxy-body-size` becomes `client_max_body_size`, which counts the whole request body of a
call, 5 bytes of gRPC framing per message included, and for a client stream the sum of all its
messages (default 1m, so a 4 MiB message gets HTTP 413).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ._inputs import DeferredChecks, contains_output, fmt, gate, is_output, lift
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_annotation_keys,
    check_dns_subdomain,
    check_label_map,
    field_validator,
    validate_model,
)
from .certificates import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    EdgeTlsArgs,
    TlsSecret,
    check_hostname,
    edge_tls_problems,
    issue_tls_secret,
    issuer_validity_problem,
    kubernetes_service_dns_names,
    provision_edge_tls,
)
from .grpc_gateway import GrpcGateway
from .grpc_service import GrpcService, GrpcServiceRef
from .nginx_ingress_controller import IngressControllerRef, NginxIngressController
from .peers import PeerRef

__all__ = [
    "ANNOTATION_PREFIX",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "GATEWAY_PATH_REFUSED",
    "GRPC_FRAME_HEADER_BYTES",
    "TLS_BACKEND_REFUSED",
    "WHOLE_SERVICE_ROUTE_REFUSED",
    "BackendProtocol",
    "GrpcIngress",
    "GrpcIngressArgs",
    "body_size_for",
    "grpcurl_command",
    "nginx_grpc_annotations",
    "use_service_upstream",
]

ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"
# gRPC's length-prefixed message framing: 1 byte compressed flag + 4 bytes length.
GRPC_FRAME_HEADER_BYTES = 5
# gRPC's default maximum received message size in every official implementation.
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Validity of the certificates GrpcIngress issues to GRPCS backends (same as CertificateArgs').
BACKEND_CERT_VALIDITY_HOURS = 2160
BACKEND_CERT_EARLY_RENEWAL_HOURS = 720
# A routes key: a fully qualified gRPC service (`package.Service`).
GRPC_SERVICE_NAME = re.compile(r"^[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", re.IGNORECASE)


class BackendProtocol(str, Enum):
    """How nginx talks to the pods."""

    GRPC = "GRPC"
    """HTTP/2 cleartext (h2c)."""
    GRPCS = "GRPCS"
    """HTTP/2 over TLS, to pods that serve TLS themselves."""


_GRPC_METHOD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/[A-Za-z_]\w*$")

# Annotations GrpcIngress writes itself, and the option that controls each.
_OWNED_ANNOTATIONS = {
    "backend-protocol": "backend_protocol",
    "ssl-redirect": "nothing: HTTP/2 to clients needs TLS (ALPN h2), so it is always 'true'",
    "proxy-read-timeout": "stream_idle_timeout_seconds",
    "proxy-send-timeout": "stream_idle_timeout_seconds",
    "proxy-connect-timeout": "connect_timeout_seconds",
    "proxy-body-size": "max_message_bytes",
    "service-upstream": "the controller's `mesh` (see use_service_upstream)",
}


# GrpcIngressArgs options that only the ingress-nginx path has, and why each has no GRPCRoute
# equivalent in NGINX Gateway Fabric 2.6.7: GrpcRoute refuses them with these reasons (and the
# stack config does for `via: gateway-api`), so they are written once, here.
GATEWAY_PATH_REFUSED: dict[str, str] = {
    "tls": "on the Gateway API path TLS terminates at the Gateway's listener. Fix: remove "
    "it; set the certificate on the GrpcGateway (tls_secret_name, tls_secret= or ca=).",
    "backend_protocol": "the Gateway API path always sends h2c to the pods (GRPC). Fix: "
    "remove it; mesh the gateway and the service for verified mTLS to the pods.",
    "issue_backend_certificates": "the Gateway API path sends h2c, so backends need no "
    "certificate. Fix: remove it.",
    "stream_idle_timeout_seconds": "NGINX Gateway Fabric 2.6.7 has no setting for "
    "grpc_read_timeout/grpc_send_timeout (its ProxySettingsPolicy writes proxy_*, which "
    "grpc_pass ignores), so streams silent for 60 s are cut. Fix: remove it; keep "
    "streams talking within 60 s (see docs/gateway-api.md), or use ingress-nginx.",
    "connect_timeout_seconds": "NGINX Gateway Fabric 2.6.7 has no setting for "
    "grpc_connect_timeout (60 s). Fix: remove it.",
    "annotations": "a GRPCRoute has no ingress-nginx annotations. Fix: remove them; "
    "NGF's policies (e.g. max_message_bytes, a ClientSettingsPolicy) cover some.",
}
"""Ingress-only option -> why the Gateway API path refuses it, with the fix."""

WHOLE_SERVICE_ROUTE_REFUSED = (
    "routing a whole gRPC service is a GRPCRoute match without a method, which NGINX Gateway "
    "Fabric 2.6.7 rejects (it accepts only service+method matches, the Gateway API's Core "
    "support), so those calls would never reach their service. Fix: route methods "
    "('pkg.Service/Method'), or publish each service on its own host (one GrpcRoute with "
    "service= per host, all hosts on the GrpcGateway), or use ingress-nginx (GrpcIngress) for "
    "routing by service name."
)
"""Why a route for a whole gRPC service (no method) is refused on the Gateway API path."""

TLS_BACKEND_REFUSED = (
    "serve TLS, but the Gateway API path sends h2c (re-encryption would need a "
    "BackendTLSPolicy, not built here). Fix: serve h2c and mesh the gateway and the service for "
    "verified mTLS, or use ingress-nginx (GrpcIngress) with GRPCS."
)
"""Why services serving TLS themselves are refused on the Gateway API path."""


def body_size_for(max_message_bytes: int) -> str:
    """`proxy-body-size` that lets one message of `max_message_bytes` through: nginx counts the
    5-byte gRPC frame header too (measured: a 64k limit passes a 65531-byte message, not
    65532)."""
    return str(max_message_bytes + GRPC_FRAME_HEADER_BYTES)


def grpcurl_command(
    host: str, method: str, *, port: int = 443, cacert_file: str | None = None
) -> str:
    """The end-to-end check, ready to paste: `grpcurl [-cacert FILE] host:443 METHOD`.

    Needs server reflection on the backend. With a private CA, write its PEM to `cacert_file`
    first (`pulumi stack output ca_cert_pem > ca.crt`)."""
    parts = ["grpcurl"]
    if cacert_file:
        parts += ["-cacert", cacert_file]
    parts += [f"{host}:{port}", method]
    return " ".join(parts)


def use_service_upstream(
    *, controller_meshed: bool, backend_protocol: BackendProtocol | str, headless_backends: bool
) -> bool:
    """Whether nginx should send to the Service's ClusterIP (`service-upstream`) instead of
    balancing across pod endpoints itself.

    Only with a meshed controller: the controller's Linkerd proxy then balances every call.
    Without a mesh the ClusterIP brings connection pinning back (kube-proxy balances per
    connection). Not with GRPCS either: Linkerd treats TLS it did not originate as opaque TCP,
    so it would balance connections, not calls. Not for headless Services: they have no
    ClusterIP (ingress-nginx logs an error and falls back to the endpoints).
    """
    return controller_meshed and backend_protocol == "GRPC" and not headless_backends


def nginx_grpc_annotations(
    *,
    backend_protocol: BackendProtocol | str,
    controller_meshed: bool,
    stream_idle_timeout_seconds: int | None,
    connect_timeout_seconds: int | None,
    max_message_bytes: int | None,
    headless_backends: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The ingress-nginx annotations of a gRPC Ingress (a pure function of plain values: tested
    without mocks). `service-upstream` follows `use_service_upstream`."""
    p = ANNOTATION_PREFIX
    out = {
        f"{p}ssl-redirect": "true",
        f"{p}backend-protocol": BackendProtocol(backend_protocol).value,
    }
    if stream_idle_timeout_seconds is not None:
        out[f"{p}proxy-read-timeout"] = str(stream_idle_timeout_seconds)
        out[f"{p}proxy-send-timeout"] = str(stream_idle_timeout_seconds)
    if connect_timeout_seconds is not None:
        out[f"{p}proxy-connect-timeout"] = str(connect_timeout_seconds)
    if max_message_bytes is not None:
        out[f"{p}proxy-body-size"] = body_size_for(max_message_bytes)
    if use_service_upstream(
        controller_meshed=controller_meshed,
        backend_protocol=backend_protocol,
        headless_backends=headless_backends,
    ):
        out[f"{p}service-upstream"] = "true"
    out.update(extra or {})
    return out


def check_client_host(v: str) -> str:
    """A host clients dial and grpcurl targets: a DNS name, no IP, no wildcard."""
    try:
        ipaddress.ip_address(v)
    except ValueError:
        pass
    else:
        raise ValueError(
            "a route host cannot be an IP address. Fix: use a DNS name that resolves to the "
            "entry point's address, e.g. 'grpc.example.com'."
        )
    if v.startswith("*."):
        raise ValueError(
            "a wildcard host cannot be dialled by grpcurl nor issued a specific "
            f"certificate. Fix: give the concrete host, e.g. {'grpc.' + v[2:]!r}."
        )
    return check_hostname(v, wildcard_ok=False)


def check_grpcurl_method(v: str) -> str:
    """`package.Service/Method`, `list` or `describe`."""
    if v in ("list", "describe") or _GRPC_METHOD.match(v):
        return v
    raise ValueError(
        "grpcurl takes `package.Service/Method`, `list` or `describe`. Fix: use e.g. "
        "'helloworld.Greeter/SayHello'."
    )


def check_route_labels(v: Mapping[str, str], *, owner: str) -> Mapping[str, str]:
    check_label_map(v)
    if "app.kubernetes.io/managed-by" in v:
        raise ValueError(f"label 'app.kubernetes.io/managed-by' is set by {owner}. Fix: remove it.")
    return v


def managed_labels(extra: Mapping[str, str]) -> dict[str, str]:
    return {**extra, "app.kubernetes.io/managed-by": "grpc-kube"}


def service_ref(
    obj: object, field: str, *, where: str, problems: list[str]
) -> tuple[GrpcServiceRef | None, GrpcService | None]:
    """A backend as a GrpcServiceRef (and the GrpcService object when one was given): a
    GrpcService, a GrpcServiceRef, or a dict of its fields. Problems are appended, not raised.
    A ref built by the caller is gated: its Outputs are checked when they resolve."""
    if isinstance(obj, GrpcService):
        return obj.ref, obj
    if isinstance(obj, (GrpcServiceRef, Mapping)):
        try:
            ref = validate_model(GrpcServiceRef, obj, where=where, prefix=f"{field}.")
        except InvalidArgumentError as exc:
            problems += exc.problems
            return None, None
        return gate(ref, where=f"{where}: {field}"), None
    problems.append(
        f"{field}: got {type(obj).__name__}; expected a GrpcService or a GrpcServiceRef. Fix: "
        "pass the GrpcService object (or its .ref), not its name."
    )
    return None, None


def _shown(value: Any) -> str:
    return "(an Output)" if contains_output(value) else repr(value)


def _key(value: Any) -> Any:
    # Outputs have no value yet: the same Output object stands for the same value.
    return id(value) if contains_output(value) else value


def unique_refs(refs: Sequence[GrpcServiceRef]) -> tuple[GrpcServiceRef, ...]:
    """Each Kubernetes Service once (a service may serve `/` and some routes)."""
    seen: dict[tuple[Any, Any], GrpcServiceRef] = {}
    for ref in refs:
        seen.setdefault((_key(ref.namespace), _key(ref.name)), ref)
    return tuple(seen.values())


def same_namespace_problems(what: str, fix: str) -> Any:
    """A check (for DeferredChecks) that every given namespace is the same."""

    def problems(*namespaces: str) -> list[str]:
        distinct = sorted(set(namespaces))
        if len(distinct) <= 1:
            return []
        return [
            f"service/routes: the services are in namespaces {distinct}, but {what} only "
            f"reaches Services in its own namespace. Fix: {fix}"
        ]

    return problems


class GrpcIngressArgs(ArgsModel):
    """Arguments of GrpcIngress. Only `host` is required."""

    host: pulumi.Input[str]
    """The hostname clients dial, e.g. `grpctest.dev.mydomain.com` (no wildcard, no IP: it is
    also the certificate's name and the grpcurl target)."""
    ingress_name: pulumi.Input[str] | None = None
    """Kubernetes name of the Ingress (default: the component's name). It lives in the
    namespace of the services it fronts, as Ingress backends must."""
    tls: EdgeTlsArgs = EdgeTlsArgs()
    """The TLS Secret in the Ingress's TLS block (default: a certificate for `host` issued by an
    internal CA, stored as `<ingress_name>-tls`; `tls.existing=True` uses your own Secret).
    A TlsSecret object can be passed instead with the `tls_secret=` keyword. Whether a
    certificate is generated decides which resources exist, so `tls.existing` is plain."""
    backend_protocol: BackendProtocol = BackendProtocol.GRPC
    """How nginx talks to the pods (default `GRPC`: HTTP/2 cleartext, for services without
    `tls`). `GRPCS` re-encrypts to pods that serve TLS (GrpcService `tls=ServerTlsArgs(...)`);
    ingress-nginx does not verify their certificate (see docs/ingress.md), the Linkerd mesh
    gives verified mTLS instead. Plain: with `issue_backend_certificates` it decides whether
    backend certificates are created, and it is checked against each service's `tls`."""
    issue_backend_certificates: bool = True
    """With GRPCS: issue each service a certificate for its cluster DNS names from the internal
    CA and store it as the Secret the service mounts (`ServerTlsArgs.secret_name`), default
    True. False when you provide those Secrets yourself (cert-manager...). Plain: it decides
    which resources exist."""
    stream_idle_timeout_seconds: pulumi.Input[int] | None = 3600
    """How long a call may go without a message from the backend (read) or to it (send) before
    nginx cuts it (`proxy-read-timeout` and `proxy-send-timeout`, in seconds). Default 3600:
    nginx's 60 cuts a stream silent for a minute. Streams that keep talking are never cut by
    it; a client silent on a client/bidi stream is bounded by the controller's
    `client_body_timeout_seconds`. None: no annotation, the controller-wide value applies."""
    connect_timeout_seconds: pulumi.Input[int] | None = None
    """`proxy-connect-timeout`: seconds to open a connection to a pod (default None: the
    controller's 5 s; nginx caps it near 75)."""
    max_message_bytes: pulumi.Input[int] | None = DEFAULT_MAX_MESSAGE_BYTES
    """Largest request message nginx accepts (default 4 MiB, gRPC's default limit), written as
    `proxy-body-size` with the 5-byte gRPC frame header added. nginx counts a client stream's
    messages together, so for client streaming give the largest total. None: no annotation,
    the controller-wide value applies (1m unless changed)."""
    grpcurl_method: pulumi.Input[str] = "helloworld.Greeter/SayHello"
    """Method in the `grpcurl_command` output (default: the helloworld example's). Also `list`
    or `describe` (reflection only)."""
    annotations: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra Ingress annotations (default none), e.g.
    `nginx.ingress.kubernetes.io/whitelist-source-range`. Those GrpcIngress sets itself and
    `*-snippet` ones are refused."""
    labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra labels on the Ingress (default none)."""

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return check_client_host(v)

    @field_validator("ingress_name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_subdomain(v, what="Ingress name")

    @field_validator("stream_idle_timeout_seconds", "connect_timeout_seconds")
    @classmethod
    def _timeout(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(
                "a timeout must be at least 1 second (0 or less would cut every call). Fix: "
                "give seconds, e.g. 3600, or None to keep the controller's value."
            )
        return v

    @field_validator("connect_timeout_seconds")
    @classmethod
    def _connect(cls, v: int | None) -> int | None:
        if v is not None and v > 75:
            raise ValueError(
                "nginx cannot wait longer than about 75 s for a connection (the OS gives up "
                "first). Fix: use at most 75."
            )
        return v

    @field_validator("max_message_bytes")
    @classmethod
    def _bytes(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(
                "a message size must be at least 1 byte. Fix: give bytes, e.g. 4194304 "
                "(4 MiB), or None to keep the controller's value."
            )
        return v

    @field_validator("grpcurl_method")
    @classmethod
    def _method(cls, v: str) -> str:
        return check_grpcurl_method(v)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, v: dict[str, str]) -> dict[str, str]:
        check_annotation_keys(v, what="annotations")
        for key, value in v.items():
            prefix, _, short = key.rpartition("/")
            if prefix + "/" == ANNOTATION_PREFIX and short in _OWNED_ANNOTATIONS:
                raise ValueError(
                    f"{key!r} is set by GrpcIngress itself. Fix: remove it; it follows "
                    f"{_OWNED_ANNOTATIONS[short]}."
                )
            if short.endswith("-snippet") or short.endswith("-snippets"):
                raise ValueError(
                    f"{key!r} is a snippet: NginxIngressController keeps snippets off (risk "
                    "Critical, any Ingress author could run raw nginx directives), so the "
                    "controller would refuse this Ingress. Fix: remove it."
                )
            if not isinstance(value, str):
                raise ValueError(f"value of {key!r} must be a string. Fix: quote it.")
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> Mapping[str, str]:
        return check_route_labels(v, owner="GrpcIngress")


_GATEWAY_GIVEN = (
    "controller: got a GrpcGateway; GrpcIngress writes an ingress-nginx Ingress, and a Gateway "
    "takes a GRPCRoute instead. Fix: publish with GrpcRoute(name, GrpcRouteArgs(host=...), "
    "service=..., gateway=<the GrpcGateway>) from grpc_kube.grpc_route."
)


class GrpcIngress(Component):
    """An Ingress (networking.k8s.io/v1) for gRPC on ingress-nginx, its TLS Secret, and with
    GRPCS the backends' certificates."""

    backends: tuple[GrpcServiceRef, ...]
    """The services it fronts (the default `service` first, then `routes` in order; values are
    Outputs where the services' were)."""
    controller_peer: PeerRef
    """The controller pods that call the backends (for NetworkPolicies / mesh authorization)."""
    ingress_name: pulumi.Output[str]
    """The Ingress's Kubernetes name."""
    namespace: pulumi.Output[str]
    """The Ingress's namespace (its services')."""
    tls_secret_name: pulumi.Output[str]
    """The TLS Secret the Ingress serves (in `namespace`)."""
    annotations: pulumi.Output[dict[str, str]]
    """The annotations sent, for inspection."""
    host: pulumi.Output[str]
    """The host, once the Ingress exists."""
    grpcurl_command: pulumi.Output[str]
    """`grpcurl [-cacert ca.crt] <host>:443 <grpcurl_method>`; `-cacert` appears when the CA is
    grpc-kube's (or a given TlsSecret's): write it with `pulumi stack output ca_cert_pem >
    ca.crt` after exporting `ca_cert_pem`."""
    ca_cert_pem: pulumi.Output[str | None]
    """PEM of the CA that signed the served certificate (public), for `grpcurl -cacert`.
    None when you bring your own Secret by name (`tls.existing=True`): your clients already
    trust its issuer, and grpc-kube never reads your Secret."""
    ingress: k8s.networking.v1.Ingress
    """The Ingress object."""

    def __init__(
        self,
        name: str,
        args: GrpcIngressArgs | Mapping[str, Any],
        *,
        service: GrpcService | GrpcServiceRef | Mapping[str, Any] | None = None,
        routes: Mapping[str, GrpcService | GrpcServiceRef | Mapping[str, Any]] | None = None,
        controller: NginxIngressController | IngressControllerRef | Mapping[str, Any],
        tls_secret: TlsSecret | None = None,
        ca: CertificateAuthority | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`service`: the service behind path `/` (every call). `routes`: fully qualified gRPC
        service name -> service, each behind path `/<name>` (e.g. `helloworld.Greeter` routes
        `/helloworld.Greeter/*`). Give either or both; each service is a GrpcService, a
        GrpcServiceRef, or a dict of GrpcServiceRef's fields. `controller`: the
        NginxIngressController (the Ingress then waits for its admission webhook), or its
        facts as an IngressControllerRef (or a dict of its fields) for a controller installed
        elsewhere. `tls_secret`: a TlsSecret to serve instead of `args.tls`. `ca`: the CA that
        issues generated certificates (default: one is created, `<name>-ca`). For a Gateway
        API Gateway use GrpcRoute."""
        where = f"GrpcIngress {name!r}"
        args = validate_model(GrpcIngressArgs, args, where=where)
        if isinstance(controller, GrpcGateway):
            raise InvalidArgumentError(where, [_GATEWAY_GIVEN])
        problems: list[str] = []
        checks = DeferredChecks(where)
        ctl_ref, ctl_obj = self._controller(controller, where, problems)

        paths: list[tuple[str, GrpcServiceRef]] = []
        objects: dict[int, GrpcService] = {}

        def add(path: str, obj: object, field: str) -> None:
            ref, svc = service_ref(obj, field, where=where, problems=problems)
            if ref is not None:
                paths.append((path, ref))
                if svc is not None:
                    objects[id(ref)] = svc

        if routes is not None and not isinstance(routes, Mapping):
            problems.append(
                f"routes: got {type(routes).__name__}; expected a mapping of gRPC service "
                "name -> service. Fix: e.g. routes={'helloworld.Greeter': greeter}."
            )
            routes = None
        for grpc_name, svc in (routes or {}).items():
            if not isinstance(grpc_name, str) or not GRPC_SERVICE_NAME.match(grpc_name):
                problems.append(
                    f"routes: key {grpc_name!r} is not a fully qualified gRPC service name. Fix: "
                    "use e.g. 'helloworld.Greeter' (package.Service, no slashes)."
                )
            else:
                add(f"/{grpc_name}", svc, f"routes[{grpc_name!r}]")
        if service is not None:
            add("/", service, "service")
        elif not routes:
            problems.append(
                "service: missing; a GrpcIngress needs a backend. Fix: pass service=<GrpcService>"
                " (and/or routes={'pkg.Service': <GrpcService>})."
            )
        infos = unique_refs([ref for _, ref in sorted(paths, key=lambda p: p[0] != "/")])

        ingress_name: Any = args.ingress_name if args.ingress_name is not None else name
        if args.ingress_name is None:
            try:
                check_dns_subdomain(name, what="Ingress name")
            except ValueError as exc:
                problems.append(f"name: got {name!r}; it becomes the Ingress name, and {exc}")
        checks.check(
            same_namespace_problems(
                "an Ingress",
                "one GrpcIngress per namespace (they can share the host only with different "
                "paths).",
            ),
            *[i.namespace for i in infos],
        )
        namespace: Any = infos[0].namespace if infos else ""
        problems += self._protocol_problems(args, infos)
        if ca is not None and not isinstance(ca, CertificateAuthority):
            problems.append(
                f"ca: got {type(ca).__name__}; expected a CertificateAuthority. Fix: pass a "
                "CertificateAuthority object, or leave ca out to have one generated."
            )
            ca = None
        if infos:
            # Checks that need a value still an Output run when it resolves (provision_edge_tls).
            problems += edge_tls_problems(
                args.tls, hosts=(args.host,), namespace=namespace, tls_secret=tls_secret, issuer=ca
            )
        generate_edge = tls_secret is None and not args.tls.existing
        issue_backend = (
            args.backend_protocol == BackendProtocol.GRPCS and args.issue_backend_certificates
        )
        if issue_backend:
            problems += self._backend_certificate_problems(infos, objects)
            if ca is not None:
                problem = issuer_validity_problem(
                    ca, BACKEND_CERT_VALIDITY_HOURS, field="ca (backend certificates)"
                )
                if problem:
                    problems.append(problem)
        problems += checks.now
        if problems:
            raise InvalidArgumentError(where, problems)
        assert ctl_ref is not None

        super().__init__("GrpcIngress", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        if args.ingress_name is not None:
            ingress_name = args.ingress_name
        self.args = args
        self.backends = infos
        self.controller_peer = ctl_ref.peer
        child = pulumi.ResourceOptions(parent=self)
        # Names in messages: the Ingress's when known now, else the component's.
        label = name if is_output(ingress_name) else ingress_name

        issuer = ca
        if (generate_edge or issue_backend) and issuer is None:
            issuer = CertificateAuthority(
                f"{name}-ca",
                CertificateAuthorityArgs(common_name=fmt("grpc-kube ingress {} CA", ingress_name)),
                opts=child,
            )
        edge = provision_edge_tls(
            f"{name}-edge-tls",
            args.tls,
            hosts=(args.host,),
            namespace=namespace,
            default_secret_name=fmt("{}-tls", ingress_name),
            tls_secret=tls_secret,
            issuer=issuer,
            parent=self,
        )
        if issue_backend and issuer is not None:
            for i, info in enumerate(infos):
                svc = objects[id(info)]
                assert svc.args.tls is not None  # GRPCS: every service serves TLS (checked)
                # Pulumi names are plain: the Service's name when it is known now.
                which = f"{i}" if is_output(info.name) else info.name
                issue_tls_secret(
                    f"{name}-backend-{which}-tls",
                    issuer=issuer,
                    dns_names=kubernetes_service_dns_names(info.name, info.namespace),
                    namespace=info.namespace,
                    secret_name=svc.args.tls.secret_name,
                    validity_hours=BACKEND_CERT_VALIDITY_HOURS,
                    early_renewal_hours=BACKEND_CERT_EARLY_RENEWAL_HOURS,
                    parent=self,
                )

        headless = any(i.headless for i in infos)
        annotations = lift(
            lambda idle, connect, size, extra: nginx_grpc_annotations(
                backend_protocol=args.backend_protocol,
                controller_meshed=ctl_ref.meshed,
                headless_backends=headless,
                stream_idle_timeout_seconds=idle,
                connect_timeout_seconds=connect,
                max_message_bytes=size,
                extra=extra,
            ),
            args.stream_idle_timeout_seconds,
            args.connect_timeout_seconds,
            args.max_message_bytes,
            args.annotations,
        )
        http_paths = [
            {
                "path": path,
                "pathType": "Prefix",
                "backend": {"service": {"name": info.name, "port": {"number": info.port}}},
            }
            for path, info in paths
        ]
        spec = {
            "ingressClassName": ctl_ref.ingress_class,
            "tls": [{"hosts": [args.host], "secretName": edge.secret_name}],
            "rules": [{"host": args.host, "http": {"paths": http_paths}}],
        }
        # The controller's admission webhook must answer before an Ingress can be created,
        # and the TLS Secret must exist or nginx serves its fake certificate.
        wait_for = [*([ctl_obj] if ctl_obj is not None else []), *edge.wait_for]
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": ingress_name,
                "namespace": namespace,
                "labels": lift(managed_labels, args.labels),
                "annotations": annotations,
            },
            spec=checks.guard(spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=wait_for),
        )
        self._warn(args, ctl_ref, infos, label)

        cacert = None if args.tls.existing else "ca.crt"
        command = lift(
            lambda h, m: grpcurl_command(h, m, cacert_file=cacert),
            args.host,
            args.grpcurl_method,
        )
        # Tied to the Ingress, so whatever reads them waits until it exists.
        self.host = pulumi.Output.all(self.ingress.id, args.host).apply(lambda v: v[1])
        self.grpcurl_command = pulumi.Output.all(self.ingress.id, command).apply(lambda v: v[1])
        self.ca_cert_pem = edge.ca_cert_pem
        self.ingress_name = pulumi.Output.from_input(ingress_name)
        self.namespace = pulumi.Output.from_input(namespace)
        self.tls_secret_name = pulumi.Output.from_input(edge.secret_name)
        self.annotations = pulumi.Output.from_input(annotations)
        self.register_outputs(
            {
                "host": self.host,
                "grpcurl_command": self.grpcurl_command,
                "ca_cert_pem": self.ca_cert_pem,
            }
        )

    @staticmethod
    def _controller(
        controller: object, where: str, problems: list[str]
    ) -> tuple[IngressControllerRef | None, NginxIngressController | None]:
        if isinstance(controller, NginxIngressController):
            return controller.ref, controller
        if isinstance(controller, (IngressControllerRef, Mapping)):
            try:
                ref = validate_model(
                    IngressControllerRef, controller, where=where, prefix="controller."
                )
            except InvalidArgumentError as exc:
                problems += exc.problems
                return None, None
            return gate(ref, where=f"{where}: controller"), None
        problems.append(
            f"controller: got {type(controller).__name__}; expected a NginxIngressController "
            "(or its facts as an IngressControllerRef). Fix: pass the controller object. For a "
            "Gateway API Gateway, use GrpcRoute."
        )
        return None, None

    @staticmethod
    def _protocol_problems(args: GrpcIngressArgs, infos: Sequence[GrpcServiceRef]) -> list[str]:
        problems = []
        for info in infos:
            if args.backend_protocol == BackendProtocol.GRPCS and not info.tls:
                problems.append(
                    f"backend_protocol: got 'GRPCS', but service {_shown(info.name)} serves "
                    "plaintext h2c, so every call would fail the TLS handshake. Fix: give the "
                    "GrpcService tls=ServerTlsArgs(secret_name=...) and a health_port, or use "
                    "'GRPC'."
                )
            if args.backend_protocol == BackendProtocol.GRPC and info.tls:
                problems.append(
                    f"backend_protocol: got 'GRPC', but service {_shown(info.name)} serves TLS, so "
                    "nginx's cleartext HTTP/2 would be refused. Fix: use 'GRPCS'."
                )
        return problems

    @staticmethod
    def _backend_certificate_problems(
        infos: Sequence[GrpcServiceRef], objects: Mapping[int, GrpcService]
    ) -> list[str]:
        problems: list[str] = []
        for info in infos:
            svc = objects.get(id(info))
            if svc is None:
                problems.append(
                    f"service: {_shown(info.name)} was given as a GrpcServiceRef, which does not "
                    "name the Secret its pods mount, so its GRPCS certificate cannot be issued. "
                    "Fix: pass the GrpcService object, or set issue_backend_certificates=False "
                    "and provide the Secret."
                )
        return problems

    def _warn(
        self,
        args: GrpcIngressArgs,
        controller: IngressControllerRef,
        infos: Sequence[GrpcServiceRef],
        label: str,
    ) -> None:
        def client_body(idle: int | None, body: int | None) -> None:
            if idle is not None and body is not None and idle > body:
                pulumi.log.warn(
                    f"GrpcIngress {label!r}: stream_idle_timeout_seconds={idle} is longer than "
                    f"the controller's client_body_timeout_seconds={body}; a client silent "
                    "that long on a client or bidi stream is still cut. Raise "
                    "client_body_timeout_seconds on the NginxIngressController to match.",
                    resource=self,
                )

        # With Outputs, the comparison waits for them (and warns then).
        lift(client_body, args.stream_idle_timeout_seconds, controller.client_body_timeout_seconds)
        headless = [i.name for i in infos if i.headless]
        if controller.meshed and headless:
            names = lift(lambda *n: list(n), *headless)
            lift(
                lambda n: pulumi.log.warn(
                    f"GrpcIngress {label!r}: {n} are headless Services behind a meshed "
                    "controller. service-upstream is left off (a headless Service has no "
                    "ClusterIP), so nginx balances each call across the pods itself; Linkerd "
                    "adds mTLS but no balancing of its own. Use a ClusterIP GrpcService to let "
                    "Linkerd balance.",
                    resource=self,
                ),
                names,
            )
        if controller.meshed and args.backend_protocol == BackendProtocol.GRPCS:
            pulumi.log.warn(
                f"GrpcIngress {label!r}: GRPCS behind a meshed controller encrypts "
                "twice and hides the calls from Linkerd (it relays TLS it did not originate as "
                "opaque TCP). service-upstream is left off, so nginx still balances each call. "
                "With the mesh, prefer backend_protocol 'GRPC': Linkerd's mTLS is verified, "
                "GRPCS from ingress-nginx is not.",
                resource=self,
            )
