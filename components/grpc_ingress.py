"""GrpcIngress: publish GrpcServices through the ingress-nginx controller, with TLS at the edge
and nginx balancing every gRPC call (HTTP/2 stream) across the pods.

This is the founding document's first fix written as an object: the Ingress takes the GrpcService
it fronts, so its backend name and port come from the Service itself (the port mismatch the
document warns about cannot be written), and the controller, so `ingressClassName` and the
`service-upstream` rule follow from how the controller runs. TLS handling lives in
`certificates` (`EdgeTlsArgs`, `provision_edge_tls`, `issue_tls_secret`) and the grpcurl
command in `grpcurl_command`, so a Gateway API route can reuse both.

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
from collections.abc import Mapping
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_annotation_keys,
    check_dns_subdomain,
    check_label_map,
    field_validator,
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
from .grpc_gateway import (
    GRPC_SERVICE_PATTERN,
    MAX_GRPC_MESSAGE_BYTES,
    GrpcGateway,
    client_settings_policy_object,
    grpc_route_object,
    grpc_route_problems,
)
from .grpc_service import GrpcService, GrpcServiceRef
from .nginx_ingress_controller import NginxIngressController
from .peers import PeerRef

__all__ = [
    "ANNOTATION_PREFIX",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "GATEWAY_PATH_REFUSED",
    "GRPC_FRAME_HEADER_BYTES",
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

BackendProtocol = Literal["GRPC", "GRPCS"]

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
# equivalent in NGINX Gateway Fabric 2.6.7 (setting one with a GrpcGateway is an error).
GATEWAY_PATH_REFUSED: dict[str, str] = {
    "tls": "with a GrpcGateway TLS terminates at the Gateway's listener. Fix: remove "
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
    "NGF's policies (e.g. GrpcGatewayArgs.max_message_bytes) cover some.",
}


def body_size_for(max_message_bytes: int) -> str:
    """`proxy-body-size` that lets one message of `max_message_bytes` through: nginx counts the
    5-byte gRPC frame header too (measured: a 64k limit passes a 65531-byte message, not
    65532)."""
    return str(max_message_bytes + GRPC_FRAME_HEADER_BYTES)


def grpcurl_command(
    host: str, method: str, *, port: int = 443, cacert_file: str | None = None
) -> str:
    """The founding document's check, ready to paste: `grpcurl [-cacert FILE] host:443 METHOD`.

    Needs server reflection on the backend. With a private CA, write its PEM to `cacert_file`
    first (`pulumi stack output ca_cert_pem > ca.crt`)."""
    parts = ["grpcurl"]
    if cacert_file:
        parts += ["-cacert", cacert_file]
    parts += [f"{host}:{port}", method]
    return " ".join(parts)


def use_service_upstream(
    *, controller_meshed: bool, backend_protocol: BackendProtocol, headless_backends: bool
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
    backend_protocol: BackendProtocol,
    controller_meshed: bool,
    stream_idle_timeout_seconds: int | None,
    connect_timeout_seconds: int | None,
    max_message_bytes: int | None,
    headless_backends: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The ingress-nginx annotations of a gRPC Ingress (a pure function: tested without mocks).
    `service-upstream` follows `use_service_upstream`."""
    p = ANNOTATION_PREFIX
    out = {
        f"{p}ssl-redirect": "true",
        f"{p}backend-protocol": backend_protocol,
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


class GrpcIngressArgs(ArgsModel):
    """Arguments of GrpcIngress. Only `host` is required."""

    host: str
    """The hostname clients dial, e.g. `grpctest.dev.mydomain.com` (no wildcard, no IP: it is
    also the certificate's name and the grpcurl target)."""
    ingress_name: str | None = None
    """Kubernetes name of the Ingress (default: the component's name). It lives in the
    namespace of the services it fronts, as Ingress backends must."""
    tls: EdgeTlsArgs = EdgeTlsArgs()
    """The TLS Secret in the Ingress's TLS block (default: a certificate for `host` issued by an
    internal CA, stored as `<ingress_name>-tls`; `tls.existing=True` uses your own Secret).
    A TlsSecret object can be passed instead with the `tls_secret=` keyword."""
    backend_protocol: BackendProtocol = "GRPC"
    """How nginx talks to the pods (default `GRPC`: HTTP/2 cleartext, for services without
    `tls`). `GRPCS` re-encrypts to pods that serve TLS (GrpcService `tls=ServerTlsArgs(...)`);
    ingress-nginx does not verify their certificate (see docs/ingress.md), the Linkerd mesh
    gives verified mTLS instead."""
    issue_backend_certificates: bool = True
    """With GRPCS: issue each service a certificate for its cluster DNS names from the internal
    CA and store it as the Secret the service mounts (`ServerTlsArgs.secret_name`), default
    True. False when you provide those Secrets yourself (cert-manager...)."""
    stream_idle_timeout_seconds: int | None = 3600
    """How long a call may go without a message from the backend (read) or to it (send) before
    nginx cuts it (`proxy-read-timeout` and `proxy-send-timeout`, in seconds). Default 3600:
    nginx's 60 cuts a stream silent for a minute. Streams that keep talking are never cut by
    it; a client silent on a client/bidi stream is bounded by the controller's
    `client_body_timeout_seconds`. None: no annotation, the controller-wide value applies."""
    connect_timeout_seconds: int | None = None
    """`proxy-connect-timeout`: seconds to open a connection to a pod (default None: the
    controller's 5 s; nginx caps it near 75)."""
    max_message_bytes: int | None = DEFAULT_MAX_MESSAGE_BYTES
    """Largest request message nginx accepts (default 4 MiB, gRPC's default limit), written as
    `proxy-body-size` with the 5-byte gRPC frame header added. nginx counts a client stream's
    messages together, so for client streaming give the largest total. None: no annotation,
    the controller-wide value applies (1m unless changed). On the Gateway API path it acts only
    when set explicitly (an NGF ClientSettingsPolicy); otherwise NGINX's 1 MiB applies."""
    grpcurl_method: str = "helloworld.Greeter/SayHello"
    """Method in the `grpcurl_command` output (default: the founding example's). Also `list`
    or `describe` (reflection only)."""
    annotations: dict[str, str] = {}
    """Extra Ingress annotations (default none), e.g.
    `nginx.ingress.kubernetes.io/whitelist-source-range`. Those GrpcIngress sets itself and
    `*-snippet` ones are refused."""
    labels: dict[str, str] = {}
    """Extra labels on the Ingress (default none)."""

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            pass
        else:
            raise ValueError(
                "an Ingress host cannot be an IP address. Fix: use a DNS name that resolves "
                "to the controller's address, e.g. 'grpc.example.com'."
            )
        if v.startswith("*."):
            raise ValueError(
                "a wildcard host cannot be dialled by grpcurl nor issued a specific "
                f"certificate. Fix: give the concrete host, e.g. {'grpc.' + v[2:]!r}."
            )
        return check_hostname(v, wildcard_ok=False)

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
        if v in ("list", "describe") or _GRPC_METHOD.match(v):
            return v
        raise ValueError(
            "grpcurl takes `package.Service/Method`, `list` or `describe`. Fix: use e.g. "
            "'helloworld.Greeter/SayHello'."
        )

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
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v)
        if "app.kubernetes.io/managed-by" in v:
            raise ValueError(
                "label 'app.kubernetes.io/managed-by' is set by GrpcIngress. Fix: remove it."
            )
        return v


