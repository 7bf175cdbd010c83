"""The balancing claim, measured on real processes: three demo greeters on 127.0.0.1 behind

    (a) haproxy in TCP mode        L4, what kube-proxy does for a ClusterIP Service -> pinned
    (b) nginx grpc_pass over TLS   L7, what ingress-nginx does (backend-protocol GRPC) -> balanced
    (c) no proxy, client-side round_robin over the three addresses (headless Service) -> balanced

and grpcurl, using server reflection through the nginx TLS proxy, gets a reply.

Needs nginx, haproxy (.ci/dataplane-deps.sh) and grpcurl + cryptography + grpcio-health-checking
+ grpcio-reflection (requirements-dev.txt). Without them the tests skip, unless
GRPC_KUBE_REQUIRE_DATAPLANE=1 (CI), which turns a missing dependency into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "demo" / "greeter"))

import dataplane  # noqa: E402

NAMES = ["greeter-a", "greeter-b", "greeter-c"]
CALLS = 600
PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Plane:
    dp: dataplane.DataPlane
    pki: dataplane.Pki
    backends: list[dataplane.Backend]
    l4_port: int
    l7_port: int
    grpcurl: str

    @property
    def client_side_target(self) -> str:
        return "ipv4:" + ",".join(b.address for b in self.backends)


def _missing() -> list[str]:
    missing = [b for b in ("nginx", "haproxy", "grpcurl") if dataplane.find_binary(b) is None]
    for module in ("cryptography", "grpc_health", "grpc_reflection"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python package {module}")
    return missing


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    missing = _missing()
    if missing:
        why = (
            f"data-plane test needs {', '.join(missing)}: run .ci/dataplane-deps.sh and "
            "pip install -r requirements-dev.txt"
        )
        if os.environ.get("GRPC_KUBE_REQUIRE_DATAPLANE") == "1":
            pytest.fail(f"{why} (GRPC_KUBE_REQUIRE_DATAPLANE=1: not skipping)", pytrace=False)
        pytest.skip(why)
    with dataplane.DataPlane(tmp_path_factory.mktemp("dataplane")) as dp:
        pki = dataplane.make_pki(dp.workdir)
        backends = dp.start_greeters(NAMES)
        l4 = dp.start_haproxy(backends, dataplane.find_binary("haproxy") or "haproxy")
        l7 = dp.start_nginx(backends, pki, dataplane.find_binary("nginx") or "nginx")
        yield Plane(dp, pki, backends, l4, l7, dataplane.find_binary("grpcurl") or "grpcurl")


@dataclass(frozen=True)
class ProbeRun:
    code: int
    report: dict[str, Any]
    stderr: str


def probe(*args: str) -> ProbeRun:
    """grpc-lb-check as a user runs it (`python -m`, its own process), JSON on stdout."""
    argv = [sys.executable, "-m", "grpc_kube.balance_probe", "--json", "--quiet", *args]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=PROBE_TIMEOUT_S)
    assert "Traceback" not in r.stderr, r.stderr
    return ProbeRun(r.returncode, json.loads(r.stdout), r.stderr)


def test_l4_tcp_balancer_pins_every_call_of_a_channel_to_one_backend(plane: Plane) -> None:
    run = probe(f"127.0.0.1:{plane.l4_port}", "--calls", str(CALLS), "--expect-backends", "3")
    r = run.report
    assert r["calls"] == {"requested": CALLS, "ok": CALLS, "failed": 0}, run.stderr
    assert (run.code, r["verdict"]) == (1, "pinned"), r
    # One backend took every call on the single channel (which one is haproxy's choice).
    ((backend, count),) = r["backends"].items()
    assert backend in NAMES and count == CALLS
    assert r["imbalance"] == 3.0
    assert "per connection (L4)" in r["reason"]


def test_l4_spreads_connections_not_calls(plane: Plane) -> None:
    """Three channels = three TCP connections: haproxy spreads them, yet each channel stays
    on the backend its connection landed on, and the probe calls that pinned."""
    run = probe(f"127.0.0.1:{plane.l4_port}", "--calls", str(CALLS), "--channels", "3")
    r = run.report
    assert r["calls"]["failed"] == 0, run.stderr
    assert (run.code, r["verdict"]) == (1, "pinned"), r
    assert [sum(ch.values()) for ch in r["per_channel"]] == [CALLS // 3] * 3
    assert all(len(ch) == 1 for ch in r["per_channel"]), r["per_channel"]
    assert "each of the 3 channels" in r["reason"]


def test_nginx_grpc_pass_balances_every_call_and_keeps_a_stream_on_one_backend(
    plane: Plane,
) -> None:
    run = probe(
        f"127.0.0.1:{plane.l7_port}",
        "--tls",
        "--cacert",
        str(plane.pki.ca),
        "--authority",
        "localhost",  # a SAN of the test certificate, exercising the name override
        "--calls",
        str(CALLS),
        "--expect-backends",
        "3",
        "--stream-messages",
        "50",
    )
    r = run.report
    assert r["calls"] == {"requested": CALLS, "ok": CALLS, "failed": 0}, run.stderr
    assert (run.code, r["verdict"]) == (0, "balanced"), r
    assert set(r["backends"]) == set(NAMES)
    assert r["imbalance"] <= r["threshold"] == 1.5
    # A single channel (one TLS connection to nginx) reached every backend: per request.
    assert len(r["per_channel"]) == 1 and set(r["per_channel"][0]) == set(NAMES)
    # A stream is one HTTP/2 stream: nginx picks a backend once, all messages follow it.
    assert r["stream"]["messages"] == 50
    assert len(r["stream"]["backends"]) == 1
    assert next(iter(r["stream"]["backends"])) in NAMES


def test_client_side_round_robin_balances_without_a_proxy(plane: Plane) -> None:
    run = probe(
        plane.client_side_target,
        "--lb-policy",
        "round_robin",
        "--backend-header",
        "x-served-by",  # the greeter's response header, instead of the reply text
        "--calls",
        str(CALLS),
        "--expect-backends",
        "3",
    )
    r = run.report
    assert r["calls"]["failed"] == 0, run.stderr
    assert (run.code, r["verdict"]) == (0, "balanced"), r
    assert set(r["backends"]) == set(NAMES)
    assert r["imbalance"] <= 1.5


def test_client_side_pick_first_over_the_same_addresses_pins(plane: Plane) -> None:
    """The headless-Service addresses alone do not balance: gRPC's default policy,
    pick_first, uses one of them. round_robin must be configured."""
    run = probe(
        plane.client_side_target, "--lb-policy", "pick_first", "--calls", "300",
        "--expect-backends", "3",
    )  # fmt: skip
    assert (run.code, run.report["verdict"]) == (1, "pinned"), run.report
    assert len(run.report["backends"]) == 1
    assert "pick_first" in run.report["reason"]


def test_tls_without_the_right_ca_is_an_error_not_a_verdict(plane: Plane) -> None:
    run = probe(f"127.0.0.1:{plane.l7_port}", "--tls", "--calls", "10")
    assert run.code == 2
    assert run.report["verdict"] == "error"
    lines = run.stderr.strip().splitlines()
    ours = [line for line in lines if line.startswith("grpc-lb-check: error: ")]
    assert len(ours) == 1, run.stderr
    assert "TLS failed" in ours[0] and "CERTIFICATE_VERIFY_FAILED" in ours[0]
    # Anything else is gRPC core's own log line about the handshake (printed when grpc was
    # imported before the probe could lower GRPC_VERBOSITY), never a Python traceback.
    assert all(re.match(r"[IWE]\d{4} ", line) for line in lines if line not in ours), lines


def test_grpcurl_calls_sayhello_through_nginx_tls_using_reflection(plane: Plane) -> None:
    target = f"127.0.0.1:{plane.l7_port}"
    base = [plane.grpcurl, "-cacert", str(plane.pki.ca), "-max-time", "10"]
    listed = subprocess.run([*base, target, "list"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert "helloworld.Greeter" in listed.stdout.split()

    # No -proto / -protoset: the method and message types come from server reflection.
    r = subprocess.run(
        [*base, "-v", "-d", '{"name": "grpcurl"}', target, "helloworld.Greeter/SayHello"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    m = re.search(r'"message": "Hello grpcurl from (greeter-[abc])"', r.stdout)
    assert m, r.stdout
    # The same backend is named in the response header, as sent through nginx.
    assert f"x-served-by: {m.group(1)}" in r.stdout


def test_greeter_serves_tls_itself_with_a_plaintext_health_port(
    plane: Plane, tmp_path: Path
) -> None:
    """The pod-side TLS path (GRPC_TLS_CERT_FILE/KEY_FILE from a kubernetes.io/tls Secret) and
    the plaintext GRPC_HEALTH_PORT the kubelet's gRPC probe uses."""
    dp = plane.dp
    (tls_greeter,) = dp.start_greeters(
        ["greeter-tls"],
        extra_env={
            "GRPC_TLS_CERT_FILE": str(plane.pki.cert),
            "GRPC_TLS_KEY_FILE": str(plane.pki.key),
            "GRPC_HEALTH_PORT": "0",  # the greeter binds a free port and prints it
            "GRPC_SERVER_MAX_CONNECTION_AGE_MS": "30000",
        },
    )
    line = dp.serving_lines["greeter-tls"]
    assert "(tls, max_connection_age_ms=30000, health on 127.0.0.1:" in line, line
    m = re.search(r"health on 127\.0\.0\.1:(\d+)", line)
    assert m, line
    health_port = int(m.group(1))

    run = probe(
        f"127.0.0.1:{tls_greeter.port}", "--tls", "--cacert", str(plane.pki.ca),
        "--calls", "50", "--expect-backends", "1",
    )  # fmt: skip
    assert (run.code, run.report["backends"]) == (0, {"greeter-tls": 50}), run.report

    health = subprocess.run(
        [plane.grpcurl, "-plaintext", f"127.0.0.1:{health_port}", "grpc.health.v1.Health/Check"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout) == {"status": "SERVING"}
    # The health port is plaintext-only health: the greeter itself is not served there.
    greeter_on_health = probe(f"127.0.0.1:{health_port}", "--calls", "1")
    assert greeter_on_health.code == 2
    assert "UNIMPLEMENTED" in greeter_on_health.stderr


def test_max_connection_age_moves_a_pinned_l4_channel_between_backends(plane: Plane) -> None:
    """GRPC_SERVER_MAX_CONNECTION_AGE_MS (GrpcService sets it for headless Services) makes the
    server close connections gracefully after that age: the client reconnects, and behind an L4
    balancer the new connection may land elsewhere. Spreading then happens over time, per
    connection lifetime, and no call fails on the way."""
    dp = plane.dp
    aged = dp.start_greeters(
        ["aged-a", "aged-b", "aged-c"], extra_env={"GRPC_SERVER_MAX_CONNECTION_AGE_MS": "150"}
    )
    l4 = dp.start_haproxy(aged, dataplane.find_binary("haproxy") or "haproxy", name="haproxy-aged")
    # Enough calls to outlive several 150 ms connections even on a fast, quiet machine (1,200
    # once finished in 0.24 s).
    run = probe(f"127.0.0.1:{l4}", "--calls", "4000", "--expect-backends", "3")
    r = run.report
    assert r["calls"] == {"requested": 4000, "ok": 4000, "failed": 0}, (r["errors"], run.stderr)
    assert r["elapsed_s"] > 0.3, "run too short to outlive a connection; raise --calls"
    # One channel, yet several backends: each reconnect went to haproxy's next server.
    assert len(r["per_channel"]) == 1
    assert len(r["per_channel"][0]) >= 2, r["per_channel"]
