"""The component package: grpc-kube's components for TypeScript, Go, C#, Java and YAML programs.

Pulumi serves Python components to other languages through a provider plugin (`provider/` holds
its `PulumiPlugin.yaml` and entry point). The plugin's schema is inferred by Pulumi's analyzer
(`pulumi.provider.experimental`) from type annotations, and the analyzer reads a narrower
dialect than the Python API is written in: it does not evaluate postponed annotations, and it
has no unions, `Literal`s, tuples, pydantic defaults or keyword-only object arguments. Rather
than bend the Python API to that dialect (and lose `GrpcIngress(..., controller=nginx)`, string
literals checked by mypy, and errors that name the field), this module derives the analyzer's
view from the same classes:

- every args model becomes a TypedDict of the same name whose fields are the model's fields
  (`NotRequired` when the model has a default), documented by the model's own field docstrings;
- `Literal[...]` becomes an enum, `tuple[X, ...]` a list, `X | None` an optional `X`, a union of
  a component and its plain-data ref (`GrpcService | GrpcServiceRef`) the ref;
- the keyword-only object arguments a component takes in Python (`controller=`, `service=`,
  `connections=`...) become input fields holding the plain-data refs the components output
  (`IngressControllerRef`, `GrpcServiceRef`, `PeerRef`...), documented in `*Objects` classes
  below;
- a component's outputs are its annotated attributes that are data (`pulumi.Output`s, scalars,
  refs); handles to Python objects (the Deployment, the Helm release) stay Python-only.

The values then reach the real component, which runs every check it runs for Python callers:
the same errors, with the same field names.

The plugin runs `GrpcKubeProvider`, Pulumi's ComponentProvider (what `component_provider_host`
serves) with three additions: the analyzer reads each field's description where the field is
declared, a component's state is converted to plain data (refs to dicts), and a ref that another
language passes as one resolved Output (`controller: nginx.ref`) is settled to its value first.

Components that need another component object which has no plain-data form (Certificate and
TlsSecret need their issuer's private key, GrpcGateway and NginxGatewayFabric the controller
and CRD installation, EdgeAuthorization the edge workload the controllers compute) are not in
the package; `GrpcPlatform` builds those from configuration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import json
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, get_args, get_origin

import pulumi
import pydantic
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.schema import generate_schema
from pulumi.provider.provider import Provider

from ._helm import InstallArgs
from ._namespaces import PodSecurityLevel
from ._ordering import Component
from .certificates import CertificateAuthority, KeyAlgorithm
from .gateway_api_crds import GatewayApiCrds
from .grpc_gateway import GatewayRef
from .grpc_ingress import GrpcIngress
from .grpc_route import GrpcRoute
from .grpc_service import GrpcService, GrpcServiceRef
from .linkerd_control_plane import InboundPolicy, LinkerdControlPlane
from .mesh_authorization import MeshAuthorization, ServiceAccountRef
from .mesh_enabled_namespace import MeshEnabledNamespace
from .nginx_ingress_controller import (
    IngressControllerRef,
    LoadBalance,
    NginxIngressController,
    ServiceType,
)
from .peers import PeerRef
from .stack import GrpcPlatform
from .zero_trust_policy import Allow, PolicyType, ZeroTrustPolicy

__all__ = ["PACKAGE_NAME", "GrpcKubeProvider", "plain_data", "schema"]

PACKAGE_NAME = "grpc-kube"
"""The package name: type tokens are `grpc-kube:index:<Component>`, as the components register."""

# Plain-data classes other components take: the analyzer sees each as an object type.
_REFS: tuple[type, ...] = (
    GrpcServiceRef,
    GatewayRef,
    IngressControllerRef,
    PeerRef,
    ServiceAccountRef,
    InstallArgs,
)

# The value sets the Python API names, as one enum each wherever they appear; any other
# `Literal` becomes an enum named after its class and field.
_ENUM_NAMES: dict[tuple[Any, ...], str] = {
    get_args(InboundPolicy): "InboundPolicy",
    get_args(PodSecurityLevel): "PodSecurityLevel",
    get_args(KeyAlgorithm): "KeyAlgorithm",
    get_args(LoadBalance): "LoadBalance",
    get_args(ServiceType): "ServiceType",
    get_args(PolicyType): "PolicyType",
}


# --- the object arguments, as plain data ------------------------------------------------------
# One class per component that takes objects in Python. Field docstrings become the schema's
# descriptions; `build` below turns the values back into the Python call.


class GrpcIngressObjects(TypedDict):
    controller: pulumi.Input[IngressControllerRef]
    """The ingress-nginx controller (a NginxIngressController's `ref`)."""
    service: NotRequired[pulumi.Input[GrpcServiceRef]]
    """The service every call goes to (a GrpcService's `ref`); give this or `routes`."""
    routes: NotRequired[dict[str, pulumi.Input[GrpcServiceRef]]]
    """gRPC service name (`package.Service`) to the service that serves it; give this or
    `service`."""


class GrpcRouteObjects(TypedDict):
    gateway: pulumi.Input[GatewayRef]
    """The Gateway the route attaches to (a GrpcGateway's `ref`, e.g. from GrpcPlatform)."""
    service: NotRequired[pulumi.Input[GrpcServiceRef]]
    """The service every call goes to (a GrpcService's `ref`); give this or `routes`."""
    routes: NotRequired[dict[str, pulumi.Input[GrpcServiceRef]]]
    """gRPC service name (`package.Service`) to the service that serves it; give this or
    `service`."""


class Connection(TypedDict):
    """Pods of `client` may call `server` on the server's ports."""

    client: pulumi.Input[PeerRef]
    """The calling pods (a GrpcService's `peer`, or any pods described as a PeerRef)."""
    server: pulumi.Input[PeerRef]
    """The called pods (a GrpcService's `peer`: its container port, never its health port)."""


class IngressPeers(TypedDict):
    """What a GrpcIngress or GrpcRoute outputs for policies: the services it fronts and the
    controller pods that call them."""

    backends: pulumi.Input[list[GrpcServiceRef]]
    """The services it fronts (the ingress's or route's `backends`)."""
    controller_peer: pulumi.Input[PeerRef]
    """The controller or gateway pods that call the backends."""


class ZeroTrustPolicyObjects(TypedDict):
    connections: NotRequired[list[Connection]]
    """Allowed calls between pods (default none)."""
    ingresses: NotRequired[list[IngressPeers]]
    """Ingresses and routes whose controller may call their backends (default none)."""
    mesh: NotRequired[bool]
    """The namespace's pods run a Linkerd proxy (default false): opens the proxies' ports and
    their egress to the Linkerd control plane."""


class MeshAuthorizationObjects(TypedDict):
    server: pulumi.Input[GrpcServiceRef]
    """The meshed service whose port is authorized (a GrpcService's `ref`)."""
    allow_peers: NotRequired[list[pulumi.Input[PeerRef]]]
    """Pods allowed to call it, by their ServiceAccount (a GrpcService's `peer`)."""
    allow_service_accounts: NotRequired[list[pulumi.Input[ServiceAccountRef]]]
    """ServiceAccounts allowed to call it, for clients grpc-kube did not create."""


def _ref(cls: type, value: Any) -> Any:
    """A plain-data ref rebuilt from the dict the provider received."""
    if isinstance(value, cls) or not isinstance(value, Mapping):
        return value
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return cls.model_validate(dict(value))
    return cls(**value)


def _routes(value: Any) -> Any:
    if value is None:
        return None
    return {k: _ref(GrpcServiceRef, v) for k, v in value.items()}


def _split(args: Mapping[str, Any], objects: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the args model's fields, the object arguments)."""
    names = set(objects.__annotations__)
    rest = {k: v for k, v in args.items() if k not in names}
    return rest, {k: v for k, v in args.items() if k in names}


def _grpc_ingress(name: str, args: Mapping[str, Any], opts: Any) -> Component:
    rest, obj = _split(args, GrpcIngressObjects)
    return GrpcIngress(
        name,
        rest,
        controller=_ref(IngressControllerRef, obj.get("controller")),
        service=_ref(GrpcServiceRef, obj.get("service")),
        routes=_routes(obj.get("routes")),
        opts=opts,
    )


def _grpc_route(name: str, args: Mapping[str, Any], opts: Any) -> Component:
    rest, obj = _split(args, GrpcRouteObjects)
    return GrpcRoute(
        name,
        rest,
        gateway=_ref(GatewayRef, obj.get("gateway")),
        service=_ref(GrpcServiceRef, obj.get("service")),
        routes=_routes(obj.get("routes")),
        opts=opts,
    )


@dataclasses.dataclass
class _Fronted:
    backends: tuple[GrpcServiceRef, ...]
    controller_peer: PeerRef


def _zero_trust_policy(name: str, args: Mapping[str, Any], opts: Any) -> Component:
    rest, obj = _split(args, ZeroTrustPolicyObjects)
    connections = [
        Allow(client=_ref(PeerRef, c["client"]), server=_ref(PeerRef, c["server"]))
        for c in obj.get("connections") or []
    ]
    ingresses = [
        _Fronted(
            backends=tuple(_ref(GrpcServiceRef, b) for b in i.get("backends") or []),
            controller_peer=_ref(PeerRef, i["controller_peer"]),
        )
        for i in obj.get("ingresses") or []
    ]
    return ZeroTrustPolicy(
        name,
        rest,
        connections=connections,
        ingresses=ingresses,
        mesh=bool(obj.get("mesh", False)),
        opts=opts,
    )


def _mesh_authorization(name: str, args: Mapping[str, Any], opts: Any) -> Component:
    rest, obj = _split(args, MeshAuthorizationObjects)
    allow = [_ref(PeerRef, p) for p in obj.get("allow_peers") or []]
    allow += [_ref(ServiceAccountRef, a) for a in obj.get("allow_service_accounts") or []]
    return MeshAuthorization(
        name, rest, server=_ref(GrpcServiceRef, obj.get("server")), allow=allow, opts=opts
    )


def _mesh_enabled_namespace(name: str, args: Mapping[str, Any], opts: Any) -> Component:
    # The Linkerd install is reached through `depends_on` from other languages; without the
    # object, the namespace takes `linkerd_cni` from its args (as for an existing Linkerd).
    return MeshEnabledNamespace(name, dict(args), control_plane=None, opts=opts)


@dataclasses.dataclass(frozen=True)
class _Exported:
    component: type[Component]
    objects: type | None = None
    build: Callable[[str, Mapping[str, Any], Any], Component] | None = None


_EXPORTED: tuple[_Exported, ...] = (
    _Exported(GrpcService),
    _Exported(GrpcIngress, GrpcIngressObjects, _grpc_ingress),
    _Exported(GrpcRoute, GrpcRouteObjects, _grpc_route),
    _Exported(ZeroTrustPolicy, ZeroTrustPolicyObjects, _zero_trust_policy),
    _Exported(MeshAuthorization, MeshAuthorizationObjects, _mesh_authorization),
    _Exported(MeshEnabledNamespace, None, _mesh_enabled_namespace),
    _Exported(NginxIngressController),
    _Exported(LinkerdControlPlane),
    _Exported(GatewayApiCrds),
    _Exported(CertificateAuthority),
    _Exported(GrpcPlatform),
)


# --- the analyzer's view -----------------------------------------------------------------------


class _View:
    """Builds the analyzer's classes. `doc_source[(cls, field)]` says which real class documents
    each field, so the schema's descriptions are the docstrings Python users read."""

    def __init__(self) -> None:
        self.types: dict[type, type] = {}
        self.doc_source: dict[tuple[str, str], type] = {}
        self.enums: dict[str, type[enum.Enum]] = {}

    # Types.
    def type_of(self, tp: Any, where: str) -> Any:
        if tp in (str, int, float, bool) or tp is Any:
            return tp
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp
        if isinstance(tp, type) and _is_data_class(tp):
            return self.object_type(tp)
        origin, args = get_origin(tp), get_args(tp)
        if origin is typing.Annotated:  # validators ride along; the type is the first argument
            return self.type_of(args[0], where)
        if origin is Literal:
            return self.literal_enum(args, where)
        if origin is typing.Union or origin is types.UnionType:
            return self.union(args, where)
        if origin is pulumi.Output:
            return pulumi.Output[self.type_of(args[0], where)]  # type: ignore[misc]
        if origin is tuple or origin in (list, Sequence, typing.Sequence):
            item = self.type_of(args[0], where)
            if typing.is_typeddict(item):
                # A list of objects is an Input in the schema: Go's SDK generator emits no
                # argument type for objects that only appear in plain lists. The provider
                # settles known values before the component sees them (see _settle).
                return pulumi.Input[list[item]]  # type: ignore[misc,valid-type]
            return list[item]  # type: ignore[valid-type]
        if origin in (dict, Mapping, typing.Mapping) and args[0] is str:
            return dict[str, self.type_of(args[1], where)]  # type: ignore[misc]
        raise TypeError(f"{where}: no schema form for {tp!r}")

    def union(self, members: tuple[Any, ...], where: str) -> Any:
        optional = type(None) in members
        rest = [m for m in members if m is not type(None) and not _is_component(m)]
        awaitable = [m for m in rest if get_origin(m) is Awaitable]
        if awaitable:  # pulumi.Input[T] == Union[T, Awaitable[T], Output[T]]
            inner: Any = pulumi.Input[self.type_of(get_args(awaitable[0])[0], where)]  # type: ignore[misc]
        else:
            # `X | Output[X]` (a value or an Output of it) is an Output of X to the schema.
            outputs = [m for m in rest if get_origin(m) is pulumi.Output]
            plain_members = [m for m in rest if get_origin(m) is not pulumi.Output]
            if outputs and all(get_args(o)[0] in plain_members for o in outputs):
                rest = outputs[:1]
            # Several forms (a port number or name, a list or a keyword...): the schema says
            # "any" and the component checks the value, with the error Python callers get.
            inner = self.type_of(rest[0], where) if len(rest) == 1 else Any
        return inner | None if optional else inner

    def literal_enum(self, values: tuple[Any, ...], where: str) -> type[enum.Enum]:
        owner, field = where.rsplit(".", 1)
        name = _ENUM_NAMES.get(values) or owner + "".join(p.capitalize() for p in field.split("_"))
        if name not in self.enums:
            members = {_member_name(v): v for v in values}
            made = enum.Enum(name, members, type=str)  # type: ignore[misc]
            made.__doc__ = "One of " + ", ".join(f"`{v}`" for v in values) + "."
            made.__module__ = __name__
            self.enums[name] = made
        return self.enums[name]

    def object_type(self, cls: type, extra: type | None = None) -> type:
        """A TypedDict named as `cls` with its fields (and `extra`'s, a TypedDict)."""
        key = cls if extra is None else extra
        if key in self.types:
            return self.types[key]
        fields: dict[str, Any] = {}
        type_name = _schema_name(cls)
        for name, tp, required in _fields(cls):
            typ = self.type_of(tp, f"{type_name}.{name}")
            fields[name] = typ if required else NotRequired[typ]
            self.doc_source[(type_name, name)] = _declaring_class(cls, name)
        if extra is not None:
            for name, tp, required in _fields(extra):
                typ = self.type_of(tp, f"{type_name}.{name}")
                fields[name] = typ if required else NotRequired[typ]
                self.doc_source[(type_name, name)] = extra
        made = TypedDict(type_name, fields)  # type: ignore[misc]
        made.__doc__ = inspect.cleandoc(cls.__doc__ or "")
        made.__module__ = __name__
        self.types[key] = made
        return made

    # Components.
    def component(self, exported: _Exported) -> type[pulumi.ComponentResource]:
        comp = exported.component
        args_model = _args_model(comp)
        args_type = self.object_type(args_model, exported.objects)
        outputs: dict[str, Any] = {}
        for name, tp in inspect.get_annotations(comp, eval_str=True).items():
            if name.startswith("_") or not _is_output_data(tp):
                continue
            outputs[name] = self.type_of(tp, f"{comp.__name__}.{name}")
            self.doc_source[(comp.__name__, name)] = comp

        def __init__(self: Any, name: str, args: Any, opts: Any = None) -> None:
            raise NotImplementedError  # never called: the provider builds the real component

        __init__.__annotations__ = {"name": str, "args": args_type, "opts": Any, "return": None}
        return types.new_class(
            comp.__name__,
            (pulumi.ComponentResource,),
            exec_body=lambda ns: ns.update(
                {
                    "__annotations__": outputs,
                    "__init__": __init__,
                    "__doc__": inspect.cleandoc(comp.__doc__ or ""),
                    "__module__": __name__,
                }
            ),
        )


def _schema_name(cls: type) -> str:
    """The type's name in the schema. SDK generators append `Args` to input types, so
    `ProbeArgs` would become `ProbeArgsArgs`: the suffix goes, and a name that would then be a
    component's (`NginxIngressControllerArgs` inside the stack configuration) becomes
    `<Component>Options`."""
    name = cls.__name__.removesuffix("Args") or cls.__name__
    if name in {c.__name__ for c in Component.__subclasses__()}:
        return name + "Options"
    return name


def _declaring_class(cls: type, field: str) -> type:
    """The class in `cls`'s MRO that declares `field` (and documents it): a stack config entry
    inherits its fields' docstrings from the component args it extends."""
    for klass in cls.__mro__:
        if field in vars(klass).get("__annotations__", {}):
            return klass
    return cls


def _member_name(value: Any) -> str:
    text = "".join(c if c.isalnum() else "_" for c in str(value)).strip("_")
    return text.upper() or "EMPTY"


def _hints(cls: type) -> dict[str, Any]:
    """Evaluated annotations. `pulumi.Input[T]` holds the forward reference `Output[T]`."""
    return typing.get_type_hints(
        cls, localns={"Output": pulumi.Output, "T": Any}, include_extras=True
    )


def _is_component(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pulumi.Resource)


def _is_data_class(tp: type) -> bool:
    return (
        issubclass(tp, pydantic.BaseModel)
        or dataclasses.is_dataclass(tp)
        or typing.is_typeddict(tp)
    )


def _fields(cls: type) -> list[tuple[str, Any, bool]]:
    """(name, annotation, required) of a pydantic model, a dataclass or a TypedDict."""
    if issubclass(cls, pydantic.BaseModel):
        return [(n, f.annotation, f.is_required()) for n, f in cls.model_fields.items()]
    hints = _hints(cls)
    if typing.is_typeddict(cls):
        # Read NotRequired from the evaluated hints: with postponed annotations the class's
        # own __required_keys__ cannot see it.
        return [
            (n, get_args(t)[0], False) if get_origin(t) is NotRequired else (n, t, True)
            for n, t in hints.items()
        ]
    return [
        (
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
    ]


def _args_model(comp: type) -> type[pydantic.BaseModel]:
    hint = inspect.get_annotations(vars(comp)["__init__"], eval_str=True)["args"]
    for member in (hint, *get_args(hint)):
        if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
            return member
    raise TypeError(f"{comp.__name__}: `args` is not annotated with an args model: {hint!r}")


def _is_output_data(tp: Any) -> bool:
    """Outputs, scalars and refs (or lists of refs) are data; Python objects are not."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        return bool(members) and all(_is_output_data(m) for m in members)
    if origin is pulumi.Output:
        return True
    if origin is tuple:
        return args[0] in _REFS
    return tp in (str, int, bool) or tp in _REFS


# --- the provider ------------------------------------------------------------------------------


class _DocumentedAnalyzer(Analyzer):
    """Pulumi's analyzer, reading each field's description from the class that declares it."""

    def __init__(self, name: str, doc_source: dict[tuple[str, str], type]) -> None:
        super().__init__(name)
        self._doc_source = doc_source

    def get_docstring(self, typ: type, name: str) -> str | None:
        source = self._doc_source.get((typ.__name__, name))
        doc = super().get_docstring(source if source is not None else typ, name)
        return inspect.cleandoc(doc) if doc else None


def plain_data(value: Any) -> Any:
    """A component's output as the engine takes it: refs as dicts of their fields, tuples as
    lists, enums as their values; Outputs stay Outputs (their values converted when known)."""
    if isinstance(value, pulumi.Output):
        return value.apply(plain_data)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, pydantic.BaseModel):
        return {k: plain_data(getattr(value, k)) for k in type(value).model_fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain_data(v) for k, v in value.items()}
    return value


def _settle(value: Any) -> tuple[Any, set[pulumi.Resource]]:
    """Inputs with every known, non-secret Output replaced by its value, and the resources those
    values came from.

    Another language passes a component's output (`nginx.ref`, `greeter.peer`) as an Output of
    the whole object. The analyzer's input mapping reads only dicts, and a ref's shape (which
    ports, meshed or not) decides which objects exist, so it must be plain here. The engine
    sends such values already resolved, so nothing is waited for; unknown values (a preview of
    values not yet computed) and secrets stay Outputs, for the component to handle as it does
    for Python callers.
    """
    sources: set[pulumi.Resource] = set()

    def walk(v: Any) -> Any:
        if isinstance(v, pulumi.Output):
            # The SDK keeps an Output's value, known and secret flags and resources together
            # in one future; the engine's values arrive with it already resolved.
            data: Any = v._data
            if not (isinstance(data, asyncio.Future) and data.done()) or data.exception():
                return v
            resolved = data.result()
            if not resolved.is_known or resolved.is_secret:
                return v
            sources.update(resolved.resources)
            return walk(resolved.value)
        if isinstance(v, Mapping):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value), sources


class _PlainView:
    """The attributes of a component instance as plain data (what get_state reads)."""

    def __init__(self, instance: Component) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Any:
        return plain_data(getattr(self._instance, name))


class GrpcKubeProvider(ComponentProvider):
    """The plugin's provider: the schema from Pulumi's analyzer over the view built here, and
    construction by the real components."""

    def __init__(self, version: str = "0.0.0") -> None:
        view = _View()
        facades = [view.component(e) for e in _EXPORTED]
        # What ComponentProvider.__init__ does, with the documented analyzer.
        self._name = PACKAGE_NAME
        self.analyzer = _DocumentedAnalyzer(PACKAGE_NAME, view.doc_source)
        result = self.analyzer.analyze(facades)
        self._component_defs = result["component_definitions"]
        self._type_defs = result["type_definitions"]
        self._external_enum_types = result["external_enum_types"]
        self._dependencies = sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}")
        self._components = {
            e.component.__name__: (e.build or e.component)  # type: ignore[misc]
            for e in _EXPORTED
        }
        schema = generate_schema(
            PACKAGE_NAME,
            version,
            None,
            self._component_defs,
            self._type_defs,
            self._dependencies,
        )
        Provider.__init__(self, version, json.dumps(schema.to_json()))

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Any,
        options: pulumi.ResourceOptions | None = None,
    ) -> Any:
        inputs, sources = _settle(inputs)
        if sources:
            # The values came from these resources: the component waits for them, as it would
            # through the Outputs.
            options = pulumi.ResourceOptions.merge(
                options, pulumi.ResourceOptions(depends_on=sorted(sources, key=id))
            )
        return super().construct(name, resource_type, inputs, options)

    def get_state(self, instance: Any, component_def: Any) -> dict[str, Any]:
        return super().get_state(_PlainView(instance), component_def)  # type: ignore[arg-type]


def schema(version: str = "0.0.0") -> dict[str, Any]:
    """The package schema, as the plugin serves it."""
    return dict(json.loads(GrpcKubeProvider(version).schema or "{}"))


if __name__ == "__main__":
    # `python -m grpc_kube.package > provider/schema.json` refreshes the committed snapshot.
    print(json.dumps(schema(), indent=2, sort_keys=True))
