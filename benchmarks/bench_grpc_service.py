"""Benchmark (not a test): time the program under mocks for 10, 100 and 500 GrpcServices against
the very same Kubernetes objects registered as raw pulumi_kubernetes resources.

    python benchmarks/bench_grpc_service.py [--sizes 10 100 500] [--repeat 3]

Targets on a 2-core machine: 500 services under 10 s, and at most 1.3x the raw objects' time.
Exits 1 when a target is missed, so it can gate a release by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulumi_kubernetes as k8s

from grpc_kube import GrpcService, GrpcServiceArgs
from grpc_kube.testing import run_program

RAW_CLASSES: dict[str, Any] = {
    "ServiceAccount": k8s.core.v1.ServiceAccount,
    "Service": k8s.core.v1.Service,
    "Deployment": k8s.apps.v1.Deployment,
    "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
}


def components_program(n: int) -> None:
    for i in range(n):
        GrpcService(
            f"svc{i}", GrpcServiceArgs(image="ghcr.io/example/greeter:1.0.0", namespace="bench")
        )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def raw_program(objects: list[dict[str, Any]]) -> None:
    for i, obj in enumerate(objects):
        # Top-level keyword arguments are snake_case in the SDK; nested dicts keep camelCase.
        kwargs = {_snake(k): v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        meta = kwargs["metadata"]
        RAW_CLASSES[obj["kind"]](f"{meta['name']}-{obj['kind'].lower()}-{i}", **kwargs)


def timed(fn: Any, repeat: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rec = run_program(fn)
        times.append(time.perf_counter() - start)
        count = len(rec)
    return statistics.median(times), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    sizes = " ".join(map(str, opts.sizes))
    print(
        f"command: python benchmarks/bench_grpc_service.py --sizes {sizes} --repeat {opts.repeat}"
    )
    print(f"{'services':>8} {'resources':>9} {'components s':>12} {'raw s':>8} {'ratio':>6}")
    ok = True
    for n in opts.sizes:
        comp_s, comp_count = timed(lambda n=n: components_program(n), opts.repeat)
        objects = run_program(lambda n=n: components_program(n)).kubernetes_objects()
        raw_s, _ = timed(lambda objects=objects: raw_program(objects), opts.repeat)
        ratio = comp_s / raw_s
        print(f"{n:>8} {comp_count:>9} {comp_s:>12.2f} {raw_s:>8.2f} {ratio:>6.2f}")
        if n >= 500 and (comp_s > 10 or ratio > 1.3):
            ok = False
    print("targets met" if ok else "TARGET MISSED (500 services: < 10 s and <= 1.3x raw)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
