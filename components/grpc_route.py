"""GrpcRoute: publish GrpcServices through a Gateway API Gateway (GrpcGateway, served by NGINX
Gateway Fabric) as one GRPCRoute, and with `max_message_bytes` an NGF ClientSettingsPolicy
for it.

TLS terminates at the Gateway's listener, so the route carries no certificate: the host must be
one the GrpcGateway serves (and its certificate covers). The route lives in the services'
namespace and names them by their Service name and port, read from the services themselves.
Options that exist only on the ingress-nginx path (GrpcIngress) have no GRPCRoute equivalent in
NGF 2.6.7; giving one here is an error that says why (`GATEWAY_PATH_REFUSED`, defined with
GrpcIngress's options in grpc_ingress and re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ._inputs import DeferredChecks, gate, is_output, lift
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_dns_subdomain,
    check_range,
    field_validator,
    validate_model,
)
from .grpc_gateway import (
    GATEWAY_API,
    MAX_GRPC_MESSAGE_BYTES,
    GatewayRef,
    GrpcGateway,
    GrpcMethodMatch,
    client_settings_policy_object,
    grpc_route_object,
    grpc_route_problems,
)
from .grpc_ingress import (
    GATEWAY_PATH_REFUSED,
    GRPC_SERVICE_NAME,
    TLS_BACKEND_REFUSED,
    WHOLE_SERVICE_ROUTE_REFUSED,
    check_client_host,
    check_grpcurl_method,
    check_route_labels,
    grpcurl_command,
    service_ref,
    unique_refs,
)
from .grpc_service import GrpcService, GrpcServiceRef
from .nginx_ingress_controller import IngressControllerRef, NginxIngressController
from .peers import PeerRef

__all__ = [
    "GATEWAY_PATH_REFUSED",
    "TLS_BACKEND_REFUSED",
    "WHOLE_SERVICE_ROUTE_REFUSED",
    "GrpcRoute",
    "GrpcRouteArgs",
]

_FRAME_LIMIT = (
    "a gRPC message's 4-byte length prefix allows at most "
    f"{MAX_GRPC_MESSAGE_BYTES}. Fix: give a smaller size, e.g. 4194304."
)


class GrpcRouteArgs(ArgsModel):
    """Arguments of GrpcRoute. Only `host` is required."""

    host: pulumi.Input[str]
    """The hostname clients dial, e.g. `grpc.example.com` (no wildcard, no IP: it is the
    grpcurl target). The GrpcGateway must have a listener for it, and its certificate must
    cover it."""
    route_name: pulumi.Input[str] | None = None
    """Kubernetes name of the GRPCRoute (default: the component's name). It lives in the
    namespace of the services it routes to, as backendRefs without a ReferenceGrant must."""
    max_message_bytes: pulumi.Input[int] | None = None
    """Largest request message NGINX accepts on this route (default None: the GrpcGateway's
    `max_message_bytes`, else NGINX's 1 MiB). Set, it becomes an NGF ClientSettingsPolicy on
    the route with `body.maxSize` = the message plus its 5-byte frame header (NGF's size
    format, rounded up), overriding the Gateway's. A client stream counts all its messages
    together. Whether it is set is plain (it decides whether the policy exists)."""
    grpcurl_method: pulumi.Input[str] = "helloworld.Greeter/SayHello"
    """Method in the `grpcurl_command` output (default: the helloworld example's). Also `list`
    or `describe` (reflection only)."""
    labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra labels on the GRPCRoute and its policy (default none)."""

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return check_client_host(v)

    @field_validator("route_name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_subdomain(v, what="GRPCRoute name")

    @field_validator("max_message_bytes")
    @classmethod
    def _bytes(cls, v: int | None) -> int | None:
        if v is None:
            return v
        if v > MAX_GRPC_MESSAGE_BYTES:
            raise ValueError(_FRAME_LIMIT)
        return check_range(v, low=1)

    @field_validator("grpcurl_method")
    @classmethod
    def _method(cls, v: str) -> str:
        return check_grpcurl_method(v)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> Mapping[str, str]:
        return check_route_labels(v, owner="GrpcRoute")


def _args(args: object, where: str, problems: list[str]) -> GrpcRouteArgs | None:
    """Validate `args`; GrpcIngress-only options in a dict are reported with the reason the
    Gateway API path has no equivalent, all at once, rather than as unknown fields."""
    if isinstance(args, Mapping):
        refused = sorted(set(args) & set(GATEWAY_PATH_REFUSED))
        for field in refused:
            problems.append(
                f"{field}: set, but it applies to the ingress-nginx path (GrpcIngress) only: "
                f"{GATEWAY_PATH_REFUSED[field]}"
            )
        if "ingress_name" in args:
            problems.append(
                "ingress_name: a GrpcRoute names its GRPCRoute with route_name. Fix: rename "
                "it to route_name."
            )
        args = {k: v for k, v in args.items() if k not in refused and k != "ingress_name"}
    try:
        return validate_model(GrpcRouteArgs, args, where=where)
    except InvalidArgumentError as exc:
        problems += exc.problems
        return None


def _gateway(
    gateway: object, where: str, problems: list[str]
) -> tuple[GatewayRef | None, GrpcGateway | None]:
    if isinstance(gateway, GrpcGateway):
        return gateway.ref, gateway
    if isinstance(gateway, (GatewayRef, Mapping)):
        try:
            ref = validate_model(GatewayRef, gateway, where=where, prefix="gateway.")
        except InvalidArgumentError as exc:
            problems += exc.problems
            return None, None
        return gate(ref, where=f"{where}: gateway"), None
    if isinstance(gateway, (NginxIngressController, IngressControllerRef)):
        problems.append(
            "gateway: got an ingress-nginx controller; a GRPCRoute attaches to a Gateway. Fix: "
            "pass the GrpcGateway, or publish on ingress-nginx with GrpcIngress."
        )
        return None, None
    problems.append(
        f"gateway: got {type(gateway).__name__}; expected a GrpcGateway (or its facts as a "
        "GatewayRef). Fix: pass the GrpcGateway object."
    )
    return None, None


def _method_routes(
    routes: object, where: str, problems: list[str]
) -> list[tuple[GrpcMethodMatch, GrpcServiceRef]]:
    """`routes` keys `package.Service/Method` as method matches; whole services are refused
    (NGF drops method-less matches)."""
    if routes is None:
        return []
    if not isinstance(routes, Mapping):
        problems.append(
            f"routes: got {type(routes).__name__}; expected a mapping of "
            "'package.Service/Method' -> service. Fix: e.g. "
            "routes={'shop.Orders/Place': orders}."
        )
        return []
    out: list[tuple[GrpcMethodMatch, GrpcServiceRef]] = []
    whole: list[str] = []
    for key, svc in routes.items():
        grpc_service, _, method = key.partition("/") if isinstance(key, str) else ("", "", "")
        if isinstance(key, str) and not method and GRPC_SERVICE_NAME.match(key):
            whole.append(key)
            continue
        try:
            match = GrpcMethodMatch(service=grpc_service, method=method)
        except InvalidArgumentError:
            problems.append(
                f"routes: key {key!r} is not a gRPC method. Fix: write "
                "'package.Service/Method', e.g. 'helloworld.Greeter/SayHello'."
            )
            continue
        ref, _ = service_ref(svc, f"routes[{key!r}]", where=where, problems=problems)
        if ref is not None:
            out.append((match, ref))
    if whole:
        problems.append(f"routes: got {whole}; {WHOLE_SERVICE_ROUTE_REFUSED}")
    return out


class GrpcRoute(Component):
    """A GRPCRoute (gateway.networking.k8s.io/v1) on a GrpcGateway's listener, and with
    `max_message_bytes` an NGF ClientSettingsPolicy for it."""

    backends: tuple[GrpcServiceRef, ...]
    """The services it routes to (the default `service` first, then `routes` in order; values
    are Outputs where the services' were)."""
    controller_peer: PeerRef
    """The Gateway's data plane pods that call the backends (for NetworkPolicies / mesh
    authorization)."""
    route_name: pulumi.Output[str]
    """The GRPCRoute's Kubernetes name."""
    namespace: pulumi.Output[str]
    """The GRPCRoute's namespace (its services')."""
    host: pulumi.Output[str]
    """The host, once the GRPCRoute exists."""
    grpcurl_command: pulumi.Output[str]
    """`grpcurl [-cacert ca.crt] <host>:443 <grpcurl_method>`; `-cacert` appears when the
    Gateway's CA is grpc-kube's (or a given TlsSecret's)."""
    ca_cert_pem: pulumi.Output[str | None]
    """PEM of the CA that signed the Gateway's certificate, for `grpcurl -cacert`; None for
    the user's own Secret by name."""
    route: k8s.apiextensions.CustomResource
    """The GRPCRoute object."""
    client_settings_policy: k8s.apiextensions.CustomResource | None
    """The route's ClientSettingsPolicy, with `max_message_bytes`."""

    def __init__(
        self,
        name: str,
        args: GrpcRouteArgs | Mapping[str, Any],
        *,
        gateway: GrpcGateway | GatewayRef | Mapping[str, Any],
        service: GrpcService | GrpcServiceRef | Mapping[str, Any] | None = None,
        routes: Mapping[str, GrpcService | GrpcServiceRef | Mapping[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`gateway`: the GrpcGateway (the route then waits for it), or its facts as a
        GatewayRef (or a dict of its fields) for a Gateway created elsewhere. `service`: the
        service that receives every call (the catch-all rule). `routes`: gRPC method
        (`package.Service/Method`) -> the service for that method. Give either or both; each
        service is a GrpcService, a GrpcServiceRef, or a dict of GrpcServiceRef's fields. Every
        service must be in one namespace the Gateway admits routes from."""
        where = f"GrpcRoute {name!r}"
        problems: list[str] = []
        parsed = _args(args, where, problems)
        gw_ref, gw_obj = _gateway(gateway, where, problems)
        method_routes = _method_routes(routes, where, problems)
        default: GrpcServiceRef | None = None
        if service is not None:
            default, _ = service_ref(service, "service", where=where, problems=problems)
        elif not routes:
            problems.append(
                "service: missing; a GrpcRoute needs a backend. Fix: pass service=<GrpcService>"
                " (and/or routes={'pkg.Service/Method': <GrpcService>})."
            )
        infos = unique_refs(([default] if default else []) + [r for _, r in method_routes])
        tls_backends = [i.name for i in infos if i.tls]
        if tls_backends:
            problems.append(f"service: {tls_backends} {TLS_BACKEND_REFUSED}")
        route_name: Any = name
        if parsed is not None and parsed.route_name is not None:
            route_name = parsed.route_name
        elif parsed is not None:
            try:
                check_dns_subdomain(name, what="GRPCRoute name")
            except ValueError as exc:
                problems.append(f"name: got {name!r}; it becomes the GRPCRoute name, and {exc}")
        if problems or parsed is None or gw_ref is None or not infos:
            raise InvalidArgumentError(where, problems)

        # What the checks and the object read of the Gateway: its CA's PEM (an Output of the
        # CA) only decides the grpcurl command, so it must not defer the checks.
        gw_facts = gw_ref.model_copy(update={"ca_cert_pem": None})
        # Listener, certificate, namespace and match checks: reported before anything registers
        # when every value is plain, else when the values resolve (the route waits for them).
        checks = DeferredChecks(where)
        checks.check(
            lambda gw, host, svc, pairs: grpc_route_problems(
                gateway=gw, hostnames=(host,), service=svc, routes=pairs, host_field="host"
            ),
            gw_facts,
            parsed.host,
            default,
            tuple(method_routes),
        )
        if checks.now:
            raise InvalidArgumentError(where, checks.now)

        super().__init__("GrpcRoute", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(parsed, where=where)
        if args.route_name is not None:
            route_name = args.route_name
        self.args = args
        self.backends = infos
        self.controller_peer = gw_ref.peer

        def build(
            gw: GatewayRef,
            host: str,
            svc: GrpcServiceRef | None,
            pairs: Sequence[tuple[GrpcMethodMatch, GrpcServiceRef]],
            object_name: str,
            labels: Mapping[str, str],
        ) -> dict[str, Any]:
            return grpc_route_object(
                name=object_name,
                gateway=gw,
                hostnames=(host,),
                service=svc,
                routes=pairs,
                labels=labels,
            )

        # The object is built only from values that passed the checks.
        obj = lift(
            build,
            checks.guard(gw_facts),
            args.host,
            default,
            tuple(method_routes),
            route_name,
            args.labels,
        )
        route_opts = pulumi.ResourceOptions(
            parent=self,
            # The Gateway (and through it NGF and the listener's TLS Secret) must exist first.
            depends_on=[gw_obj] if gw_obj is not None else None,
        )
        if is_output(obj):
            self.route = k8s.apiextensions.CustomResource(
                f"{name}-grpcroute",
                api_version=GATEWAY_API,
                kind="GRPCRoute",
                metadata=obj.apply(lambda o: o["metadata"]),
                spec=obj.apply(lambda o: o["spec"]),
                opts=route_opts,
            )
        else:
            self.route = k8s.apiextensions.CustomResource(
                f"{name}-grpcroute",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=route_opts,
            )
        namespace = infos[0].namespace
        self.client_settings_policy = None
        if args.max_message_bytes is not None:
            # This route's limit overrides the Gateway's (NGF writes a route's policy into its
            # locations, the Gateway's into the server block).
            policy = client_settings_policy_object(
                name=lift(lambda n: f"{n}-client-settings", route_name),
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.route]),
            )
        if any(i.headless for i in infos) and gw_ref.mesh:
            label = name if is_output(route_name) else route_name
            pulumi.log.warn(
                f"GrpcRoute {label!r}: headless Services behind a meshed gateway get no "
                "per-request balancing from Linkerd; NGINX Gateway Fabric still balances each "
                "call across the pods.",
                resource=self,
            )
        cacert = "ca.crt" if gw_ref.ca_cert_pem is not None else None
        command = lift(
            lambda h, m: grpcurl_command(h, m, cacert_file=cacert), args.host, args.grpcurl_method
        )
        # Tied to the GRPCRoute, so whatever reads them waits until it exists.
        self.host = pulumi.Output.all(self.route.id, args.host).apply(lambda v: v[1])
        self.grpcurl_command = pulumi.Output.all(self.route.id, command).apply(lambda v: v[1])
        self.ca_cert_pem = pulumi.Output.from_input(gw_ref.ca_cert_pem)
        self.route_name = pulumi.Output.from_input(route_name)
        self.namespace = pulumi.Output.from_input(namespace)
        self.register_outputs(
            {
                "host": self.host,
                "grpcurl_command": self.grpcurl_command,
                "ca_cert_pem": self.ca_cert_pem,
            }
        )
