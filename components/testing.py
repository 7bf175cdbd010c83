"""Run a Pulumi program in-process under mocks and record everything it sent to the engine.

This is the harness grpc-kube's own tests use, and it is public so that programs built on
grpc-kube can test themselves the same way:

    from grpc_kube.testing import run_program

    rec = run_program(lambda: GrpcService("greeter", GrpcServiceArgs(...)))
    dep = rec.one("kubernetes:apps/v1:Deployment")
    assert dep.inputs["spec"]["replicas"] == 2

Each call gets fresh mocks, a fresh root stack and a fresh event loop, so runs never leak into
each other. Monitor calls run on the event loop's default thread pool: Pulumi's own inline
executor recurses once per resource (RecursionError near 50 resources, measured), while the
default pool stays fast at thousands of resources. A program's callbacks (`transforms`, hooks)
are called in-process by the mock monitor, so the SDK's callback server does not listen during
a run (see _InProcessCallbackServer).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pulumi
from pulumi.runtime import _callbacks as _sdk_callbacks
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import resource as _sdk_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

__all__ = ["RecordedResource", "Recording", "RecordingMocks", "run_program"]

# Pulumi's wire marker for a secret value inside a property struct.
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_SIG_KEY = "4dabf18193072939515e22adb298388d"

_MOCK_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class RecordedResource:
    """One RegisterResource call: what a component sent to the engine."""

    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]
    custom: bool
    dependencies: list[str]
    secret_paths: list[str] = field(default_factory=list)
    """Dotted paths of input values that were sent as Pulumi secrets."""
    provider: str = ""
    """The provider reference (`<provider urn>::<id>`) a custom resource was sent with; empty for
    the default provider and for components."""
    retain_on_delete: bool = False
    """True when the resource is kept in the cluster on `pulumi destroy`."""

    def get(self, path: str, default: Any = None) -> Any:
        """Read a dotted path (`spec.template.spec.containers.0.image`) from the inputs."""
        cur: Any = self.inputs
        for part in path.split("."):
            if isinstance(cur, list):
                try:
                    cur = cur[int(part)]
                except (ValueError, IndexError):
                    return default
            elif isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return default
        return cur

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and "kind" in self.inputs


class Recording:
    """Everything one program run registered, with helpers to query it."""

    def __init__(
        self,
        resources: list[RecordedResource],
        outputs: dict[str, Any],
        logs: list[tuple[str, str]],
    ) -> None:
        self.resources = resources
        self.outputs = outputs
        self.logs = logs

    def __iter__(self) -> Iterator[RecordedResource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    @property
    def warnings(self) -> list[str]:
        return [m for level, m in self.logs if level == "warning"]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        """The single resource of this type (and Pulumi name, if given); fails loudly otherwise."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.of_type(type_))
            raise AssertionError(
                f"expected one {type_}{f' named {name!r}' if name else ''}, found {len(found)}; "
                f"registered of that type: {names}"
            )
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise AssertionError(f"no resource with urn {urn}")

    def children_of(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def descendants_of(self, parent: RecordedResource) -> list[RecordedResource]:
        out: list[RecordedResource] = []
        for child in self.children_of(parent):
            out += [child, *self.descendants_of(child)]
        return out

    def depends_on(self, resource: RecordedResource, other: RecordedResource) -> bool:
        """True if `resource` was registered with a dependency on `other` (a component counts
        through its descendants, as the engine expands it)."""
        targets = {other.urn} | {r.urn for r in self.descendants_of(other)}
        return bool(targets & set(resource.dependencies))

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """The Kubernetes objects (apiVersion/kind/metadata/...) the program would create, in a
        stable order: by kind, namespace, name."""
        objs = [r.inputs for r in self.resources if r.is_kubernetes_object]
        return sorted(
            objs,
            key=lambda o: (
                o.get("kind", ""),
                o.get("metadata", {}).get("namespace", ""),
                o.get("metadata", {}).get("name", ""),
            ),
        )

    def kube(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The single Kubernetes object of this kind (and metadata.name, if given)."""
        found = [
            o
            for o in self.kubernetes_objects()
            if o.get("kind") == kind and (name is None or o["metadata"].get("name") == name)
        ]
        if len(found) != 1:
            raise AssertionError(
                f"expected one {kind}{f' named {name!r}' if name else ''}, found {len(found)}"
            )
        return found[0]

    def kinds(self) -> list[str]:
        return sorted(o["kind"] for o in self.kubernetes_objects())


def _fake_pem(kind: str, name: str) -> str:
    return f"-----BEGIN {kind}-----\nMOCK-{name}\n-----END {kind}-----\n"


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that echo inputs back as state and fill in the computed outputs components read
    (certificate PEMs, validity times, Service cluster IPs), deterministically."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        state = dict(args.inputs)
        t = args.typ
        if t == "tls:index/privateKey:PrivateKey":
            state["privateKeyPem"] = _fake_pem("PRIVATE KEY", args.name)
            state["publicKeyPem"] = _fake_pem("PUBLIC KEY", args.name)
        elif t in (
            "tls:index/selfSignedCert:SelfSignedCert",
            "tls:index/locallySignedCert:LocallySignedCert",
        ):
            hours = int(state.get("validityPeriodHours", 0))
            state["certPem"] = _fake_pem("CERTIFICATE", args.name)
            state["validityStartTime"] = _MOCK_NOW.isoformat().replace("+00:00", "Z")
            end = _MOCK_NOW + timedelta(hours=hours)
            state["validityEndTime"] = end.isoformat().replace("+00:00", "Z")
            state["readyForRenewal"] = False
        elif t == "tls:index/certRequest:CertRequest":
            state["certRequestPem"] = _fake_pem("CERTIFICATE REQUEST", args.name)
        elif t == "kubernetes:core/v1:Service":
            spec = dict(state.get("spec") or {})
            spec.setdefault("clusterIP", "10.96.0.10")
            state["spec"] = spec
        return f"{args.name}-id", state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


def _secret_paths(value: Any, path: str = "") -> list[str]:
    """Paths of deserialized inputs that still carry Pulumi's secret marker."""
    out: list[str] = []
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return [path or "(root)"]
        for k, v in value.items():
            out += _secret_paths(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _secret_paths(v, f"{path}.{i}" if path else str(i))
    return out


class _RecordingMonitor(_mocks.MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        # Same steps as MockMonitor.RegisterResource, but deserializing the inputs once and
        # keeping what the engine would see (parent, dependencies, secrets) for assertions.
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        loop = _mocks._ensure_event_loop()  # type: ignore[attr-defined, no-untyped-call]
        # Worker threads get their own loop; remember it so run_program can close it instead
        # of leaving it to the garbage collector (which warns about it).
        with self._lock:
            self.thread_loops.add(loop)
        wire = rpc.deserialize_properties(request.object)
        inputs = _plain(wire)
        id_, state = self.mocks.new_resource(
            _mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        obj = _sync_await(rpc.serialize_properties(state, {}))
        id_ = id_ or ""
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        rec = RecordedResource(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            inputs=inputs,
            custom=bool(request.custom),
            dependencies=list(request.dependencies),
            secret_paths=_secret_paths(wire),
            provider=request.provider,
            retain_on_delete=bool(request.retainOnDelete),
        )
        with self._lock:
            self.recorded.append(rec)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


def _plain(value: Any) -> Any:
    """Inputs as plain JSON-like data (secrets unwrapped; the marker is kept in secret_paths)."""
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _plain(value.get("value"))
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The wire format carries every number as a double; Kubernetes wants 3, not 3.0.
        return int(value)
    return value


def _empty_stack_trace() -> Any:
    return source_pb2.StackTrace()


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.INFO:
            self.records.append((record.levelname.lower(), record.getMessage()))


class _InProcessCallbackServer:
    """Stands in for the grpc.aio server the SDK starts to serve a program's callbacks
    (`transforms`, hooks). Under mocks the monitor calls those callbacks directly in this
    process, so nothing needs to listen; and real grpc.aio servers started on a fresh event
    loop per run crashed the interpreter inside grpc after some hundred runs with failing
    Outputs (a segmentation fault in grpc's Cython code, reproduced by repeating one test)."""

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass

    def add_registered_method_handlers(self, service: Any, handlers: Any) -> None:
        pass

    def add_insecure_port(self, address: str) -> int:
        return 0

    async def start(self) -> None:
        pass

    async def stop(self, grace: float | None) -> None:
        pass


class _AioWithoutNetwork:
    """`grpc.aio` as the SDK's callback module sees it during a run: its server is the
    in-process stand-in."""

    @staticmethod
    def server(*args: Any, **kwargs: Any) -> _InProcessCallbackServer:
        return _InProcessCallbackServer()


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "grpc-kube",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    preview: bool = False,
) -> Recording:
    """Run `program` under fresh mocks and return what it registered and exported.

    `config` keys are stack config keys; a key without a namespace gets the project's
    (`services` -> `grpc-kube:services`). Non-string values are JSON-encoded, as the CLI does for
    structured config. Exceptions the program raises propagate unchanged, with a `recording`
    attribute holding what was registered before the failure.
    """
    mocks = RecordingMocks()
    monitor = _RecordingMonitor(mocks)
    capture = _LogCapture()
    logger = logging.getLogger(f"grpc-kube.testing.{id(capture)}")
    logger.propagate = False
    # INFO and up only: the SDK's per-resource debug lines would cost more than the mocks.
    logger.setLevel(logging.INFO)
    logger.addHandler(capture)

    all_config = {
        (k if ":" in k else f"{project}:{k}"): (v if isinstance(v, str) else json.dumps(v))
        for k, v in (config or {}).items()
    }
    pulumi.runtime.set_all_config(all_config)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # When a program fails on purpose (an Output that resolves to a bad value), every Output
    # derived from it fails too and asyncio would print each unawaited one to stderr. The
    # program's exception already says what went wrong; keep the rest as log records.
    loop.set_exception_handler(
        lambda _loop, context: capture.records.append(("error", str(context.get("message"))))
    )
    # The SDK walks the Python stack for every resource to tell the engine where it was
    # declared; mocks have no engine to tell, and the walk is ~13% of a large run.
    saved_stack_trace = _sdk_resource._get_stack_trace
    _sdk_resource._get_stack_trace = _empty_stack_trace
    saved_aio = getattr(_sdk_callbacks, "aio")  # noqa: B009 (not re-exported for mypy)
    setattr(_sdk_callbacks, "aio", _AioWithoutNetwork)  # noqa: B010
    try:
        _settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor
        )
        _settings.SETTINGS.rpc_manager.clear()
        _settings.SETTINGS.outputs.clear()
        exported: dict[str, Any] = {}

        async def main() -> None:
            await run_pulumi_func(program)
            root = _settings.get_root_resource()
            outs = getattr(root, "outputs", {}) or {}
            for key, value in outs.items():
                exported[key] = await pulumi.Output.from_input(value).future()

        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            # What reached the engine before the failure, for tests that check nothing did.
            exc.recording = Recording(monitor.recorded, {}, capture.records)  # type: ignore[attr-defined]
            raise
    finally:
        _sdk_resource._get_stack_trace = saved_stack_trace
        setattr(_sdk_callbacks, "aio", saved_aio)  # noqa: B010
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        for thread_loop in monitor.thread_loops:
            if thread_loop is not loop and not thread_loop.is_closed():
                thread_loop.close()
        asyncio.set_event_loop(None)
        logger.removeHandler(capture)
        pulumi.runtime.set_all_config({})
    return Recording(monitor.recorded, _plain(exported), capture.records)
