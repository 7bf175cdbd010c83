"""grpc-lb-check: measure how one client's gRPC calls spread over the backends behind a target.

gRPC multiplexes every call of a channel over one long-lived HTTP/2 connection. A per-connection
(L4) balancer such as a ClusterIP Service therefore sends all calls of a channel to one pod. The
probe makes that visible: it sends unary `helloworld.Greeter/SayHello` calls (answered by the demo
greeter in demo/greeter, which names the pod that served it), counts where they landed, and
says whether the path balances per request.

    grpc-lb-check grpctest.dev.example.com:443 --tls --cacert ca.pem --expect-backends 3

Exit status: 0 balanced, 1 pinned or over --threshold, 2 error (unreachable, TLS, deadline, bad
arguments). Tallying, imbalance and the verdict are pure functions, unit-tested on their own.

Watch mode follows the spread over time, e.g. while a Deployment scales from 3 to 6 replicas:

    grpc-lb-check grpctest.dev.example.com:443 --tls --cacert ca.pem --duration 60 --rate 200

It prints one row per --interval (calls per backend, failed calls), then when the spread
converged over the backends seen (`CONVERGED after 3.1 s across 6 backends`) or why it did not.
Exit status: 0 converged with no failed call, 1 not converged or calls failed, 2 error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

# gRPC core logs a failed TLS handshake at INFO level on stderr, above the probe's one-line
# error. It reads this variable once, when grpc is first imported, so it is set before the
# import (a value the user exported still wins). It cannot help when something imported grpc
# earlier, e.g. a `components/__init__.py` that imports Pulumi.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import grpc

from . import _helloworld as hw

__all__ = [
    "EXIT_BALANCED",
    "EXIT_ERROR",
    "EXIT_UNBALANCED",
    "CallRecord",
    "Convergence",
    "Interval",
    "Options",
    "ProbeError",
    "RunResult",
    "Verdict",
    "WatchResult",
    "WatchVerdict",
    "bucket_calls",
    "build_report",
    "build_watch_report",
    "describe_rpc_error",
    "error_report",
    "exit_code",
    "fair_share_backends",
    "find_convergence",
    "first_last_seen",
    "format_interval_row",
    "format_report",
    "format_watch_header",
    "format_watch_report",
    "format_watch_summary",
    "imbalance",
    "interval_count",
    "judge",
    "judge_watch",
    "main",
    "max_min",
    "parse_args",
    "percentile",
    "pinned_sequence",
    "sliding_windows",
    "tally",
    "unfair_reason",
    "watch_exit_code",
    "watch_intervals",
]

EXIT_BALANCED = 0
EXIT_UNBALANCED = 1
EXIT_ERROR = 2

VerdictKind = Literal["balanced", "pinned", "unbalanced"]

# A channel that carried fewer calls than this and still saw one backend may have done so by
# chance (with 3 backends and 20 calls spread per request, the odds are 3 * (1/3)**20 ~ 1e-9).
MIN_CALLS_TO_JUDGE_A_CHANNEL = 20
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_PORT_FORWARD_NOTE = (
    "The target is a local address: if it is a `kubectl port-forward`, that tunnel goes to ONE "
    "pod, so calls through it always look pinned; measure through the ingress or from a pod "
    "inside the cluster instead."
)


class ProbeError(Exception):
    """A failure that makes the measurement meaningless; main() prints it as one line, exit 2."""


# ----------------------------------------------------------------------------- pure functions


def tally(backends: Iterable[str]) -> dict[str, int]:
    """Calls per backend, busiest first (ties by name, so output is stable)."""
    counts = Counter(backends)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def fair_share_backends(counts: Mapping[str, int], expected: int | None) -> int:
    """How many backends the calls should have been shared by: those seen, or the number the
    user said exist if that is more (a backend that got no call never shows up in `counts`)."""
    seen = sum(1 for c in counts.values() if c > 0)
    return max(seen, expected or 0)


def imbalance(counts: Mapping[str, int], expected: int | None = None) -> float:
    """Busiest backend's calls divided by its fair share (total / backends).

    1.0 is a perfect spread; N means one backend took everything while N were expected. With
    one backend seen and no expectation it is 1.0: the ratio alone cannot tell one pod from a
    pinned path, which is why judge() also looks at how many backends answered.
    """
    total = sum(counts.values())
    n = fair_share_backends(counts, expected)
    if total <= 0 or n == 0:
        return 0.0
    return max(counts.values()) * n / total


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; 0.0 when empty. Nearest rank, not
    interpolation: p99 of 300 calls is a latency that some call really had."""
    if not values:
        return 0.0
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str
    notes: tuple[str, ...] = ()


def _hosts(target: str) -> list[str]:
    """The host part of each address in a gRPC target (`host:port`, `dns:///host:port`,
    `ipv4:a:p,b:p`, `[::1]:p`)."""
    rest = target
    for scheme in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if rest.startswith(scheme):
            rest = rest[len(scheme) :]
            break
    if rest.startswith("//"):  # dns://authority/host:port
        rest = rest[2:].split("/", 1)[-1]
    hosts = []
    for addr in rest.split(","):
        if addr.startswith("["):
            hosts.append(addr[1:].split("]", 1)[0])
        else:
            hosts.append(addr.rsplit(":", 1)[0] if addr.count(":") == 1 else addr)
    return hosts


def _is_single_local(target: str) -> bool:
    """One loopback address: what a `kubectl port-forward` looks like from the client."""
    hosts = _hosts(target)
    return len(hosts) == 1 and hosts[0] in _LOCAL_HOSTS


_PICK_FIRST = (
    "gRPC's default policy, pick_first, sends every call of a channel to the first address "
    "that connects. Use --lb-policy round_robin (the client config GrpcService exports for a "
    "headless Service)."
)


def _pinned_cause(total: int, channels: int, lb_policy: str | None, target: str) -> str:
    if lb_policy == "round_robin":
        return (
            "round_robin had only one address to use: the target resolves to a single IP (a "
            "ClusterIP Service, not a headless one) or only one pod is ready. Use a headless "
            "Service (clusterIP: None) and a dns:/// target, or an L7 proxy."
        )
    if len(_hosts(target)) > 1:
        # The client itself was given several addresses, so no balancer was in the way.
        return f"all {total} calls went to one of the target's addresses: {_PICK_FIRST}"
    if target.startswith("dns:"):
        return (
            f"all {total} calls went to one backend: if the name resolves to several pod IPs "
            f"(a headless Service), {_PICK_FIRST} If it resolves to one IP, that path balances "
            "per connection (L4): use an L7 proxy, a headless Service with round_robin, or a "
            "mesh."
        )
    if channels == 1:
        return (
            f"all {total} calls on one channel went to one backend: the path balances per "
            "connection (L4), like a ClusterIP Service or a TCP load balancer. Use an L7 proxy "
            "(ingress-nginx with backend-protocol GRPC), a headless Service with round_robin, "
            "or a mesh."
        )
    return (
        f"all {channels} channels ({channels} connections) landed on one backend: only one "
        "backend is ready, or the path pins connections (session affinity, a single upstream). "
        "Check the ready endpoints, then use an L7 proxy, a headless Service with round_robin, "
        "or a mesh."
    )


