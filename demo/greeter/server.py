"""Demo gRPC greeter that says which pod answered, so balancing can be seen (and measured with
grpc-lb-check).

    helloworld.Greeter/SayHello            -> "Hello <name> from <POD_NAME or hostname:pid>"
                                              plus response header `x-served-by: <same id>`
    helloworld.Greeter/SayHelloStreamReply -> three such replies on one server stream
    helloworld.Greeter/SayHelloBidiStream  -> one such reply per request message
    grpc.health.v1.Health                  -> SERVING until SIGTERM, then NOT_SERVING
    grpc.reflection.v1alpha                -> so `grpcurl host:port helloworld.Greeter/SayHello`
                                              works without the .proto file

Environment (GrpcService sets these in the pod spec, except GRPC_HOST and the age grace):
    GRPC_PORT                          listen port (default 50051; 0 picks a free one)
    GRPC_HOST                          listen address (default [::], all interfaces)
    GRPC_SERVER_MAX_CONNECTION_AGE_MS  close connections after this age so clients re-resolve
                                       DNS (headless Service + round_robin picks up new pods)
    GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS  how long calls and streams still open when a
                                       connection reaches that age may run on before it is
                                       closed hard (default: the age itself)
    GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE  serve TLS (files from a kubernetes.io/tls Secret)
    GRPC_HEALTH_PORT                   extra plaintext port with only grpc.health.v1, for kubelet
                                       gRPC probes, which cannot speak TLS
    GRPC_SHUTDOWN_DELAY_MS             after SIGTERM, keep serving this long while health says
                                       NOT_SERVING, then stop (default 5000; see below)
    POD_NAME                           the id to report (downward API); default hostname:pid

On start it prints one line to stdout, `greeter <id> serving on <host>:<port> (...)`, after the
ports are bound: scripts and tests wait for it and read the real port from it.

Shutdown. gRPC core cancels every call that reaches a server after its stop() began
(grpc/grpc#41785): a call already on the wire when the server's GOAWAY leaves fails with
CANCELLED, and a client does not retry that. So on SIGTERM the greeter first reports
NOT_SERVING and keeps serving for GRPC_SHUTDOWN_DELAY_MS: clients with client-side health
checking (round_robin plus `healthCheckConfig` in the service config) stop picking it within a
round trip, and proxies drop it as the pod leaves the Service's endpoints. Only then does it stop:
GOAWAY, calls in flight get SHUTDOWN_GRACE_S, health Watch streams are ended so they do not hold
the exit. SIGINT (Ctrl-C) skips the delay. A client pinned to the pod through an L4 path has no
way to move before the GOAWAY and can still lose a call that crosses it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

# The greeter shares the helloworld descriptors with grpc-lb-check (components/_helloworld.py)
# but imports that one file as a top-level module, never the `components` package: the
# package's __init__ pulls in Pulumi, which the container image does not ship. The image has
# /app/grpc_kube/ beside this file; a checkout has it in components/ two levels up.
_HERE = Path(__file__).resolve().parent
for _dir in (_HERE / "grpc_kube", _HERE.parent.parent / "components"):
    if (_dir / "_helloworld.py").is_file():
        sys.path.insert(0, str(_dir))
        break
import _helloworld as hw  # noqa: E402

SERVED_BY_HEADER = "x-served-by"
STREAM_REPLIES = 3
# Seconds in-flight calls get to finish once the server stops. Kubernetes' default grace period
# is 30 s: the shutdown delay (5 s by default) plus this fits well within it.
SHUTDOWN_GRACE_S = 5.0
# Default GRPC_SHUTDOWN_DELAY_MS: time for the pod's removal from the endpoints to reach proxies
# (ingress-nginx, kube-proxy: about a second) and for health-checking clients to move away
# (a round trip), with margin for a busy control plane.
SHUTDOWN_DELAY_MS = 5000
# Handler threads. Each open stream (SayHelloBidiStream, health Watch) holds one; unary calls
# take microseconds. More threads only add GIL contention: with h2load driving 64 calls in
# flight, 16 threads served ~15% fewer calls/s than 2-8 on 2 cores.
WORKERS = 8


def served_by() -> str:
    """POD_NAME from the downward API; outside Kubernetes hostname:pid, which still tells
    replicas on one machine apart."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"greeter: {name}={raw!r} is not an integer") from None


