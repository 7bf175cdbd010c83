"""Latency of the same unary calls direct vs through an L7 gRPC proxy, and grpc-lb-check's own
throughput, on the local miniature data plane (demo/greeter/dataplane.py).

    python benchmarks/bench_dataplane.py            # from the repository root, venv active
    python benchmarks/bench_dataplane.py --calls 2000 --throughput-calls 10000

Every number comes from grpc-lb-check itself (`--json`): p50/p99 are its per-call latencies,
calls/s its measured rate. Latency rows run one call at a time (--concurrency 1) so they show
the cost of the path, not queueing; the throughput row runs 64 calls in flight against one
greeter. The probe's CPU per call (its process's user+sys time, minus a 1-call run's start-up
cost) says how many calls/s the probe could drive on one core if the greeter kept up. If
h2load (apt: nghttp2-client) is installed, the greeter's own ceiling is measured with it too.

A script, not a test: numbers depend on the machine and on whatever else runs on it.
Needs nginx and haproxy (.ci/dataplane-deps.sh) and requirements-dev.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Runnable as `python benchmarks/bench_dataplane.py` without installing the package.
sys.path[:0] = [str(REPO), str(REPO / "demo" / "greeter")]

import dataplane  # noqa: E402

from grpc_kube import _helloworld as hw  # noqa: E402

PROBE = [sys.executable, "-m", "grpc_kube.balance_probe"]


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_probe(args: list[str]) -> tuple[dict[str, Any], float, str]:
    """One grpc-lb-check run: its JSON report, the CPU seconds it used, the command line."""
    argv = [*PROBE, *args, "--json", "--quiet"]
    before = _children_cpu_s()
    r = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=300)
    cpu = _children_cpu_s() - before
    if r.returncode == 2:
        raise SystemExit(f"probe failed: {shlex.join(argv)}\n{r.stderr}")
    shown = ["grpc-lb-check", *args]
    return json.loads(r.stdout), cpu, shlex.join(shown)


def greeter_capacity(greeter: dataplane.Backend, calls: int, concurrency: int) -> float | None:
    """The greeter's own ceiling, measured with h2load (nghttp2-client) if it is installed: a C
    HTTP/2 client that costs the greeter's cores almost nothing. gRPC is HTTP/2 POSTs with a
    5-byte length prefix on the message, which h2load can send from a file."""
    h2load = shutil.which("h2load")
    if h2load is None:
        return None
    body = hw.encode_request("h2load")
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(b"\x00" + struct.pack(">I", len(body)) + body)
        f.flush()
        argv = [h2load, "-n", str(calls), "-c", "1", "-m", str(concurrency)]
        argv += ["-H", "content-type: application/grpc", "-H", "te: trailers", "-d", f.name]
        argv.append(f"http://{greeter.address}{hw.METHOD_SAY_HELLO}")
        out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout
    m = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out)
    ok = re.search(r"requests: .* (\d+) succeeded", out)
    if not m or not ok or int(ok.group(1)) != calls:
        return None
    return float(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1000, help="calls per latency row (1000)")
    ap.add_argument(
        "--throughput-calls", type=int, default=6000, help="calls in the throughput row (6000)"
    )
    ap.add_argument("--concurrency", type=int, default=64, help="in flight, throughput row (64)")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs (3): the VM is noisy")
    ns = ap.parse_args()

    missing = [b for b in ("nginx", "haproxy") if dataplane.find_binary(b) is None]
    if missing:
        print(f"missing {', '.join(missing)}: run .ci/dataplane-deps.sh", file=sys.stderr)
        return 2

    print(
        f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start"
    )
    with dataplane.DataPlane() as dp:
        pki = dataplane.make_pki(dp.workdir)
        greeters = dp.start_greeters(["greeter-a", "greeter-b", "greeter-c"])
        one = greeters[:1]
        nginx = dataplane.find_binary("nginx") or "nginx"
        l7_one = dp.start_nginx(one, pki, nginx, name="nginx-one")
        l7_all = dp.start_nginx(greeters, pki, nginx, name="nginx-all")
        l4_all = dp.start_haproxy(greeters, dataplane.find_binary("haproxy") or "haproxy")
        tls = ["--tls", "--cacert", str(pki.ca)]
        rr = "ipv4:" + ",".join(g.address for g in greeters)

        n = str(ns.calls)
        lat_rows = [
            ("direct, plaintext -> 1 greeter", [one[0].address]),
            ("nginx grpc_pass, TLS -> 1 greeter", [f"127.0.0.1:{l7_one}", *tls]),
            ("nginx grpc_pass, TLS -> 3 greeters", [f"127.0.0.1:{l7_all}", *tls]),
            ("haproxy TCP (L4) -> 3 greeters", [f"127.0.0.1:{l4_all}"]),
            ("client round_robin -> 3 greeters", [rr, "--lb-policy", "round_robin"]),
        ]
        results = []
        for label, target_args in lat_rows:
            args = [*target_args, "--calls", n, "--concurrency", "1", "--expect-backends"]
            args.append("1" if "1 greeter" in label else "3")
            report, _, cmd = run_probe(args)
            results.append((label, report, cmd))

        # Start-up cost (imports, channel set-up) of one probe process, to subtract.
        _, base_cpu, _ = run_probe([one[0].address, "--calls", "1", "--expect-backends", "1"])
        t_args = [one[0].address, "--calls", str(ns.throughput_calls)]
        t_args += ["--concurrency", str(ns.concurrency), "--expect-backends", "1"]
        throughput = []
        for _ in range(ns.repeat):
            t_report, t_cpu, t_cmd = run_probe(t_args)
            per_call_us = max(t_cpu - base_cpu, 0.0) / max(ns.throughput_calls - 1, 1) * 1e6
            throughput.append((t_report, per_call_us))
        h2load = greeter_capacity(one[0], ns.throughput_calls, ns.concurrency)

    print()
    print(f"Latency, one call at a time, {ns.calls} calls per row (milliseconds)")
    print(f"{'path':<38} {'p50':>7} {'p99':>7} {'calls/s':>8}  {'backends'}")
    for label, r, _ in results:
        spread = "/".join(str(v) for v in r["backends"].values())
        print(
            f"{label:<38} {r['latency_ms']['p50']:>7.3f} {r['latency_ms']['p99']:>7.3f} "
            f"{r['calls_per_s']:>8.0f}  {spread} ({r['verdict']})"
        )
    print()
    print(f"Probe throughput against one local greeter ({ns.concurrency} in flight)")
    for t_report, per_call_us in throughput:
        print(
            f"  {t_report['calls']['ok']} calls in {t_report['elapsed_s']:.2f} s = "
            f"{t_report['calls_per_s']:.0f} calls/s (p50 {t_report['latency_ms']['p50']:.2f} ms, "
            f"p99 {t_report['latency_ms']['p99']:.2f} ms, {t_report['calls']['failed']} failed); "
            f"probe CPU {per_call_us:.0f} us/call = ~{1e6 / max(per_call_us, 1):.0f} calls/s "
            "per core"
        )
    if h2load is not None:
        print(
            f"  for scale, the same greeter driven by h2load (a C client, {ns.concurrency} in "
            f"flight): {h2load:.0f} calls/s"
        )
    print()
    print("Commands (TARGETs are this run's ports; the CA was a throwaway):")
    for _, _, cmd in results:
        print(f"  {cmd}")
    print(f"  {t_cmd}")
    print(f"# finished {time.strftime('%Y-%m-%d %H:%M:%S')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