def judge(
    counts: Mapping[str, int],
    per_channel: Sequence[Mapping[str, int]],
    *,
    expected: int | None,
    threshold: float,
    lb_policy: str | None = None,
    target: str = "",
) -> Verdict:
    """Balanced, pinned or unbalanced, with the likely cause.

    pinned:     one backend answered every call while more exist (or their number is unknown),
                or every channel that carried enough calls stuck to a single backend: the
                spread then only reflects where connections landed, i.e. per-connection (L4).
    unbalanced: several backends answered, but the busiest took more than `threshold` times
                its fair share, or fewer backends answered than `expected`.
    balanced:   otherwise.
    """
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("judge() needs at least one successful call")
    seen = sum(1 for c in counts.values() if c > 0)
    ratio = imbalance(counts, expected)
    notes: list[str] = []
    if expected is not None and seen > expected:
        notes.append(
            f"{seen} backends answered but {expected} were expected (a rollout in progress?); "
            f"fair share is over {seen}."
        )
    # Only worth saying when the result is bad: then a port-forward would explain it.
    bad_notes = [_PORT_FORWARD_NOTE] if _is_single_local(target) else []
    if seen == 1:
        if expected == 1:
            return Verdict(
                "balanced", "one backend was expected and it answered every call.", tuple(notes)
            )
        if expected is None:
            notes.append(
                "Only one backend answered and --expect-backends was not given; if the "
                "service really has a single ready pod, pass --expect-backends 1."
            )
        cause = _pinned_cause(total, len(per_channel), lb_policy, target)
        return Verdict("pinned", cause, (*notes, *bad_notes))

    judged = [ch for ch in per_channel if sum(ch.values()) >= MIN_CALLS_TO_JUDGE_A_CHANNEL]
    if judged and all(sum(1 for c in ch.values() if c > 0) == 1 for ch in judged):
        client_side = lb_policy == "pick_first" or len(_hosts(target)) > 1
        why = (
            _PICK_FIRST
            if client_side
            else "the path balances per connection (L4). Use an L7 proxy, a headless Service "
            "with round_robin, or a mesh."
        )
        return Verdict(
            "pinned",
            f"each of the {len(judged)} channels kept all its calls on a single backend; the "
            f"spread over {seen} backends only shows where the connections landed: {why}",
            (*notes, *bad_notes),
        )
    if expected is not None and seen < expected:
        return Verdict(
            "unbalanced",
            f"only {seen} of {expected} expected backends answered: the others are not ready, "
            "not selected by the Service, or missing from the proxy's upstreams.",
            (*notes, *bad_notes),
        )
    if ratio > threshold:
        return Verdict(
            "unbalanced",
            f"the busiest backend took {ratio:.2f}x its fair share (threshold {threshold:.2f}): "
            "weighted or sticky balancing, a slow or overloaded pod, or too few calls to judge "
            "(raise --calls).",
            (*notes, *bad_notes),
        )
    return Verdict(
        "balanced",
        f"calls spread over {seen} backends; the busiest took {ratio:.2f}x its fair share "
        f"(threshold {threshold:.2f}).",
        tuple(notes),
    )


def exit_code(verdict: Verdict | None) -> int:
    """0 balanced, 1 pinned or unbalanced, 2 when there is no verdict (an error)."""
    if verdict is None:
        return EXIT_ERROR
    return EXIT_BALANCED if verdict.kind == "balanced" else EXIT_UNBALANCED


# ----------------------------------------------------------------------------- watch mode (pure)
#
# `--duration S` turns the probe into a watch: it calls at a steady --rate for S seconds and
# buckets the calls by when they started into --interval windows, so a change of the backends
# (a scale-out, a scale-in, a proxy reload) shows up as a change of the spread over time. The
# verdict says whether, and how long after the last change, the spread settled.

Metric = Literal["share", "max_min"]
WatchKind = Literal["converged", "not_converged"]


@dataclass(frozen=True)
class CallRecord:
    """One call of a watch: when it was issued (seconds since the watch began), the backend
    that answered (None when it failed or its reply named none), the gRPC status name when it
    failed, and how long it took."""

    start_s: float
    backend: str | None = None
    error: str | None = None
    latency_s: float = 0.0