class HealthServicer(health.HealthServicer):  # type: ignore[misc]  # grpc_health is untyped
    """grpc_health's servicer, plus ending its Watch streams at shutdown: a client-side health
    checker keeps one open per connection, and an open stream holds server.stop() for the whole
    grace. Ending a stream with OK tells the watcher nothing new (it already got NOT_SERVING)."""

    def end_watches(self) -> None:
        # grpc_health keeps the watchers' callbacks in _send_response_callbacks (pinned version,
        # requirements.txt); None closes a stream. Without that attribute, the grace applies.
        lock = getattr(self, "_lock", None)
        watchers = getattr(self, "_send_response_callbacks", None)
        if lock is None or not isinstance(watchers, dict):
            return
        with lock:
            callbacks = [cb for cbs in watchers.values() for cb in cbs]
        for cb in callbacks:
            cb(None)


def reflection_pool() -> descriptor_pool.DescriptorPool:
    """A pool holding every file the server exposes, so reflection can describe all of them.

    helloworld lives in a private pool (see components/_helloworld.py); health and reflection
    are copied in beside it rather than registering helloworld in protobuf's global pool."""
    pool = descriptor_pool.DescriptorPool()
    for fd in (health_pb2.DESCRIPTOR, reflection_pb2.DESCRIPTOR):
        fdp = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(fdp)
        hw.add_file(pool, fdp)
    hw.add_file(pool, hw.file_descriptor_proto())
    return pool


class Greeter:
    """The three helloworld methods. Handlers take and return `str`: the codec in
    components/_helloworld.py maps them to HelloRequest.name / HelloReply.message."""

    def __init__(self, ident: str) -> None:
        self.ident = ident
        self._header = ((SERVED_BY_HEADER, ident),)

    def say_hello(self, name: str, context: grpc.ServicerContext) -> str:
        context.send_initial_metadata(self._header)
        return hw.format_reply(name, self.ident)

    def say_hello_stream_reply(self, name: str, context: grpc.ServicerContext) -> Iterator[str]:
        context.send_initial_metadata(self._header)
        for _ in range(STREAM_REPLIES):
            yield hw.format_reply(name, self.ident)

    def say_hello_bidi_stream(
        self, names: Iterator[str], context: grpc.ServicerContext
    ) -> Iterator[str]:
        context.send_initial_metadata(self._header)
        for name in names:
            yield hw.format_reply(name, self.ident)

    def method_handlers(self) -> dict[str, grpc.RpcMethodHandler]:
        codec: dict[str, Any] = {
            "request_deserializer": hw.decode_request,
            "response_serializer": hw.encode_reply,
        }
        return {
            "SayHello": grpc.unary_unary_rpc_method_handler(self.say_hello, **codec),
            "SayHelloStreamReply": grpc.unary_stream_rpc_method_handler(
                self.say_hello_stream_reply, **codec
            ),
            "SayHelloBidiStream": grpc.stream_stream_rpc_method_handler(
                self.say_hello_bidi_stream, **codec
            ),
        }


def _credentials() -> grpc.ServerCredentials | None:
    cert_file = os.environ.get("GRPC_TLS_CERT_FILE")
    key_file = os.environ.get("GRPC_TLS_KEY_FILE")
    if not cert_file and not key_file:
        return None
    if not (cert_file and key_file):
        raise SystemExit("greeter: set both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, or neither")
    try:
        pair = (Path(key_file).read_bytes(), Path(cert_file).read_bytes())
    except OSError as exc:
        raise SystemExit(f"greeter: cannot read TLS files: {exc}") from None
    return grpc.ssl_server_credentials([pair])


