"""Scale-out from 3 to 6 backends and back to 3, watched by `grpc-lb-check --duration` on real
processes, on the three paths a gRPC client can take to a Kubernetes Service:

    L7           nginx grpc_pass (what ingress-nginx does); `nginx -s reload` with the new
                 upstream set when the endpoints change       -> spreads over 6 at once
    client-side  dnsmasq answers the service name with the greeters' addresses (what cluster DNS
                 does for a headless Service), the probe dials dns://127.0.0.1:PORT/name:port
                 with round_robin and client-side health checking, and the greeters close
                 connections after GRPC_SERVER_MAX_CONNECTION_AGE_MS
                                                              -> spreads over 6 once the client
                                                                 asks DNS again
    L4           haproxy in TCP mode (what kube-proxy does), reloaded with the new server set
                                                              -> the open connection stays on
                                                                 its backend: never spreads

All three probes watch one timeline: 3 greeters per path, 3 more start, the proxies and DNS
learn them, later the 3 original ones are removed: SIGTERM at the same moment as the proxies
and DNS drop them, as Kubernetes does for a pod without a preStop hook. The greeter drains on
SIGTERM: NOT_SERVING, keeps serving for GRPC_SHUTDOWN_DELAY_MS (1 s here, 5 s by default), then
GOAWAY and its grace for calls in flight. The health-checking client moves off at NOT_SERVING,
nginx at the reload; the L4 client cannot move before the GOAWAY and may lose a call that
crosses it (gRPC core cancels calls reaching a stopping server), so its failures are reported,
not asserted. The originals, not the newest, are removed because the probes' connections sit on
them: the harder case (a ReplicaSet would usually pick the newest pods).

Timing: gRPC's DNS resolver re-resolves at most once per 30 s (grpc.dns_min_time_between_
resolutions_ms), however soon a connection closes, so the client-side path needs ~30 s after
the probe's first resolution. The schedule is anchored on dnsmasq's query log (the probe's
first query, then its re-resolution), not on fixed sleeps. The greeters of that path use a 2 s
max connection age, not GrpcService's headless default of 30 s, so that a connection closes
(and asks for the re-resolution) well within the test; the 30 s floor is the client's either way.
The L7/L4 greeters have no max age, like a GrpcService behind a ClusterIP Service. The probes
are stopped with SIGINT (a watch then reports what it measured) a few seconds after the
scale-in, so the file takes about 40-45 s, most of it the client's 30 s DNS floor.

Needs nginx, haproxy, dnsmasq (.ci/dataplane-deps.sh) and cryptography + grpcio-health-checking
+ grpcio-reflection (requirements-dev.txt). Without them the tests skip, unless
GRPC_KUBE_REQUIRE_DATAPLANE=1 (CI), which turns a missing dependency into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "demo" / "greeter"))

import dataplane  # noqa: E402

from grpc_kube import balance_probe as bp  # noqa: E402

SERVICE = "greeter.demo.svc.cluster.local"
AGE_MS = 2000  # GrpcService's headless default is 30000; see the module docstring
DURATION_S = 90  # an upper bound: the probes are stopped (SIGINT) once the story is over
RATE = 100  # calls/s per probe
SETTLE_S = 3.0  # after the client re-resolved, before scaling in
AFTER_S = 4.0  # after the removed greeters exited, before stopping the probes
DRAIN = {"GRPC_SHUTDOWN_DELAY_MS": "1000"}  # the greeter's default is 5000


@dataclass(frozen=True)
class Watched:
    report: dict[str, Any]
    stderr: str
    code: int
    old: list[str]  # the original 3 greeters (removed at scale-in)
    new: list[str]  # the 3 added at scale-out

    def rel(self, t: float) -> float:
        """A Unix time as seconds into this probe's watch."""
        return t - float(self.report["started_at"])

    @property
    def intervals(self) -> list[bp.Interval]:
        return bp.watch_intervals(self.report)


@dataclass(frozen=True)
class Story:
    paths: dict[str, Watched]
    ready: float  # Unix time: the 3 new greeters of every path are serving
    re_resolved: float  # Unix time: dnsmasq logged the client-side probe's next query
    scale_in: float  # Unix time: the originals left the proxies and DNS
    stopped: float  # Unix time: the originals have exited after SIGTERM
    drain_logs: dict[str, str]  # what the removed greeters wrote