class GrpcIngress(Component):
    """An Ingress (networking.k8s.io/v1) for gRPC on ingress-nginx, its TLS Secret, and with
    GRPCS the backends' certificates."""

    backends: tuple[GrpcServiceRef, ...]
    """The services it fronts (the default `service` first, then `routes` in order)."""
    via: str
    """`ingress-nginx` (an Ingress) or `gateway-api` (a GRPCRoute), from the controller given."""
    controller_peer: PeerRef
    """The controller pods that call the backends (for NetworkPolicies / mesh authorization)."""
    ingress_name: str
    namespace: str
    tls_secret_name: str
    annotations: dict[str, str]
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

    def __init__(
        self,
        name: str,
        args: GrpcIngressArgs,
        *,
        service: GrpcService | None = None,
        routes: Mapping[str, GrpcService] | None = None,
        controller: NginxIngressController | GrpcGateway,
        tls_secret: TlsSecret | None = None,
        ca: CertificateAuthority | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`service`: the GrpcService behind path `/` (every call). `routes`: fully qualified
        gRPC service name -> GrpcService, each behind path `/<name>` (e.g. `helloworld.Greeter`
        routes `/helloworld.Greeter/*`). Give either or both. `controller`: the entry point,
        and the one argument that picks the path: a NginxIngressController (an Ingress) or a
        GrpcGateway (a Gateway API GRPCRoute; TLS is then the Gateway's). `tls_secret`: a
        TlsSecret to serve instead of `args.tls`. `ca`: the CA that issues generated
        certificates (default: one is created, `<name>-ca`)."""
        if not isinstance(args, GrpcIngressArgs):
            raise TypeError(
                f"GrpcIngress {name!r}: args must be a GrpcIngressArgs, got "
                f"{type(args).__name__}. Fix: GrpcIngress(name, GrpcIngressArgs(host=...), "
                "service=..., controller=...)."
            )
        where = f"GrpcIngress {name!r}"
        problems: list[str] = []
        if isinstance(controller, GrpcGateway):
            self._init_gateway_route(name, args, controller, service, routes, tls_secret, ca, opts)
            return
        if not isinstance(controller, NginxIngressController):
            problems.append(
                f"controller: got {type(controller).__name__}; expected a "
                "NginxIngressController (Ingress path) or a GrpcGateway (Gateway API path). "
                "Fix: pass the controller or gateway object."
            )
        paths, services, infos, ingress_name, namespace = self._backends(
            name, args, service, routes, problems, kind="Ingress"
        )
        problems += self._protocol_problems(args, infos)
        if ca is not None and not isinstance(ca, CertificateAuthority):
            problems.append(
                f"ca: got {type(ca).__name__}; expected a CertificateAuthority. Fix: pass a "
                "CertificateAuthority object, or leave ca out to have one generated."
            )
            ca = None
        if namespace:
            problems += edge_tls_problems(
                args.tls, hosts=(args.host,), namespace=namespace, tls_secret=tls_secret, issuer=ca
            )
        issue_backend = args.backend_protocol == "GRPCS" and args.issue_backend_certificates
        if issue_backend and ca is not None:
            problem = issuer_validity_problem(
                ca, BACKEND_CERT_VALIDITY_HOURS, field="ca (backend certificates)"
            )
            if problem:
                problems.append(problem)
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("GrpcIngress", name, opts)
        self.args = args
        self.backends = infos
        self.controller_peer = controller.peer
        self.via = "ingress-nginx"
        self.ingress_name = ingress_name
        self.namespace = namespace
        child = pulumi.ResourceOptions(parent=self)

        needs_ca = (tls_secret is None and not args.tls.existing) or issue_backend
        issuer = ca
        if needs_ca and issuer is None:
            issuer = CertificateAuthority(
                f"{name}-ca",
                CertificateAuthorityArgs(common_name=f"grpc-kube ingress {ingress_name} CA"),
                opts=child,
            )
        edge = provision_edge_tls(
            f"{name}-edge-tls",
            args.tls,
            hosts=(args.host,),
            namespace=namespace,
            default_secret_name=f"{ingress_name}-tls",
            tls_secret=tls_secret,
            issuer=issuer,
            parent=self,
        )
        self.tls_secret_name = edge.secret_name
        if issue_backend and issuer is not None:
            for svc in services:
                assert svc.args.tls is not None  # GRPCS: every service serves TLS (checked)
                issue_tls_secret(
                    f"{name}-backend-{svc.ref.name}-tls",
                    issuer=issuer,
                    dns_names=kubernetes_service_dns_names(svc.ref.name, svc.ref.namespace),
                    namespace=svc.ref.namespace,
                    secret_name=svc.args.tls.secret_name,
                    validity_hours=BACKEND_CERT_VALIDITY_HOURS,
                    early_renewal_hours=BACKEND_CERT_EARLY_RENEWAL_HOURS,
                    parent=self,
                )

        self.annotations = nginx_grpc_annotations(
            backend_protocol=args.backend_protocol,
            controller_meshed=controller.meshed,
            headless_backends=any(i.headless for i in infos),
            stream_idle_timeout_seconds=args.stream_idle_timeout_seconds,
            connect_timeout_seconds=args.connect_timeout_seconds,
            max_message_bytes=args.max_message_bytes,
            extra=args.annotations,
        )
        http_paths = [
            {
                "path": path,
                "pathType": "Prefix",
                "backend": {"service": {"name": info.name, "port": {"number": info.port}}},
            }
            for path, info in ((path, svc.ref) for path, svc in paths)
        ]
        ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": ingress_name,
                "namespace": namespace,
                "labels": {**args.labels, "app.kubernetes.io/managed-by": "grpc-kube"},
                "annotations": self.annotations,
            },
            spec={
                "ingressClassName": controller.ingress_class,
                "tls": [{"hosts": [args.host], "secretName": edge.secret_name}],
                "rules": [{"host": args.host, "http": {"paths": http_paths}}],
            },
            # The controller's admission webhook must answer before an Ingress can be created,
            # and the TLS Secret must exist or nginx serves its fake certificate.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[controller, *edge.wait_for]),
        )
        self.ingress = ingress
        self._warn(args, controller, infos)

        host = args.host
        command = grpcurl_command(
            host, args.grpcurl_method, cacert_file=None if args.tls.existing else "ca.crt"
        )
        self.host = ingress.id.apply(lambda _: host)
        self.grpcurl_command = ingress.id.apply(lambda _: command)
        self.ca_cert_pem = edge.ca_cert_pem
        self.register_outputs(
            {
                "host": self.host,
                "grpcurl_command": self.grpcurl_command,
                "ca_cert_pem": self.ca_cert_pem,
            }
        )

    def _init_gateway_route(
        self,
        name: str,
        args: GrpcIngressArgs,
        gateway: GrpcGateway,
        service: GrpcService | None,
        routes: Mapping[str, GrpcService] | None,
        tls_secret: TlsSecret | None,
        ca: CertificateAuthority | None,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        """The Gateway API path: one GRPCRoute attached to the gateway's listener for the host,
        and with `max_message_bytes` set explicitly an NGF ClientSettingsPolicy for it.

        TLS terminates at the Gateway, so the route carries no certificate. ingress-nginx-only
        options have no GRPCRoute equivalent in NGF 2.6.7, so setting them here is an error
        rather than silently ignored."""
        where = f"GrpcIngress {name!r}"
        problems: list[str] = []
        paths, _, infos, route_name, namespace = self._backends(
            name, args, service, routes, problems, kind="GRPCRoute"
        )
        for field in sorted(set(GATEWAY_PATH_REFUSED) & args.model_fields_set):
            problems.append(
                f"{field}: set, but it applies to the ingress-nginx path only: "
                f"{GATEWAY_PATH_REFUSED[field]}"
            )
        if tls_secret is not None or ca is not None:
            problems.append(
                "tls_secret/ca: given, but on the Gateway API path the Gateway's listener holds "
                "the certificate. Fix: pass them to the GrpcGateway (tls_secret= / ca=) instead."
            )
        tls_backends = [i.name for i in infos if i.tls]
        if tls_backends:
            problems.append(
                f"service: {tls_backends} serve TLS, but GrpcIngress's Gateway API path sends "
                "h2c (re-encryption would need a BackendTLSPolicy, not built here). Fix: serve "
                "h2c and mesh the gateway and the service for verified mTLS, or use ingress-nginx "
                "GRPCS."
            )
        mmb = args.max_message_bytes
        if "max_message_bytes" in args.model_fields_set and mmb and mmb > MAX_GRPC_MESSAGE_BYTES:
            problems.append(
                f"max_message_bytes: got {mmb}; a gRPC message's 4-byte length prefix allows at "
                f"most {MAX_GRPC_MESSAGE_BYTES}. Fix: give a smaller size, e.g. 4194304."
            )
        by_service = [path[1:] for path, _ in paths if path != "/"]
        if by_service:
            # A `routes` key names a whole gRPC service. In a GRPCRoute that is a match with a
            # service and no method, which is not Gateway API Core and which NGF 2.6.7 drops
            # ("method is required"): the calls would fall through to `service`, or fail.
            problems.append(
                f"routes: got {by_service}; routing a whole gRPC service is a GRPCRoute match "
                "without a method, which NGINX Gateway Fabric 2.6.7 rejects (it accepts only "
                "service+method matches, the Gateway API's Core support), so those calls would "
                "never reach their service. Fix: publish each service on its own host (one "
                "GrpcIngress with service= per host, all hosts on the GrpcGateway), or use the "
                "ingress-nginx path for routing by service name."
            )
        default = next((svc.ref for path, svc in paths if path == "/"), None)
        if paths:
            # Host, certificate and namespace checks, reported with the problems above.
            problems += grpc_route_problems(
                gateway=gateway,
                hostnames=(args.host,),
                service=default or paths[0][1].ref,
                host_field="host",
            )
        if problems:
            raise InvalidArgumentError(where, problems)

        assert default is not None  # no routes and a valid service, else a problem above
        super().__init__("GrpcIngress", name, opts)
        self.args = args
        self.backends = infos
        self.controller_peer = gateway.peer
        self.via = "gateway-api"
        self.ingress_name = route_name
        self.namespace = namespace
        self.tls_secret_name = gateway.tls_secret_name
        self.annotations = {}

        obj = grpc_route_object(
            name=route_name,
            gateway=gateway,
            hostnames=(args.host,),
            service=default,
            labels=args.labels,
        )
        # The Gateway (and through it NGF and the listener's TLS Secret) must exist first.
        route = k8s.apiextensions.CustomResource(
            f"{name}-grpcroute",
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            metadata=obj["metadata"],
            spec=obj["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
        )
        self.route = route
        self.client_settings_policy: k8s.apiextensions.CustomResource | None = None
        if "max_message_bytes" in args.model_fields_set and args.max_message_bytes is not None:
            # Set explicitly: this route's limit overrides the Gateway's (NGF writes a route's
            # policy into its locations, the Gateway's into the server block).
            policy = client_settings_policy_object(
                name=f"{route_name}-client-settings",
                namespace=namespace,
                target_kind="GRPCRoute",
                target_name=route_name,
                max_message_bytes=args.max_message_bytes,
                labels=args.labels,
            )
            self.client_settings_policy = k8s.apiextensions.CustomResource(
                f"{name}-client-settings",
                api_version=policy["apiVersion"],
                kind=policy["kind"],
                metadata=policy["metadata"],
                spec=policy["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[route]),
            )
        if any(i.headless for i in infos) and gateway.peer.meshed:
            pulumi.log.warn(
                f"GrpcIngress {route_name!r}: headless Services behind a meshed gateway get no "
                "per-request balancing from Linkerd; NGINX Gateway Fabric still balances each "
                "call across the pods.",
                resource=self,
            )
        host = args.host
        command = grpcurl_command(
            host,
            args.grpcurl_method,
            cacert_file="ca.crt" if gateway.ca_cert_pem is not None else None,
        )
        self.host = route.id.apply(lambda _: host)
        self.grpcurl_command = route.id.apply(lambda _: command)
        self.ca_cert_pem = (
            gateway.ca_cert_pem.apply(lambda pem: pem)
            if gateway.ca_cert_pem is not None
            else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "host": self.host,
                "grpcurl_command": self.grpcurl_command,
                "ca_cert_pem": self.ca_cert_pem,
            }
        )

    @classmethod
    def _backends(
        cls,
        name: str,
        args: GrpcIngressArgs,
        service: GrpcService | None,
        routes: Mapping[str, GrpcService] | None,
        problems: list[str],
        *,
        kind: str,
    ) -> tuple[
        list[tuple[str, GrpcService]], list[GrpcService], tuple[GrpcServiceRef, ...], str, str
    ]:
        """Checks shared by both paths. Returns the paths, the distinct services, their infos,
        the object name and the (single) namespace; appends problems instead of raising."""
        paths = cls._paths(service, routes, problems)
        services = cls._unique([svc for _, svc in sorted(paths, key=lambda p: p[0] != "/")])
        infos = tuple(svc.ref for svc in services)
        object_name = args.ingress_name or name
        if args.ingress_name is None:
            try:
                check_dns_subdomain(name, what=f"{kind} name")
            except ValueError as exc:
                problems.append(f"name: got {name!r}; it becomes the {kind} name, and {exc}")
        namespaces = sorted({i.namespace for i in infos})
        if len(namespaces) > 1:
            problems.append(
                f"service/routes: the services are in namespaces {namespaces}, but an {kind} "
                "only reaches Services in its own namespace. Fix: one GrpcIngress per "
                "namespace (they can share the host only with different paths)."
            )
        namespace = namespaces[0] if len(namespaces) == 1 else ""
        return paths, services, infos, object_name, namespace

    @staticmethod
    def _paths(
        service: GrpcService | None,
        routes: Mapping[str, GrpcService] | None,
        problems: list[str],
    ) -> list[tuple[str, GrpcService]]:
        paths: list[tuple[str, GrpcService]] = []
        for grpc_name, svc in (routes or {}).items():
            if not isinstance(grpc_name, str) or not GRPC_SERVICE_PATTERN.match(grpc_name):
                problems.append(
                    f"routes: key {grpc_name!r} is not a fully qualified gRPC service name. Fix: "
                    "use e.g. 'helloworld.Greeter' (package.Service, no slashes)."
                )
            elif not isinstance(svc, GrpcService):
                problems.append(
                    f"routes[{grpc_name!r}]: got {type(svc).__name__}; expected a GrpcService. "
                    "Fix: pass the GrpcService object, not its name."
                )
            else:
                paths.append((f"/{grpc_name}", svc))
        if service is not None:
            if isinstance(service, GrpcService):
                paths.append(("/", service))
            else:
                problems.append(
                    f"service: got {type(service).__name__}; expected a GrpcService. Fix: pass "
                    "the GrpcService object (GrpcIngress reads its name and port from it)."
                )
        elif not routes:
            problems.append(
                "service: missing; a GrpcIngress needs a backend. Fix: pass service=<GrpcService>"
                " (and/or routes={'pkg.Service': <GrpcService>})."
            )
        return paths

    @staticmethod
    def _protocol_problems(args: GrpcIngressArgs, infos: tuple[GrpcServiceRef, ...]) -> list[str]:
        problems = []
        for info in infos:
            if args.backend_protocol == "GRPCS" and not info.tls:
                problems.append(
                    f"backend_protocol: got 'GRPCS', but service {info.name!r} serves plaintext "
                    "h2c, so every call would fail the TLS handshake. Fix: give the GrpcService "
                    "tls=ServerTlsArgs(secret_name=...) and a health_port, or use 'GRPC'."
                )
            if args.backend_protocol == "GRPC" and info.tls:
                problems.append(
                    f"backend_protocol: got 'GRPC', but service {info.name!r} serves TLS, so "
                    "nginx's cleartext HTTP/2 would be refused. Fix: use 'GRPCS'."
                )
        return problems

    @staticmethod
    def _unique(services: list[GrpcService]) -> list[GrpcService]:
        """Each Kubernetes Service once (a service may serve `/` and some routes)."""
        seen: dict[tuple[str, str], GrpcService] = {}
        for svc in services:
            seen.setdefault((svc.ref.namespace, svc.ref.name), svc)
        return list(seen.values())

    def _warn(
        self,
        args: GrpcIngressArgs,
        controller: NginxIngressController,
        infos: tuple[GrpcServiceRef, ...],
    ) -> None:
        idle = args.stream_idle_timeout_seconds
        if idle is not None and idle > controller.client_body_timeout_seconds:
            pulumi.log.warn(
                f"GrpcIngress {self.ingress_name!r}: stream_idle_timeout_seconds={idle} is "
                "longer than the controller's client_body_timeout_seconds="
                f"{controller.client_body_timeout_seconds}; a client silent that long on a "
                "client or bidi stream is still cut. Raise client_body_timeout_seconds on the "
                "NginxIngressController to match.",
                resource=self,
            )
        headless = [i.name for i in infos if i.headless]
        if controller.meshed and headless:
            pulumi.log.warn(
                f"GrpcIngress {self.ingress_name!r}: {headless} are headless Services behind a "
                "meshed controller. service-upstream is left off (a headless Service has no "
                "ClusterIP), so nginx balances each call across the pods itself; Linkerd adds "
                "mTLS but no balancing of its own. Use a ClusterIP GrpcService to let Linkerd "
                "balance.",
                resource=self,
            )
        if controller.meshed and args.backend_protocol == "GRPCS":
            pulumi.log.warn(
                f"GrpcIngress {self.ingress_name!r}: GRPCS behind a meshed controller encrypts "
                "twice and hides the calls from Linkerd (it relays TLS it did not originate as "
                "opaque TCP). service-upstream is left off, so nginx still balances each call. "
                "With the mesh, prefer backend_protocol 'GRPC': Linkerd's mTLS is verified, "
                "GRPCS from ingress-nginx is not.",
                resource=self,
            )