def serve() -> None:
    ident = served_by()
    host = os.environ.get("GRPC_HOST") or "[::]"
    port = _env_int("GRPC_PORT", 50051)
    health_port = _env_int("GRPC_HEALTH_PORT", None)
    max_age_ms = _env_int("GRPC_SERVER_MAX_CONNECTION_AGE_MS", None)
    age_grace_ms = _env_int("GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS", max_age_ms)
    delay_ms = _env_int("GRPC_SHUTDOWN_DELAY_MS", SHUTDOWN_DELAY_MS) or 0
    creds = _credentials()

    options: list[tuple[str, int]] = []
    if max_age_ms:
        # Clients of a headless Service only re-resolve DNS when a connection closes; ageing
        # connections out is what lets round_robin discover pods added after it connected.
        options.append(("grpc.max_connection_age_ms", max_age_ms))
        # At that age the server sends GOAWAY: the client opens a new connection for new calls
        # at once (and asks DNS again), while calls and streams in flight finish on the old one
        # for up to the grace, then are cut. By default as long again as the age.
        options.append(
            (
                "grpc.max_connection_age_grace_ms",
                max_age_ms if age_grace_ms is None else age_grace_ms,
            )
        )

    # The thread-pool server, not grpc.aio: driven by h2load (64 calls in flight, 2 cores) the
    # aio server with the x-served-by header managed ~2,100 calls/s, this one 2,600-3,200.
    # The greeter, not grpc-lb-check, is what limits a local throughput measurement.
    workers = futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="greeter")
    health_servicer = HealthServicer()
    server = grpc.server(workers, options=options)
    # Registered (not generic) handlers: gRPC matches the method in C instead of asking Python
    # handlers per call, measurably cheaper per unary call.
    server.add_registered_method_handlers(hw.SERVICE_NAME, Greeter(ident).method_handlers())
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    pool = reflection_pool()
    reflection.enable_server_reflection(
        (hw.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server, pool=pool
    )
    address = f"{host}:{port}"
    bound = server.add_secure_port(address, creds) if creds else server.add_insecure_port(address)

    servers = [server]
    health_bound = None
    if health_port is not None:
        # Separate server, same servicer: one status, reachable without TLS by the kubelet.
        health_server = grpc.server(workers)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        # Reflection too, so `grpcurl -plaintext host:<health port> grpc.health.v1.Health/Check`
        # works when debugging a probe failure; it exposes nothing beyond health.
        reflection.enable_server_reflection(
            (health.SERVICE_NAME, reflection.SERVICE_NAME), health_server, pool=pool
        )
        health_bound = health_server.add_insecure_port(f"{host}:{health_port}")
        servers.append(health_server)

    for s in servers:
        s.start()
    for name in ("", hw.SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    extras = [
        "tls" if creds else "plaintext",
        *([f"max_connection_age_ms={max_age_ms}"] if max_age_ms else []),
        *(
            [f"max_connection_age_grace_ms={age_grace_ms}"]
            if max_age_ms and age_grace_ms != max_age_ms
            else []
        ),
        *([f"health on {host}:{health_bound}"] if health_bound is not None else []),
    ]
    print(f"greeter {ident} serving on {host}:{bound} ({', '.join(extras)})", flush=True)

    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    # Poll rather than wait() forever: the signal handler only runs between bytecodes of the
    # main thread.
    while not stop.wait(0.5):
        pass

    # Report NOT_SERVING first and keep serving for the delay, so that health-checking clients
    # and proxies stop sending calls before the stop below, which would cancel them (see the
    # module docstring); then GOAWAY, and in-flight calls get the grace.
    health_servicer.enter_graceful_shutdown()
    if received[0] == signal.SIGTERM and delay_ms > 0:
        print(
            f"greeter {ident}: SIGTERM, NOT_SERVING, stopping in {delay_ms / 1000:g} s",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(delay_ms / 1000)
    stopping = [s.stop(SHUTDOWN_GRACE_S) for s in servers]
    health_servicer.end_watches()
    for done in stopping:
        done.wait()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    serve()


if __name__ == "__main__":
    main()