def _missing() -> list[str]:
    missing = [b for b in ("nginx", "haproxy", "dnsmasq") if dataplane.find_binary(b) is None]
    for module in ("cryptography", "grpc_health", "grpc_reflection"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python package {module}")
    return missing


def _wait(what: str, done: Callable[[], bool], deadline: float) -> None:
    while not done():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    missing = _missing()
    if missing:
        why = (
            f"scale-out test needs {', '.join(missing)}: run .ci/dataplane-deps.sh and "
            "pip install -r requirements-dev.txt"
        )
        if os.environ.get("GRPC_KUBE_REQUIRE_DATAPLANE") == "1":
            pytest.fail(f"{why} (GRPC_KUBE_REQUIRE_DATAPLANE=1: not skipping)", pytrace=False)
        pytest.skip(why)
    find = dataplane.find_binary
    with dataplane.DataPlane(tmp_path_factory.mktemp("scale-out")) as dp:
        pki = dataplane.make_pki(dp.workdir)
        # L7 and L4 front the same greeters (127.0.0.1, a port each, no max connection age).
        proxied = dp.start_greeters(["l-1", "l-2", "l-3"], extra_env=DRAIN)
        # Client-side: one loopback address each and one shared port, as pod IPs.
        hosts = [f"127.0.0.{n}" for n in range(31, 37)]
        port = dataplane.free_port_on(hosts)
        aged = {"GRPC_SERVER_MAX_CONNECTION_AGE_MS": str(AGE_MS), **DRAIN}
        headless = dp.start_greeters(
            ["h-1", "h-2", "h-3"], extra_env=aged, hosts=hosts[:3], port=port
        )
        l7 = dp.start_nginx(proxied, pki, find("nginx") or "nginx")
        l4 = dp.start_haproxy(proxied, find("haproxy") or "haproxy", reloadable=True)
        dns = dp.start_dnsmasq({SERVICE: [b.host for b in headless]}, find("dnsmasq") or "dnsmasq")

        def dns_queries() -> int:
            return dp.log("dnsmasq").count(f"query[A] {SERVICE} ")

        watch = ["--duration", str(DURATION_S), "--rate", str(RATE), "--json", "--quiet"]
        target = f"dns://127.0.0.1:{dns}/{SERVICE}:{port}"
        argv = {
            "l7": [f"127.0.0.1:{l7}", "--tls", "--cacert", str(pki.ca)],
            "client-side": [target, "--lb-policy", "round_robin", "--health-check"],
            "l4": [f"127.0.0.1:{l4}"],
        }
        before = dns_queries()  # start_dnsmasq's own check
        probes = {
            path: subprocess.Popen(
                [sys.executable, "-m", "grpc_kube.balance_probe", *args, *watch],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
            )
            for path, args in argv.items()
        }
        try:
            # The client-side probe resolved the name (its warm-up): its 30 s start here.
            launched = time.time()
            _wait("the client-side probe's first DNS query", lambda: dns_queries() > before,
                  launched + 30)  # fmt: skip
            time.sleep(3.0)  # a few intervals of 3 backends first

            proxied += dp.start_greeters(["l-4", "l-5", "l-6"], extra_env=DRAIN)
            headless += dp.start_greeters(
                ["h-4", "h-5", "h-6"], extra_env=aged, hosts=hosts[3:], port=port
            )
            ready = time.time()
            dp.reload_nginx(proxied)
            dp.reload_haproxy(proxied)
            dp.set_dns_records(dns, {SERVICE: [b.host for b in headless]})
            asked = dns_queries()  # set_dns_records' own checks included
            _wait("the client-side probe's DNS re-resolution", lambda: dns_queries() > asked,
                  ready + 45)  # fmt: skip
            re_resolved = time.time()
            time.sleep(SETTLE_S)

            gone = [b.name for b in proxied[:3] + headless[:3]]
            scale_in = time.time()
            with ThreadPoolExecutor(1) as pool:
                stopping = pool.submit(dp.stop, *gone)  # SIGTERM to all six, then wait
                dp.reload_nginx(proxied[3:])
                dp.reload_haproxy(proxied[3:])
                dp.set_dns_records(dns, {SERVICE: [b.host for b in headless[3:]]})
                codes = stopping.result(timeout=30)
            stopped = time.time()
            assert codes == [0] * 6, f"greeters did not exit cleanly on SIGTERM: {codes}"
            drain_logs = {name: dp.log(name) for name in gone}
            time.sleep(AFTER_S)
            for p in probes.values():
                p.send_signal(signal.SIGINT)  # ends a watch early, with its report
            outs = {path: p.communicate(timeout=30) for path, p in probes.items()}
        finally:
            for p in probes.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
        paths = {}
        for path, (out, err) in outs.items():
            # Kept with the process logs in the work dir, for a failure to be read later.
            (dp.workdir / f"probe-{path}.json").write_text(out)
            assert "Traceback" not in err, err
            group = "l" if path != "client-side" else "h"
            paths[path] = Watched(
                json.loads(out),
                err,
                probes[path].returncode,
                [f"{group}-{i}" for i in (1, 2, 3)],
                [f"{group}-{i}" for i in (4, 5, 6)],
            )
        yield Story(paths, ready, re_resolved, scale_in, stopped, drain_logs)


def _scaled_out(p: Watched, s: Story) -> bp.Convergence:
    """The spread between the new greeters being ready and the scale-in."""
    return bp.find_convergence(p.intervals, since_s=p.rel(s.ready), until_s=p.rel(s.scale_in))


def _summary(p: Watched) -> str:
    rows = "\n".join(bp.format_interval_row(r) for r in p.report["intervals"])
    return f"{p.report['headline']}: {p.report['reason']}\n{rows}\n{p.stderr}"


def test_l7_nginx_reload_spreads_over_the_new_backends_at_once(story: Story) -> None:
    p = story.paths["l7"]
    conv = _scaled_out(p, story)
    assert conv.converged, _summary(p)
    assert set(conv.backends) == set(p.old + p.new)
    # nginx's new workers take the client's next connection: a second or so, bounded at 5.
    assert conv.at_s is not None and conv.at_s - p.rel(story.ready) <= 5.0, _summary(p)


def test_client_side_round_robin_spreads_once_the_client_re_resolves(story: Story) -> None:
    p = story.paths["client-side"]
    conv = _scaled_out(p, story)
    assert conv.converged, _summary(p)
    assert set(conv.backends) == set(p.old + p.new)
    # The client learned the new addresses when it asked DNS again (its connections had been
    # closing every 2 s long before that: the resolver's 30 s floor set the pace), and spread
    # over them within a few seconds of that.
    first = min(p.report["first_seen_s"][b] for b in p.new)
    assert first >= p.rel(story.re_resolved) - 0.5, (first, p.rel(story.re_resolved))
    assert conv.at_s is not None and conv.at_s - p.rel(story.re_resolved) <= 5.0, _summary(p)


def test_l4_keeps_the_open_connection_on_its_backend(story: Story) -> None:
    p = story.paths["l4"]
    conv = _scaled_out(p, story)
    assert not conv.converged, _summary(p)
    assert "every interval sent all its calls to one backend" in conv.reason
    since, until = p.rel(story.ready), p.rel(story.scale_in)
    window = [iv for iv in p.intervals if iv.start_s >= since and iv.end_s <= until]
    assert window and all(len(iv.seen) == 1 for iv in window), _summary(p)
    # Until the scale-in, the one connection stayed on an original backend; no new one got a call.
    assert all(p.report["first_seen_s"][b] > until for b in p.new if b in p.report["backends"])
    assert p.report["verdict"] == "not_converged" and p.code == bp.EXIT_UNBALANCED


@pytest.mark.parametrize("path", ["l7", "client-side"])
def test_scale_in_loses_no_call_and_converges_over_the_remaining_three(
    story: Story, path: str
) -> None:
    p = story.paths[path]
    r = p.report
    assert r["calls"]["failed"] == 0, (r["errors"], r["first_error"], _summary(p))
    # A sanity check that the probe kept its pace (it drops call slots when the machine stalls).
    assert r["interrupted"] and r["calls"]["ok"] >= 0.5 * RATE * r["duration_s"], r["calls"]
    assert (r["verdict"], p.code) == ("converged", 0), _summary(p)
    assert r["convergence"]["backends"] == sorted(p.new)
    # The removed greeters drained (NOT_SERVING, then the delay) and answered nothing after it.
    for b in p.old:
        assert "SIGTERM, NOT_SERVING, stopping in 1 s" in story.drain_logs[b], story.drain_logs[b]
        assert r["last_seen_s"][b] <= p.rel(story.scale_in) + 2.5, r["last_seen_s"]


def test_l4_after_scale_in_moves_the_connection_without_spreading(story: Story) -> None:
    """Its backend was removed: the greeter's GOAWAY made the client reconnect, through haproxy,
    to one of the remaining backends, where every call went from then on. Calls that crossed the
    GOAWAY may have failed (CANCELLED): counted in the report, not asserted."""
    p = story.paths["l4"]
    after = [iv for iv in p.intervals if iv.start_s >= p.rel(story.stopped) + 1.0]
    assert after and all(len(iv.seen) == 1 for iv in after), _summary(p)
    assert after[-1].seen <= set(p.new)