@dataclass(frozen=True)
class Interval:
    """The calls issued within [start_s, end_s): where the successful ones landed (busiest
    first) and the failed ones by status."""

    start_s: float
    end_s: float
    backends: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(self.backends.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def seen(self) -> frozenset[str]:
        return frozenset(b for b, n in self.backends.items() if n > 0)

    def to_json(self, expected: int | None = None) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "ok": self.ok,
            "failed": self.failed,
            "errors": dict(sorted(self.errors.items())),
            "backends": dict(self.backends),
            "backends_seen": len(self.seen),
            "imbalance": round(imbalance(self.backends, expected), 3) if self.ok else None,
            "max_min": round(max_min(self.backends), 3) if self.ok else None,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Interval:
        """An interval of a `--json` watch report (what a benchmark reads back)."""
        return cls(
            float(doc["start_s"]),
            float(doc["end_s"]),
            tally(Counter(doc["backends"]).elements()),
            dict(doc.get("errors", {})),
        )


def interval_count(duration: float, interval: float) -> int:
    """Intervals in a watch; the last one is shorter when `interval` does not divide it."""
    return max(1, math.ceil(duration / interval - 1e-9))


def bucket_calls(records: Iterable[CallRecord], interval: float, duration: float) -> list[Interval]:
    """The calls grouped by the interval they were issued in. A call that named no backend and
    did not fail counts in neither (the report treats such replies as an error)."""
    n = interval_count(duration, interval)
    ok: list[Counter[str]] = [Counter() for _ in range(n)]
    failed: list[Counter[str]] = [Counter() for _ in range(n)]
    for r in records:
        k = min(max(int(r.start_s / interval), 0), n - 1)
        if r.error is not None:
            failed[k][r.error] += 1
        elif r.backend is not None:
            ok[k][r.backend] += 1
    return [
        Interval(
            k * interval,
            min((k + 1) * interval, duration),
            tally(ok[k].elements()),
            dict(sorted(failed[k].items())),
        )
        for k in range(n)
    ]


def sliding_windows(intervals: Sequence[Interval], k: int) -> list[Interval]:
    """Windows of `k` consecutive intervals, one starting at each interval: 0.1 s intervals and
    k=10 give 1 s windows at a 0.1 s step, for a convergence time finer than the window."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not intervals:
        return []
    k = min(k, len(intervals))
    windows = []
    for i in range(len(intervals) - k + 1):
        part = intervals[i : i + k]
        ok: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        for iv in part:
            ok.update(iv.backends)
            failed.update(iv.errors)
        windows.append(
            Interval(
                part[0].start_s,
                part[-1].end_s,
                tally(ok.elements()),
                dict(sorted(failed.items())),
            )
        )
    return windows


def max_min(counts: Mapping[str, int], backends: Iterable[str] | None = None) -> float:
    """Calls of the busiest backend over those of the least busy one: 1.0 is a perfect spread.
    Over the backends in `counts`, or over `backends` when given (one with no call makes it
    infinite). 0.0 when nothing was counted."""
    names = list(backends) if backends is not None else [b for b, n in counts.items() if n > 0]
    if not names:
        return 0.0
    values = [counts.get(b, 0) for b in names]
    if max(values) == 0:
        return 0.0
    return math.inf if min(values) == 0 else max(values) / min(values)


def unfair_reason(
    counts: Mapping[str, int],
    *,
    expected: int | None = None,
    threshold: float = 1.5,
    metric: Metric = "share",
) -> str | None:
    """Why the calls of one interval are not a fair spread, or None when they are.

    Fair: more than one backend answered (unless exactly one is expected), at least `expected`
    did, and the imbalance is within `threshold`: busiest backend / fair share ("share", the
    one-shot probe's measure) or busiest / least busy ("max_min", stricter)."""
    total = sum(counts.values())
    if total <= 0:
        return "no call succeeded"
    seen = [b for b, n in counts.items() if n > 0]
    if len(seen) == 1 and expected != 1:
        return f"one backend ({seen[0]}) took every call"
    if expected is not None and len(seen) < expected:
        return f"only {len(seen)} of {expected} expected backends answered"
    if metric == "share":
        ratio = imbalance(counts, expected)
        if ratio > threshold:
            return (
                f"the busiest backend took {ratio:.2f}x its fair share (threshold {threshold:.2f})"
            )
    else:
        ratio = max_min(counts)
        if ratio > threshold:
            return (
                f"the busiest backend took {ratio:.2f}x the calls of the least busy "
                f"(threshold {threshold:.2f})"
            )
    return None


def first_last_seen(records: Iterable[CallRecord]) -> tuple[dict[str, float], dict[str, float]]:
    """When each backend answered a call first and last (by the calls' start times)."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for r in records:
        if r.backend is None or r.error is not None:
            continue
        first[r.backend] = min(first.get(r.backend, r.start_s), r.start_s)
        last[r.backend] = max(last.get(r.backend, r.start_s), r.start_s)
    return first, last


@dataclass(frozen=True)
class Convergence:
    """Where the spread settled. `at_s` starts the final stretch of fair intervals over one set
    of backends that lasted to the end; `changed_at_s` is the last time the set of answering
    backends changed before that (a backend answered for the first time, or for the last);
    `after_s` = at_s - changed_at_s, at least 0 (its resolution is the interval)."""

    converged: bool
    backends: tuple[str, ...]
    reason: str
    at_s: float | None = None
    changed_at_s: float | None = None
    change: str | None = None
    after_s: float | None = None
    stable_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "converged": self.converged,
            "backends": list(self.backends),
            "at_s": r(self.at_s),
            "changed_at_s": r(self.changed_at_s),
            "change": self.change,
            "after_s": r(self.after_s),
            "stable_s": r(self.stable_s),
            "reason": self.reason,
        }


def _names(names: Iterable[str], limit: int = 6) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def find_convergence(
    intervals: Sequence[Interval],
    *,
    expected: int | None = None,
    threshold: float = 1.5,
    metric: Metric = "share",
    min_stable_s: float | None = None,
    first_seen: Mapping[str, float] | None = None,
    last_seen: Mapping[str, float] | None = None,
    since_s: float | None = None,
    until_s: float | None = None,
) -> Convergence:
    """Did the spread converge, over which backends, and when?

    Looks at the intervals within [since_s, until_s] (default: all). The final stretch is the
    longest run of intervals at the end that are each fair (unfair_reason() is None) over the
    same set of backends as the last one. It counts as converged when it lasts at least
    `min_stable_s` (default: two intervals). Pure: the CLI verdict, the scale-out test and the
    benchmark all use it, the latter two on a part of a run (between a scale-out and a
    scale-in) and with sliding windows (sliding_windows())."""
    ivs = [
        iv
        for iv in intervals
        if (since_s is None or iv.start_s >= since_s - 1e-9)
        and (until_s is None or iv.end_s <= until_s + 1e-9)
    ]
    if not ivs:
        return Convergence(False, (), "no interval lies in the range looked at")
    width = ivs[0].end_s - ivs[0].start_s
    need = 2 * width if min_stable_s is None else min_stable_s
    last = ivs[-1]
    final = last.seen

    def fair(iv: Interval) -> bool:
        return (
            unfair_reason(iv.backends, expected=expected, threshold=threshold, metric=metric)
            is None
        )

    s = len(ivs)
    while s > 0 and fair(ivs[s - 1]) and ivs[s - 1].seen == final:
        s -= 1
    if s == len(ivs):
        return Convergence(
            False, tuple(sorted(final)), _not_converged_reason(ivs, expected, threshold, metric)
        )
    stable = last.end_s - ivs[s].start_s
    at = ivs[s].start_s
    if stable < need - 1e-9:
        return Convergence(
            False,
            tuple(sorted(final)),
            f"the spread was fair over {len(final)} backends only from {at:.1f} s, "
            f"{stable:.1f} s before the end ({last.end_s:.1f} s): not long enough to call it "
            "settled; watch longer (--duration)",
            stable_s=stable,
        )

    # The last change of the set of answering backends: one that was not answering at the
    # start of the range answered, or one not in the final set stopped answering.
    initial = ivs[0].seen
    events: list[tuple[float, str]] = []
    for b in final - initial:
        t = (first_seen or {}).get(b)
        if t is None:
            t = next(iv.start_s for iv in ivs if b in iv.seen)
        events.append((t, f"{b} answered for the first time"))
    gone = frozenset().union(*(iv.seen for iv in ivs)) - final
    for b in gone:
        t = (last_seen or {}).get(b)
        if t is None:
            t = next(iv.end_s for iv in reversed(ivs) if b in iv.seen)
        events.append((t, f"{b} answered for the last time"))
    if not events:
        return Convergence(
            True,
            tuple(sorted(final)),
            f"the same {len(final)} backends answered throughout and every interval was a fair "
            "spread",
            at_s=at,
            stable_s=stable,
        )
    changed_at, change = max(events)
    after = max(0.0, at - changed_at)
    return Convergence(
        True,
        tuple(sorted(final)),
        f"the set of backends last changed at {changed_at:.1f} s ({change}); every interval from "
        f"{at:.1f} s to the end ({last.end_s:.1f} s) was a fair spread over {len(final)}",
        at_s=at,
        changed_at_s=changed_at,
        change=change,
        after_s=after,
        stable_s=stable,
    )


def pinned_sequence(intervals: Sequence[Interval]) -> list[str] | None:
    """The backends one connection sat on, in order, when every interval sent all its calls to
    a single backend, apart from hand-over intervals shared by two consecutive ones (the
    connection closed and the client reconnected to another backend mid-interval). None when
    the calls were spread at some point."""
    answered = [iv for iv in intervals if iv.ok > 0]
    order: list[str] = []
    mixed: list[frozenset[str]] = []
    for iv in answered:
        if len(iv.seen) != 1:
            mixed.append(iv.seen)
            continue
        (b,) = iv.seen
        if any(not order or m != {order[-1], b} for m in mixed):
            return None
        mixed = []
        if not order or order[-1] != b:
            order.append(b)
    return order if order and not mixed else None


def _not_converged_reason(
    ivs: Sequence[Interval], expected: int | None, threshold: float, metric: Metric
) -> str:
    pinned = pinned_sequence(ivs)
    if pinned is not None and expected != 1:
        moved = f" (the connection moved: {' -> '.join(pinned)})" if len(pinned) > 1 else ""
        return (
            f"every interval sent all its calls to one backend{moved}: calls follow the open "
            "connection, and backends added later get none of them. The path balances per "
            "connection (L4), or the client uses pick_first"
        )
    last = ivs[-1]
    why = unfair_reason(last.backends, expected=expected, threshold=threshold, metric=metric)
    if why is not None:
        fails = f" ({last.failed} failed)" if last.failed else ""
        return f"at the end ({last.start_s:.1f}-{last.end_s:.1f} s) {why}{fails}"
    # The last interval is fair but over a set that differs from the one before it.
    return (
        f"the set of backends was still changing at the end ({last.start_s:.1f}-"
        f"{last.end_s:.1f} s: {_names(last.seen)}); watch longer (--duration)"
    )


@dataclass(frozen=True)
class WatchVerdict:
    kind: WatchKind
    headline: str
    reason: str
    notes: tuple[str, ...] = ()


def judge_watch(
    intervals: Sequence[Interval],
    *,
    expected: int | None = None,
    threshold: float = 1.5,
    first_seen: Mapping[str, float] | None = None,
    last_seen: Mapping[str, float] | None = None,
) -> tuple[WatchVerdict, Convergence]:
    """The watch verdict: converged (and when, over how many backends) or not (and why), with
    the failed calls, which turn a converged spread into exit 1 too (see watch_exit_code)."""
    conv = find_convergence(
        intervals,
        expected=expected,
        threshold=threshold,
        first_seen=first_seen,
        last_seen=last_seen,
    )
    n = len(conv.backends)
    width = intervals[0].end_s - intervals[0].start_s if intervals else 0.0
    if conv.converged:
        if conv.after_s is None:
            headline = f"CONVERGED from the start across {n} backend{'s' if n != 1 else ''}"
        elif conv.after_s < width:
            # The change fell in the interval before the first fair one: no finer resolution.
            headline = f"CONVERGED within {width:g} s across {n} backends"
        else:
            headline = f"CONVERGED after {conv.after_s:.1f} s across {n} backends"
    else:
        headline = "NOT CONVERGED"
    notes: list[str] = []
    failed = sum(iv.failed for iv in intervals)
    reason = conv.reason
    if failed:
        errors: Counter[str] = Counter()
        for iv in intervals:
            errors.update(iv.errors)
        where = [iv for iv in intervals if iv.failed]
        span = f"{where[0].start_s:.1f}-{where[-1].end_s:.1f} s"
        codes = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items()))
        reason += f"; {failed} call{'s' if failed != 1 else ''} failed ({codes}) in {span}"
    few = [iv for iv in intervals if 0 < iv.ok < 10 * max(len(iv.seen), 1)]
    if len(few) > len(intervals) // 2:
        notes.append(
            "Fewer than 10 calls per backend in most intervals: the spread of one interval is "
            "noisy; raise --rate or --interval."
        )
    kind: WatchKind = "converged" if conv.converged else "not_converged"
    return WatchVerdict(kind, headline, reason, tuple(notes)), conv


def watch_exit_code(verdict: WatchVerdict | None, failed: int) -> int:
    """0 converged with no failed call, 1 not converged or calls failed (the path lost calls:
    a bad result, not a probe error), 2 no verdict (an error)."""
    if verdict is None:
        return EXIT_ERROR
    return EXIT_BALANCED if verdict.kind == "converged" and failed == 0 else EXIT_UNBALANCED


# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    target: str
    calls: int = 300
    channels: int = 1
    concurrency: int = 16
    timeout: float = 5.0
    tls: bool = False
    cacert: str | None = None
    authority: str | None = None
    lb_policy: str | None = None
    health_check: bool = False
    threshold: float = 1.5
    expect_backends: int | None = None
    backend_header: str | None = None
    stream_messages: int = 0
    name: str = "grpc-lb-check"
    json: bool = False
    quiet: bool = False
    # Watch mode (--duration): call at `rate` per second for `duration` seconds and report the
    # spread per `interval`. None: the one-shot run of `calls` calls.
    duration: float | None = None
    interval: float = 1.0
    rate: float = 100.0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _threshold(text: str) -> float:
    value = _positive_float(text)
    if value < 1.0:
        # The busiest backend always has at least its fair share, so a ratio below 1 can never
        # be met and every run would fail.
        raise argparse.ArgumentTypeError(f"must be 1.0 or more (1.0 = perfect spread), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grpc-lb-check",
        description=(
            "Send gRPC calls to TARGET (the demo greeter, helloworld.Greeter/SayHello) and report "
            "how they spread over the backends behind it. Exit 0 balanced, 1 pinned or over "
            "--threshold, 2 error."
        ),
    )
    p.add_argument(
        "target",
        metavar="TARGET",
        help="host:port, or a gRPC target such as dns:///svc.ns.svc.cluster.local:50051 or "
        "ipv4:10.0.0.1:50051,10.0.0.2:50051",
    )
    # default None, so parse_args can tell an explicit --calls (refused in watch mode) apart
    p.add_argument("--calls", type=_positive_int, help="unary calls (default 300)")
    p.add_argument(
        "--channels",
        type=_positive_int,
        default=1,
        help="independent channels, each with its own connection (default 1); calls are "
        "dealt to them in turn",
    )
    p.add_argument(
        "--concurrency", type=_positive_int, default=16, help="calls in flight (default 16)"
    )
    p.add_argument(
        "--timeout", type=_positive_float, default=5.0, help="per-call deadline, seconds (5)"
    )
    p.add_argument("--tls", action="store_true", help="use TLS (default plaintext)")
    p.add_argument("--cacert", metavar="FILE", help="PEM CA bundle to verify the server (--tls)")
    p.add_argument(
        "--authority",
        metavar="NAME",
        help="host name for :authority and TLS verification, when TARGET is an IP or a tunnel",
    )
    p.add_argument(
        "--lb-policy",
        choices=("round_robin", "pick_first"),
        help="client-side policy; round_robin with a dns:/// or multi-address ipv4: target is "
        "the headless-Service path (default: gRPC's, pick_first)",
    )
    p.add_argument(
        "--health-check",
        action="store_true",
        help="client-side health checking (with --lb-policy round_robin): watch each backend's "
        "grpc.health.v1 status and send calls only to SERVING ones, so a backend that reports "
        "NOT_SERVING while it drains gets no new call",
    )
    p.add_argument(
        "--threshold",
        type=_threshold,
        default=1.5,
        help="highest busiest-backend/fair-share ratio that still counts as balanced (1.5)",
    )
    p.add_argument(
        "--expect-backends",
        type=_positive_int,
        metavar="N",
        help="backends (ready pods) that should share the calls; without it a single "
        "answering backend counts as pinned",
    )
    p.add_argument(
        "--backend-header",
        metavar="HEADER",
        help="take the backend id from this response header (e.g. x-served-by) instead of "
        "the reply text",
    )
    p.add_argument(
        "--stream-messages",
        type=_non_negative_int,
        default=0,
        metavar="M",
        help="also send M messages over ONE SayHelloBidiStream and report where they went "
        "(a stream never moves between backends; informational, not in the verdict)",
    )
    watch = p.add_argument_group(
        "watch mode",
        "Keep calling at a steady rate while backends are added or removed, print the spread "
        "per interval, then say whether and when it converged (exit 0 converged with no failed "
        "call, 1 not converged or calls failed, 2 error).",
    )
    watch.add_argument(
        "--duration",
        type=_positive_float,
        metavar="SECONDS",
        help="watch for this long instead of sending --calls calls",
    )
    watch.add_argument(
        "--interval",
        type=_positive_float,
        metavar="SECONDS",
        help="length of one row of the table, and of the windows the verdict judges (1)",
    )
    watch.add_argument(
        "--rate",
        type=_positive_float,
        metavar="CALLS",
        help="calls per second, issued at an even pace (100); at most --concurrency in flight",
    )
    p.add_argument("--name", default="grpc-lb-check", help="name sent in each HelloRequest")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:")


def parse_args(argv: Sequence[str] | None) -> Options:
    """Options from the command line; argparse prints usage and exits 2 on bad input."""
    parser = _parser()
    ns = parser.parse_args(argv)
    target: str = ns.target.strip()
    if not target:
        parser.error("TARGET is empty; give host:port")
    if "://" in target and not target.startswith(_SCHEMES):
        parser.error(
            f"TARGET {target!r} looks like a URL; give host:port (e.g. grpc.example.com:443) "
            "and --tls for https"
        )
    if ns.cacert and not ns.tls:
        parser.error("--cacert verifies a TLS server: add --tls")
    if ns.health_check and ns.lb_policy != "round_robin":
        parser.error(
            "--health-check needs --lb-policy round_robin (gRPC's pick_first ignores health)"
        )
    calls = 300 if ns.calls is None else ns.calls
    interval = 1.0 if ns.interval is None else ns.interval
    rate = 100.0 if ns.rate is None else ns.rate
    if ns.duration is None:
        if ns.interval is not None or ns.rate is not None:
            parser.error("--interval and --rate pace a watch: add --duration SECONDS")
        if ns.channels > calls:
            parser.error(
                f"--channels ({ns.channels}) exceeds --calls ({calls}): a channel "
                "without calls measures nothing"
            )
    else:
        if ns.calls is not None:
            parser.error(
                "--calls counts the calls of a one-shot run; a watch (--duration) calls at "
                "--rate per second instead"
            )
        if ns.stream_messages:
            parser.error("--stream-messages is for a one-shot run, not a watch (--duration)")
        if ns.duration < 2 * interval:
            parser.error(
                f"--duration ({ns.duration:g}) must cover at least two --interval "
                f"({interval:g}): the verdict needs a fair spread that lasted"
            )
        if rate * interval < 1:
            parser.error(
                f"--rate {rate:g} gives less than one call per --interval {interval:g}: "
                "raise one of them"
            )
        if ns.channels > rate * ns.duration:
            parser.error(f"--channels ({ns.channels}) exceeds the calls of the whole watch")
    header = ns.backend_header.strip().lower() if ns.backend_header else None
    if ns.backend_header is not None and not header:
        parser.error("--backend-header is empty")
    return Options(
        target=target,
        calls=calls,
        channels=ns.channels,
        concurrency=ns.concurrency,
        timeout=ns.timeout,
        tls=ns.tls,
        cacert=ns.cacert,
        authority=ns.authority,
        lb_policy=ns.lb_policy,
        health_check=ns.health_check,
        threshold=ns.threshold,
        expect_backends=ns.expect_backends,
        backend_header=header,
        stream_messages=ns.stream_messages,
        name=ns.name,
        json=ns.json,
        quiet=ns.quiet,
        duration=ns.duration,
        interval=interval,
        rate=rate,
    )


# ----------------------------------------------------------------------------- measurement


@dataclass
class RunResult:
    """Raw outcome of a run; build_report() turns it into numbers and a verdict."""

    per_channel: list[Counter[str]]
    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None
    unnamed: int = 0
    elapsed_s: float = 0.0
    stream: Counter[str] | None = None


def _channel_options(opts: Options) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [
        # Without this, channels with equal target and arguments share gRPC's global subchannel
        # pool, i.e. ONE connection: --channels 3 would still measure a single connection.
        ("grpc.use_local_subchannel_pool", 1),
    ]
    if opts.lb_policy:
        options.append(("grpc.lb_policy_name", opts.lb_policy))
    if opts.health_check:
        # Client-side health checking is switched on by the service config (gRFC A17): the
        # channel watches grpc.health.v1 Health/Watch("") on every subchannel.
        config = {
            "loadBalancingConfig": [{opts.lb_policy or "round_robin": {}}],
            "healthCheckConfig": {"serviceName": ""},
        }
        options.append(("grpc.service_config", json.dumps(config)))
    if opts.authority:
        options.append(("grpc.default_authority", opts.authority))
        if opts.tls:
            options.append(("grpc.ssl_target_name_override", opts.authority))
    return options


def _credentials(opts: Options) -> grpc.ChannelCredentials | None:
    if not opts.tls:
        return None
    root: bytes | None = None
    if opts.cacert:
        try:
            with open(opts.cacert, "rb") as f:
                root = f.read()
        except OSError as exc:
            raise ProbeError(f"cannot read --cacert {opts.cacert}: {exc.strerror}") from None
        if b"-----BEGIN CERTIFICATE-----" not in root:
            raise ProbeError(f"--cacert {opts.cacert} holds no PEM certificate")
    return grpc.ssl_channel_credentials(root_certificates=root)


def _open_channel(opts: Options, creds: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    options = _channel_options(opts)
    if creds is None:
        return grpc.aio.insecure_channel(opts.target, options=options)
    return grpc.aio.secure_channel(opts.target, creds, options=options)


def describe_rpc_error(err: grpc.aio.AioRpcError, opts: Options) -> str:
    """One line: what failed, gRPC's own words, and the likely fix."""
    code = err.code()
    details = (err.details() or "").replace("\n", " ").strip()
    low = details.lower()
    hint = ""
    if code == grpc.StatusCode.UNAVAILABLE:
        if any(w in low for w in ("dns resolution failed", "errors resolving", "domain name")):
            hint = (
                "the host name did not resolve: check it (cluster-internal names such as "
                "*.svc.cluster.local only resolve inside the cluster)"
            )
        elif "wrong_version_number" in low:
            hint = "the port does not speak TLS: drop --tls"
        elif any(w in low for w in ("ssl", "tls", "handshake", "certificate")):
            hint = (
                "TLS failed: check --cacert (the CA that signed the server certificate) and "
                "--authority (a name in the certificate)"
            )
        elif not opts.tls and any(w in low for w in ("http1", "settings frame", "http/1")):
            hint = "the port did not answer plaintext HTTP/2: if it serves TLS, add --tls"
        elif opts.tls and "socket closed" in low:
            hint = "the port closed the TLS connection: is it plaintext? then drop --tls"
        elif not opts.tls and any(w in low for w in ("socket closed", "connection reset")):
            hint = "the port dropped a plaintext connection: if it serves TLS, add --tls"
        else:
            hint = "nothing answered: check the address, port and that backends are ready"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        hint = f"no answer within --timeout {opts.timeout:g}s: the path or backends are stuck"
    elif code == grpc.StatusCode.UNIMPLEMENTED:
        hint = (
            "the server does not serve helloworld.Greeter; deploy the demo greeter "
            "(demo/greeter) behind the same path"
        )
    elif code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        hint = "an authorization policy refused the probe; allow its identity or run it elsewhere"
    text = f"{code.name}: {details}" if details else code.name
    return f"{text} ({hint})" if hint else text


class _Progress:
    """Progress on stderr about once a second, so short runs print nothing."""

    def __init__(self, total: int, out: TextIO | None) -> None:
        self.total = total
        self.done = 0
        self._out = out
        self._start = time.perf_counter()

    async def run(self) -> None:
        if self._out is None:
            return
        while True:
            await asyncio.sleep(1.0)
            rate = self.done / max(time.perf_counter() - self._start, 1e-9)
            print(
                f"grpc-lb-check: {self.done}/{self.total} calls, {rate:.0f} calls/s",
                file=self._out,
                flush=True,
            )


async def _warm_up(channels: Sequence[grpc.aio.Channel], opts: Options) -> list[Any]:
    """One call per channel before timing: connection set-up (TCP, TLS, HTTP/2) stays out of
    the latencies, and an unreachable target fails fast with gRPC's reason. Returns each
    channel's SayHello callable."""
    stubs = []
    for ch in channels:
        say_hello = ch.unary_unary(
            hw.METHOD_SAY_HELLO,
            request_serializer=hw.encode_request,
            response_deserializer=hw.decode_reply,
        )
        stubs.append(say_hello)
        try:
            await say_hello(opts.name, timeout=opts.timeout)
        except grpc.aio.AioRpcError as err:
            raise ProbeError(
                f"cannot call SayHello on {opts.target}: {describe_rpc_error(err, opts)}"
            ) from None
    return stubs


async def _run_stream(channel: grpc.aio.Channel, opts: Options) -> Counter[str]:
    """Send --stream-messages requests over ONE bidi stream, one at a time, and count where
    the replies came from."""
    bidi = channel.stream_stream(
        hw.METHOD_SAY_HELLO_BIDI_STREAM,
        request_serializer=hw.encode_request,
        response_deserializer=hw.decode_reply,
    )
    call = bidi()
    seen: Counter[str] = Counter()

    async def roundtrip() -> object:
        await call.write(opts.name)
        return await call.read()

    header_backend: str | None = None
    try:
        for i in range(opts.stream_messages):
            # A deadline per message, not per stream: a long stream is the point here, but a
            # stalled one must not hang the probe.
            reply = await asyncio.wait_for(roundtrip(), timeout=opts.timeout)
            if not isinstance(reply, str):  # grpc.aio.EOF: the server ended the stream
                raise ProbeError(
                    f"SayHelloBidiStream on {opts.target} ended after {i} of "
                    f"{opts.stream_messages} replies"
                )
            if opts.backend_header and i == 0:
                header_backend = _header_value(await call.initial_metadata(), opts.backend_header)
            backend = header_backend if opts.backend_header else hw.backend_from_reply(reply)
            seen[backend or "?"] += 1
        await call.done_writing()
    except asyncio.TimeoutError:
        call.cancel()
        raise ProbeError(
            f"SayHelloBidiStream on {opts.target} stalled: no reply within --timeout "
            f"{opts.timeout:g}s"
        ) from None
    except grpc.aio.AioRpcError as err:
        raise ProbeError(
            f"SayHelloBidiStream on {opts.target} failed: {describe_rpc_error(err, opts)}"
        ) from None
    return seen


def _header_value(md: Any, header: str) -> str | None:
    if md is None:
        return None
    for key, value in md:
        if key.lower() == header:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


async def _measure(opts: Options, progress_out: TextIO | None) -> RunResult:
    creds = _credentials(opts)
    channels = [_open_channel(opts, creds) for _ in range(opts.channels)]
    try:
        stubs = await _warm_up(channels, opts)
        result = RunResult(per_channel=[Counter() for _ in channels])
        progress = _Progress(opts.calls, progress_out)
        next_call = 0
        failed = 0
        # Stop issuing calls once this many failed: the run is an error either way, and a dead
        # path would otherwise cost up to calls x --timeout / concurrency seconds.
        give_up_after = max(10, opts.calls // 10)
        header = opts.backend_header
        n_channels = len(channels)
        clock = time.perf_counter

        async def worker() -> None:
            # Workers pull call numbers from a shared counter (safe: one event loop thread), so
            # exactly `calls` calls run with at most `concurrency` in flight.
            nonlocal next_call, failed
            while next_call < opts.calls and failed < give_up_after:
                i = next_call
                next_call += 1
                ch = i % n_channels
                started = clock()
                try:
                    call = stubs[ch](opts.name, timeout=opts.timeout)
                    reply = await call
                    if header:
                        backend = _header_value(await call.initial_metadata(), header)
                    else:
                        backend = hw.backend_from_reply(reply)
                except grpc.aio.AioRpcError as err:
                    failed += 1
                    code = err.code().name
                    result.errors[code] += 1
                    if result.first_error is None:
                        result.first_error = describe_rpc_error(err, opts)
                    progress.done += 1
                    continue
                result.latencies_s.append(clock() - started)
                if backend is None:
                    result.unnamed += 1
                else:
                    result.per_channel[ch][backend] += 1
                progress.done += 1

        reporter = asyncio.create_task(progress.run())
        start = clock()
        try:
            await asyncio.gather(*(worker() for _ in range(min(opts.concurrency, opts.calls))))
        finally:
            reporter.cancel()
        result.elapsed_s = clock() - start
        if opts.stream_messages:
            result.stream = await _run_stream(channels[0], opts)
        return result
    finally:
        for ch in channels:
            await ch.close()


@dataclass
class WatchResult:
    """Raw outcome of a watch; build_watch_report() turns it into intervals and a verdict."""

    records: list[CallRecord] = field(default_factory=list)
    started_at: float = 0.0  # Unix time of t=0, so other tools can place their events
    elapsed_s: float = 0.0
    unnamed: int = 0
    first_error: str | None = None
    skipped: int = 0  # call slots dropped because the probe fell behind its --rate
    stopped_at: float | None = None  # seconds into the watch when SIGINT ended it early


# When the probe is this far behind its schedule (a stalled event loop, every slot of
# --concurrency taken), it drops the missed slots instead of bursting to catch up: a burst
# would crowd one interval and starve the one before.
_MAX_LAG_S = 0.25


async def _watch(opts: Options, live: TextIO | None) -> WatchResult:
    """Call at a steady --rate for --duration seconds; with `live`, print each interval's row
    there as soon as every call issued in it has finished. SIGINT (Ctrl-C) ends the watch early
    and the report covers what was measured; a second one interrupts for real."""
    assert opts.duration is not None
    duration, interval, rate = opts.duration, opts.interval, opts.rate
    creds = _credentials(opts)
    channels = [_open_channel(opts, creds) for _ in range(opts.channels)]
    try:
        stubs = await _warm_up(channels, opts)
        n = interval_count(duration, interval)
        result = WatchResult()
        pending = [0] * n
        live_ok: list[Counter[str]] = [Counter() for _ in range(n)]
        live_failed: list[Counter[str]] = [Counter() for _ in range(n)]
        slots = asyncio.Semaphore(opts.concurrency)
        header = opts.backend_header
        clock = time.perf_counter
        tasks: set[asyncio.Task[None]] = set()
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_sigint() -> None:
            interrupted.set()
            loop.remove_signal_handler(signal.SIGINT)

        # Not on the main thread, or no signals here: Ctrl-C then interrupts as usual.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)

        async def one_call(ch: int, issued: float, k: int) -> None:
            try:
                call = stubs[ch](opts.name, timeout=opts.timeout)
                reply = await call
                if header:
                    backend = _header_value(await call.initial_metadata(), header)
                else:
                    backend = hw.backend_from_reply(reply)
                if backend is None:
                    result.unnamed += 1
                else:
                    live_ok[k][backend] += 1
                record = CallRecord(issued, backend, None, clock() - start - issued)
            except grpc.aio.AioRpcError as err:
                code = err.code().name
                live_failed[k][code] += 1
                if result.first_error is None:
                    result.first_error = describe_rpc_error(err, opts)
                record = CallRecord(issued, None, code, clock() - start - issued)
            finally:
                pending[k] -= 1
                slots.release()
            result.records.append(record)

        async def print_rows() -> None:
            assert live is not None
            k = 0
            while k < n:
                if result.stopped_at is not None and k * interval >= result.stopped_at:
                    break
                end = min((k + 1) * interval, duration, result.stopped_at or duration)
                wait = end - (clock() - start)
                if wait > 0:
                    await asyncio.sleep(wait + 0.005)
                elif pending[k] > 0:
                    await asyncio.sleep(0.01)
                else:
                    iv = Interval(
                        k * interval,
                        end,
                        tally(live_ok[k].elements()),
                        dict(sorted(live_failed[k].items())),
                    )
                    print(format_interval_row(iv.to_json(opts.expect_backends)), file=live)
                    live.flush()
                    k += 1

        start = clock()
        result.started_at = time.time()
        printer = asyncio.create_task(print_rows()) if live is not None else None
        i = 0
        n_channels = len(channels)
        while not interrupted.is_set():
            due = i / rate
            if due >= duration:
                break
            delay = due - (clock() - start)
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            now = clock() - start
            if now >= duration:
                slots.release()
                break
            if now - due > _MAX_LAG_S:
                behind = int(now * rate) - i
                result.skipped += behind
                i += behind
            k = min(int(now / interval), n - 1)
            pending[k] += 1
            task = asyncio.create_task(one_call(i % n_channels, now, k))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if interrupted.is_set():
            result.stopped_at = min(clock() - start, duration)
        if tasks:
            await asyncio.gather(*tasks)
        result.elapsed_s = clock() - start
        if printer is not None:
            await printer
        return result
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        for ch in channels:
            await ch.close()


# ----------------------------------------------------------------------------- reporting


def build_report(opts: Options, run: RunResult) -> dict[str, Any]:
    """The JSON document (and the source of the text report). Pure: no I/O."""
    counts: Counter[str] = Counter()
    for ch in run.per_channel:
        counts.update(ch)
    backends = tally(counts.elements())
    ok = len(run.latencies_s)
    failed = sum(run.errors.values())
    verdict: Verdict | None = None
    error: str | None = None
    if failed:
        stopped = ok + failed < opts.calls
        error = (
            f"{failed} of {ok + failed} calls failed "
            f"({', '.join(f'{k} x{v}' for k, v in sorted(run.errors.items()))})"
            f"{f', stopped before the other {opts.calls - ok - failed}' if stopped else ''}; "
            f"first: {run.first_error}"
        )
    elif run.unnamed:
        where = (
            f"the response header {opts.backend_header!r}"
            if opts.backend_header
            else "the reply text ('Hello <name> from <backend>')"
        )
        error = (
            f"{run.unnamed} of {ok} replies did not name a backend in {where}: TARGET is not "
            "the demo greeter (demo/greeter), or pass --backend-header with the header your "
            "server sets"
        )
    elif backends:
        verdict = judge(
            backends,
            run.per_channel,
            expected=opts.expect_backends,
            threshold=opts.threshold,
            lb_policy=opts.lb_policy,
            target=opts.target,
        )
    n_fair = fair_share_backends(backends, opts.expect_backends)
    ms = [x * 1000 for x in run.latencies_s]
    report: dict[str, Any] = {
        "target": opts.target,
        "tls": opts.tls,
        "authority": opts.authority,
        "lb_policy": opts.lb_policy or "pick_first",
        "channels": opts.channels,
        "concurrency": min(opts.concurrency, opts.calls),
        "calls": {"requested": opts.calls, "ok": ok, "failed": failed},
        "errors": dict(sorted(run.errors.items())),
        "backends": backends,
        "per_channel": [tally(ch.elements()) for ch in run.per_channel],
        "backends_seen": len(backends),
        "expected_backends": opts.expect_backends,
        "fair_share": round(ok / n_fair, 3) if n_fair else None,
        "imbalance": round(imbalance(backends, opts.expect_backends), 3) if backends else None,
        "threshold": opts.threshold,
        "latency_ms": {
            "p50": round(percentile(ms, 50), 3),
            "p99": round(percentile(ms, 99), 3),
            "max": round(max(ms), 3) if ms else 0.0,
        },
        "elapsed_s": round(run.elapsed_s, 3),
        "calls_per_s": round((ok + failed) / run.elapsed_s, 1) if run.elapsed_s > 0 else None,
        "stream": None,
        "verdict": verdict.kind if verdict else "error",
        "reason": verdict.reason if verdict else error,
        "notes": list(verdict.notes) if verdict else [],
        "exit_code": exit_code(verdict),
    }
    if run.stream is not None:
        report["stream"] = {
            "messages": sum(run.stream.values()),
            "backends": tally(run.stream.elements()),
        }
    return report


def error_report(opts: Options, message: str) -> dict[str, Any]:
    """The JSON document when no measurement could be made."""
    return {
        "target": opts.target,
        "verdict": "error",
        "reason": message,
        "exit_code": EXIT_ERROR,
    }


def format_report(report: Mapping[str, Any]) -> str:
    """The human-readable report."""
    calls = report["calls"]
    mode = "tls" if report["tls"] else "plaintext"
    if report.get("authority"):
        mode += f", authority {report['authority']}"
    lines = [
        f"target      {report['target']} ({mode}, {report['channels']} channel"
        f"{'s' if report['channels'] != 1 else ''}, client lb {report['lb_policy']})",
        f"calls       {calls['ok']} ok, {calls['failed']} failed in {report['elapsed_s']:.2f} s"
        f" ({report['calls_per_s'] or 0:.0f} calls/s, {report['concurrency']} in flight)",
    ]
    backends: Mapping[str, int] = report["backends"]
    if backends:
        ok = max(calls["ok"], 1)
        width = max(len(b) for b in backends)
        lines.append(f"{'backend':<{max(width, 7)}}  {'calls':>6}  share")
        for name, n in backends.items():
            lines.append(f"{name:<{max(width, 7)}}  {n:>6}  {100 * n / ok:5.1f}%")
        expected = report["expected_backends"]
        if expected and len(backends) < expected:
            lines.append(f"({expected - len(backends)} of {expected} expected backends: 0 calls)")
        if len(report["per_channel"]) > 1:
            for i, ch in enumerate(report["per_channel"]):
                spread = ", ".join(f"{b} {n}" for b, n in ch.items())
                lines.append(f"channel {i}   {spread}")
        lines.append(
            f"imbalance   {report['imbalance']:.2f} (busiest backend / fair share of "
            f"{report['fair_share']:g} calls; threshold {report['threshold']:.2f})"
        )
    lat = report["latency_ms"]
    lines.append(f"latency     p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms")
    stream = report.get("stream")
    if stream:
        where = ", ".join(f"{b} {n}" for b, n in stream["backends"].items())
        lines.append(
            f"stream      {stream['messages']} messages on one SayHelloBidiStream: {where} "
            "(a stream stays on one backend on every path)"
        )
    lines.append(f"verdict     {report['verdict'].upper()}: {report['reason']}")
    lines.extend(f"note        {n}" for n in report["notes"])
    return "\n".join(lines)


def build_watch_report(opts: Options, run: WatchResult) -> dict[str, Any]:
    """The JSON document of a watch (and the source of its text report). Pure: no I/O."""
    assert opts.duration is not None
    duration = opts.duration if run.stopped_at is None else run.stopped_at
    intervals = bucket_calls(run.records, opts.interval, duration)
    first, last = first_last_seen(run.records)
    ok = sum(iv.ok for iv in intervals)
    failed = sum(iv.failed for iv in intervals)
    errors: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for iv in intervals:
        errors.update(iv.errors)
        totals.update(iv.backends)
    verdict: WatchVerdict | None = None
    conv: Convergence | None = None
    error: str | None = None
    if run.unnamed:
        where = (
            f"the response header {opts.backend_header!r}"
            if opts.backend_header
            else "the reply text ('Hello <name> from <backend>')"
        )
        error = (
            f"{run.unnamed} of {ok + run.unnamed} replies did not name a backend in {where}: "
            "TARGET is not the demo greeter (demo/greeter), or pass --backend-header with the "
            "header your server sets"
        )
    elif ok == 0:
        error = (
            f"no call of the watch succeeded ({failed} failed"
            f"{', first: ' + run.first_error if run.first_error else ''})"
        )
    else:
        verdict, conv = judge_watch(
            intervals,
            expected=opts.expect_backends,
            threshold=opts.threshold,
            first_seen=first,
            last_seen=last,
        )
    ms = [r.latency_s * 1000 for r in run.records if r.error is None]
    issued = len(run.records)
    code = watch_exit_code(verdict, failed) if verdict is not None else EXIT_ERROR
    return {
        "mode": "watch",
        "target": opts.target,
        "tls": opts.tls,
        "authority": opts.authority,
        "lb_policy": opts.lb_policy or "pick_first",
        "health_check": opts.health_check,
        "channels": opts.channels,
        "concurrency": opts.concurrency,
        "duration_s": round(duration, 3),
        "interrupted": run.stopped_at is not None,
        "interval_s": opts.interval,
        "rate": opts.rate,
        "started_at": round(run.started_at, 3),
        "calls": {"issued": issued, "ok": ok, "failed": failed, "skipped": run.skipped},
        "calls_per_s": round(issued / run.elapsed_s, 1) if run.elapsed_s > 0 else None,
        "errors": dict(sorted(errors.items())),
        "first_error": run.first_error,
        "backends": tally(totals.elements()),
        "first_seen_s": {b: round(t, 3) for b, t in sorted(first.items())},
        "last_seen_s": {b: round(t, 3) for b, t in sorted(last.items())},
        "expected_backends": opts.expect_backends,
        "threshold": opts.threshold,
        "latency_ms": {
            "p50": round(percentile(ms, 50), 3),
            "p99": round(percentile(ms, 99), 3),
            "max": round(max(ms), 3) if ms else 0.0,
        },
        "intervals": [iv.to_json(opts.expect_backends) for iv in intervals],
        "convergence": conv.to_json() if conv else None,
        "verdict": verdict.kind if verdict else "error",
        "headline": verdict.headline if verdict else "ERROR",
        "reason": verdict.reason if verdict else error,
        "notes": list(verdict.notes) if verdict else [],
        "exit_code": code,
    }


def watch_intervals(report: Mapping[str, Any]) -> list[Interval]:
    """The intervals of a `--json` watch report, for find_convergence() on a part of the run."""
    return [Interval.from_json(doc) for doc in report["intervals"]]


def format_watch_header(opts: Options) -> str:
    """What a watch prints before its first row."""
    mode = "tls" if opts.tls else "plaintext"
    if opts.authority:
        mode += f", authority {opts.authority}"
    channels = f"{opts.channels} channel{'s' if opts.channels != 1 else ''}"
    return "\n".join(
        [
            f"target      {opts.target} ({mode}, {channels}, client lb "
            f"{opts.lb_policy or 'pick_first'}{', health-checked' if opts.health_check else ''})",
            f"watch       {opts.duration:g} s at {opts.rate:g} calls/s, one row per "
            f"{opts.interval:g} s",
            f"{'interval s':>13}  {'ok':>5} {'fail':>5} {'seen':>4} {'imbal':>6}  "
            "calls per backend",
        ]
    )


def format_interval_row(row: Mapping[str, Any]) -> str:
    """One row of the watch table, from an interval's JSON: busiest/fair share in `imbal`,
    backends by name so a new one shows up where it sorts."""
    imb = row["imbalance"]
    spread = "  ".join(f"{b} {n}" for b, n in sorted(row["backends"].items()))
    if row["failed"]:
        codes = ", ".join(f"{k} x{v}" for k, v in row["errors"].items())
        spread += f"{'  ' if spread else ''}[failed: {codes}]"
    return (
        f"{row['start_s']:6.1f}-{row['end_s']:<6.1f}  {row['ok']:>5} {row['failed']:>5} "
        f"{row['backends_seen']:>4} {'-' if imb is None else f'{imb:.2f}':>6}  {spread}"
    )


def format_watch_summary(report: Mapping[str, Any]) -> str:
    """What a watch prints after its last row."""
    calls = report["calls"]
    behind = f", {calls['skipped']} skipped: the probe fell behind" if calls["skipped"] else ""
    lines = [
        f"calls       {calls['ok']} ok, {calls['failed']} failed in {report['duration_s']:g} s"
        f"{' (interrupted)' if report['interrupted'] else ''}"
        f" ({report['calls_per_s'] or 0:.0f} calls/s of {report['rate']:g} asked{behind})",
    ]
    if report["backends"]:
        seen = ", ".join(
            f"{b} {report['first_seen_s'][b]:.1f}-{report['last_seen_s'][b]:.1f} s"
            for b in sorted(
                report["backends"], key=lambda b: (round(report["first_seen_s"][b], 1), b)
            )
        )
        lines.append(f"answered    {seen}")
    lat = report["latency_ms"]
    lines.append(f"latency     p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms")
    lines.append(f"verdict     {report['headline']}: {report['reason']}")
    lines.extend(f"note        {n}" for n in report["notes"])
    return "\n".join(lines)


def format_watch_report(opts: Options, report: Mapping[str, Any]) -> str:
    """The whole text report of a watch (the live output prints the same lines as they come)."""
    rows = [format_interval_row(r) for r in report["intervals"]]
    return "\n".join([format_watch_header(opts), *rows, format_watch_summary(report)])


# ----------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)  # exits 2 with argparse's usage message on bad arguments
    if opts.duration is not None:
        # Text mode prints the header and each row as it completes; JSON waits for the end.
        live = None if opts.json else sys.stdout
        if live is not None:
            print(format_watch_header(opts), file=live, flush=True)
        return _report(opts, lambda: _watch(opts, live), build_watch_report, format_watch_summary)
    progress_out = None if opts.quiet else sys.stderr
    return _report(opts, lambda: _measure(opts, progress_out), build_report, format_report)


def _report(
    opts: Options,
    measure: Callable[[], Coroutine[Any, Any, Any]],
    build: Callable[[Options, Any], dict[str, Any]],
    text: Callable[[dict[str, Any]], str],
) -> int:
    """Run one measurement (a single run or a watch), print its report, return the exit code."""
    try:
        run = asyncio.run(measure())
    except ProbeError as exc:
        print(f"grpc-lb-check: error: {exc}", file=sys.stderr)
        if opts.json:
            print(json.dumps(error_report(opts, str(exc)), indent=2))
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("grpc-lb-check: interrupted", file=sys.stderr)
        return 130
    report = build(opts, run)
    print(json.dumps(report, indent=2) if opts.json else text(report))
    if report["exit_code"] == EXIT_ERROR:
        print(f"grpc-lb-check: error: {report['reason']}", file=sys.stderr)
    return int(report["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
