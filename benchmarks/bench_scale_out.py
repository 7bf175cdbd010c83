"""How soon a scale-out from 3 to 6 greeters spreads the calls of a connected client, and what a
scale-in back to 3 costs, per path, on the local miniature data plane (demo/greeter/dataplane.py).

    python benchmarks/bench_scale_out.py          # repository root, venv active; ~12 minutes
    python benchmarks/bench_scale_out.py --ages 5,10,30 --offsets 5 --drain-trials 0

Every number comes from `grpc-lb-check --duration ... --interval 0.1 --json` (watch mode), one
probe process per scenario:

    L7           nginx grpc_pass over TLS; `nginx -s reload` with the new upstreams
    L4           haproxy TCP; reloaded with the new servers (the open connection stays put)
    client-side  dnsmasq answers the name with the greeters' 127.0.0.x addresses, the probe dials
                 dns://127.0.0.1:PORT/name:port with round_robin and client-side health checking;
                 greeters run with GRPC_SERVER_MAX_CONNECTION_AGE_MS = AGE (one row per --ages)

Scale-out: OFFSET seconds after the client resolved the name (its first DNS query, as dnsmasq
logs it; for the proxies, after the probe started), 3 more greeters start; "ready" is when all
3 serve, and the path learns them right then. Reported, in seconds after ready:

    first call   when a new greeter answered its first call
    fair         the start of the first 1 s window (sliding by 0.1 s) from which every window up
                 to the scale-in had all 6 greeters and busiest/least busy <= 1.1, for at least
                 1.5 s (the scale-in comes --settle s after the path had the new greeters)

gRPC's DNS resolver re-resolves at most once per 30 s, counted from its last resolution, however
soon a connection closes: a client that resolved OFFSET s before the scale-out learns the new
pods about 30 - OFFSET s after it if AGE <= 30 s. Two offsets bracket where in that cycle a
long-running client can be.

Scale-in (some seconds after fair): the 3 original greeters (where the connections were) get
SIGTERM at the same moment as the path drops them, as Kubernetes does without a preStop hook;
the greeters run with their default 5 s shutdown delay. Reported: when the last call reached a
removed greeter (s after SIGTERM), and calls that failed from the scale-in on.

Drain trials (--drain-trials N): one of two greeters gets SIGTERM under a round_robin probe at
--drain-rate calls/s, N times per variant: no shutdown delay (the greeter before the delay was
added), a 1 s delay, and a 1 s delay with client-side health checking. Failed calls, summed.

A script, not a test: numbers depend on the machine and on whatever else runs on it.
Needs nginx, haproxy, dnsmasq (.ci/dataplane-deps.sh) and requirements-dev.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Runnable as `python benchmarks/bench_scale_out.py` without installing the package.
sys.path[:0] = [str(REPO), str(REPO / "demo" / "greeter")]

import dataplane  # noqa: E402

from grpc_kube import balance_probe as bp  # noqa: E402

PROBE = [sys.executable, "-m", "grpc_kube.balance_probe"]
SERVICE = "greeter.demo.svc.cluster.local"
INTERVAL = 0.1  # probe rows; 10 of them make the 1 s window
WINDOW = 10
FAIR = 1.1  # busiest / least busy greeter within a window
SHIPPED_DELAY = {"GRPC_SHUTDOWN_DELAY_MS": "5000"}  # the greeter's default, explicit


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for(what: str, done: Callable[[], bool], timeout: float) -> float:
    deadline = time.time() + timeout
    while not done():
        if time.time() > deadline:
            raise SystemExit(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)
    return time.time()


@dataclass
class Row:
    path: str
    age_s: int | None
    offset_s: float
    first_call_s: float | None = None
    fair_s: float | None = None
    not_fair: str = ""
    last_to_removed_s: float | None = None
    failed_at_scale_in: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    headline: str = ""
    command: str = ""


def launch(args: list[str], rate: float, interval: float = INTERVAL) -> tuple[Any, str]:
    """A watching probe (its own process, JSON on stdout), and its command line to show."""
    watch = ["--duration", "600", "--interval", f"{interval:g}", "--rate", f"{rate:g}"]
    argv = [*PROBE, *args, *watch, "--json", "--quiet"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    return p, shlex.join(["grpc-lb-check", *args, *watch, "--json"])


def finish(p: subprocess.Popen[str]) -> dict[str, Any]:
    p.send_signal(signal.SIGINT)  # a watch ends early on SIGINT, with its report
    out, err = p.communicate(timeout=60)
    if p.returncode == 2 or not out.strip():
        raise SystemExit(f"probe failed ({p.returncode}):\n{err}")
    report: dict[str, Any] = json.loads(out)
    return report


def measure(
    row: Row,
    report: dict[str, Any],
    ready: float,
    scale_in: float,
    old: list[str],
    new: list[str],
) -> Row:
    t0 = float(report["started_at"])
    ready_s, scale_in_s = ready - t0, scale_in - t0
    ivs = bp.watch_intervals(report)
    windows = bp.sliding_windows(ivs, WINDOW)
    conv = bp.find_convergence(
        windows,
        metric="max_min",
        threshold=FAIR,
        since_s=ready_s,
        until_s=scale_in_s,
        min_stable_s=1.5,
    )
    first = report["first_seen_s"]
    seen_new = [first[b] for b in new if b in first and first[b] < scale_in_s]
    row.first_call_s = min(seen_new) - ready_s if seen_new else None
    if conv.converged and len(conv.backends) == 6 and conv.at_s is not None:
        row.fair_s = conv.at_s - ready_s
    else:
        before = [iv for iv in ivs if ready_s <= iv.start_s and iv.end_s <= scale_in_s]
        if before and all(len(iv.seen) == 1 for iv in before):
            pinned = set().union(*(iv.seen for iv in before))
            row.not_fair = f"never (pinned to {', '.join(sorted(pinned))})"
        else:
            row.not_fair = f"not before the scale-in: {conv.reason}"
    last = report["last_seen_s"]
    row.last_to_removed_s = max(last[b] for b in old if b in last) - scale_in_s
    after = [iv for iv in ivs if iv.start_s >= scale_in_s - INTERVAL]
    for iv in after:
        row.errors.update(iv.errors)
    row.failed_at_scale_in = sum(row.errors.values())
    row.headline = report["headline"]
    return row


def run_proxy_path(path: str, rate: float, offset: float, settle: float) -> Row:
    """L7 (nginx) or L4 (haproxy) in front of greeters without a max connection age."""
    with dataplane.DataPlane() as dp:
        find = dataplane.find_binary
        pki = dataplane.make_pki(dp.workdir)
        names = [f"{path}-{i}" for i in range(1, 7)]
        greeters = dp.start_greeters(names[:3], extra_env=SHIPPED_DELAY)
        if path == "L7":
            port = dp.start_nginx(greeters, pki, find("nginx") or "nginx")
            args = [f"127.0.0.1:{port}", "--tls", "--cacert", str(pki.ca)]
        else:
            port = dp.start_haproxy(greeters, find("haproxy") or "haproxy", reloadable=True)
            args = [f"127.0.0.1:{port}"]
        p, cmd = launch(args, rate)
        try:
            time.sleep(2.0 + offset)  # the probe's start-up, then OFFSET of 3 greeters
            greeters += dp.start_greeters(names[3:], extra_env=SHIPPED_DELAY)
            ready = time.time()
            reload = dp.reload_nginx if path == "L7" else dp.reload_haproxy
            reload(greeters)
            time.sleep(settle)
            scale_in = scale_in_both(dp, names[:3], lambda: reload(greeters[3:]))
            time.sleep(3.0)
            report = finish(p)
        finally:
            if p.poll() is None:
                p.kill()
        row = Row(path, None, offset, command=cmd.replace(str(pki.ca), "ca.pem"))
        return measure(row, report, ready, scale_in, names[:3], names[3:])


def scale_in_both(dp: dataplane.DataPlane, gone: list[str], drop: Callable[[], None]) -> float:
    """SIGTERM to `gone` and the path dropping them at the same moment; returns when that began,
    after the greeters have exited."""
    started = time.time()
    with ThreadPoolExecutor(1) as pool:
        stopping = pool.submit(dp.stop, *gone)
        drop()
        codes = stopping.result(timeout=60)
    if codes != [0] * len(gone):
        raise SystemExit(f"greeters exited with {codes} after SIGTERM")
    return started


def run_client_side(age: int, rate: float, offset: float, settle: float) -> Row:
    with dataplane.DataPlane() as dp:
        find = dataplane.find_binary
        names = [f"age{age}-{i}" for i in range(1, 7)]
        hosts = [f"127.0.0.{n}" for n in range(51, 57)]
        port = dataplane.free_port_on(hosts)
        env = {"GRPC_SERVER_MAX_CONNECTION_AGE_MS": str(age * 1000), **SHIPPED_DELAY}
        greeters = dp.start_greeters(names[:3], extra_env=env, hosts=hosts[:3], port=port)
        dns = dp.start_dnsmasq({SERVICE: hosts[:3]}, find("dnsmasq") or "dnsmasq")

        def queries() -> int:
            return dp.log("dnsmasq").count(f"query[A] {SERVICE} ")

        before = queries()
        target = f"dns://127.0.0.1:{dns}/{SERVICE}:{port}"
        p, cmd = launch([target, "--lb-policy", "round_robin", "--health-check"], rate)
        try:
            resolved = wait_for("the probe's first DNS query", lambda: queries() > before, 30)
            time.sleep(max(0.0, resolved + offset - time.time()))
            greeters += dp.start_greeters(names[3:], extra_env=env, hosts=hosts[3:], port=port)
            ready = time.time()
            dp.set_dns_records(dns, {SERVICE: hosts})
            asked = queries()
            # The client learns the new greeters at its next resolution: wait for it (at most
            # the 30 s floor or the age, plus jitter), then let the spread show.
            wait_for("the probe's re-resolution", lambda: queries() > asked, 1.2 * age + 45)
            time.sleep(settle)
            scale_in = scale_in_both(
                dp, names[:3], lambda: dp.set_dns_records(dns, {SERVICE: hosts[3:]})
            )
            time.sleep(3.0)
            report = finish(p)
        finally:
            if p.poll() is None:
                p.kill()
        row = Row("client-side", age, offset, command=cmd)
        return measure(row, report, ready, scale_in, names[:3], names[3:])


def drain_trials(trials: int, rate: float) -> list[tuple[str, int, Counter[str], int]]:
    """(variant, trials, failed calls by code, calls) with one of two greeters stopped under
    load each trial."""
    variants = [
        ("no shutdown delay, round_robin", "0", False),
        ("1 s shutdown delay, round_robin", "1000", False),
        ("1 s shutdown delay, round_robin + health check", "1000", True),
    ]
    out = []
    with dataplane.DataPlane() as dp:
        hosts = ["127.0.0.61", "127.0.0.62"]
        for label, delay, health in variants:
            errors: Counter[str] = Counter()
            calls = 0
            for t in range(trials):
                port = dataplane.free_port_on(hosts)
                names = [f"keep-{delay}-{health:d}-{t}", f"stop-{delay}-{health:d}-{t}"]
                env = {"GRPC_SHUTDOWN_DELAY_MS": delay}
                greeters = dp.start_greeters(names, extra_env=env, hosts=hosts, port=port)
                target = "ipv4:" + ",".join(g.address for g in greeters)
                args = [target, "--lb-policy", "round_robin", *(["--health-check"] * health)]
                p, _ = launch(args, rate, interval=0.5)
                try:
                    time.sleep(2.5)  # probe start-up and a second of calls to both
                    dp.stop(names[1])
                    time.sleep(1.0)
                    report = finish(p)
                finally:
                    if p.poll() is None:
                        p.kill()
                dp.stop(names[0])
                errors.update(report["errors"])
                calls += report["calls"]["issued"]
            out.append((label, trials, errors, calls))
    return out


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{round(x, 1) + 0.0:.1f}"  # + 0.0: no "-0.0"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", default="L7,L4,client-side", help="which paths (all three)")
    ap.add_argument("--ages", default="5,10,30,60", help="client-side max connection ages, s")
    ap.add_argument(
        "--offsets",
        default="5,25",
        help="seconds between the client's DNS resolution and the scale-out (5,25)",
    )
    ap.add_argument("--rate", type=float, default=200, help="probe calls/s per scenario (200)")
    ap.add_argument("--settle", type=float, default=4.0, help="s of fair spread before scale-in")
    ap.add_argument("--drain-trials", type=int, default=15, help="per variant (15); 0 skips")
    ap.add_argument("--drain-rate", type=float, default=1000, help="calls/s, drain trials (1000)")
    ns = ap.parse_args()
    ages = [int(a) for a in ns.ages.split(",") if a]
    offsets = [float(o) for o in ns.offsets.split(",") if o]

    missing = [b for b in ("nginx", "haproxy", "dnsmasq") if dataplane.find_binary(b) is None]
    if missing:
        print(f"missing {', '.join(missing)}: run .ci/dataplane-deps.sh", file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    print(
        f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {loadavg()} at start ({started})",
        flush=True,
    )
    paths = ns.paths.split(",")
    rows: list[Row] = []
    for path in ("L7", "L4"):
        if path in paths:
            rows.append(run_proxy_path(path, ns.rate, offsets[0], ns.settle))
            print(f"  {path} done, load {loadavg()}", flush=True)
    for age in ages if "client-side" in paths else []:
        for offset in offsets:
            rows.append(run_client_side(age, ns.rate, offset, ns.settle))
            print(
                f"  client-side age {age} s offset {offset:g} s done, load {loadavg()}", flush=True
            )
    drains = drain_trials(ns.drain_trials, ns.drain_rate) if ns.drain_trials > 0 else []

    print()
    print(
        f"Scale-out 3 -> 6 and scale-in 6 -> 3, {ns.rate:g} calls/s, fair = every 1 s window "
        f"with all 6 and busiest/least busy <= {FAIR} (seconds after the new greeters were ready)"
    )
    print(
        "| path | max connection age | client resolved before scale-out | first call to a new "
        "greeter | fair spread | last call to a removed greeter after SIGTERM | calls failed "
        "at scale-in |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        age_col = f"{r.age_s} s" if r.age_s is not None else "none"
        offset_col = f"{r.offset_s:g} s" if r.path == "client-side" else "-"
        fair = fmt(r.fair_s) if r.fair_s is not None else r.not_fair
        failed = str(r.failed_at_scale_in)
        if r.errors:
            failed += " (" + ", ".join(f"{k} x{v}" for k, v in sorted(r.errors.items())) + ")"
        print(
            f"| {r.path} | {age_col} | {offset_col} | {fmt(r.first_call_s)} | {fair} | "
            f"{fmt(r.last_to_removed_s)} | {failed} |"
        )
    if drains:
        print()
        print(
            f"SIGTERM to one of two greeters under a round_robin probe at {ns.drain_rate:g} "
            f"calls/s, {ns.drain_trials} trials per row"
        )
        print("| greeter shutdown, client | calls | failed |")
        print("|---|---|---|")
        for label, _, errors, calls in drains:
            codes = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items()))
            print(f"| {label} | {calls} | {sum(errors.values())}{f' ({codes})' if codes else ''} |")
    print()
    print("Commands (ports are this run's; ca.pem the throwaway CA):")
    for r in rows:
        print(f"  {r.command}")
    print(f"# finished {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
