"""grpc-lb-check without external binaries: the pure functions (tally, imbalance, percentile,
verdict, exit codes, report shape), argument errors, and main() end to end against small
in-process gRPC servers (so the measuring loop is covered even where nginx/haproxy are absent).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from grpc_kube import _helloworld as hw
from grpc_kube import balance_probe as bp

# ----------------------------------------------------------------------------- tally / ratios


def test_tally_counts_and_orders_busiest_first_then_by_name() -> None:
    counts = bp.tally(["b", "a", "c", "a", "b", "a"])
    assert counts == {"a": 3, "b": 2, "c": 1}
    assert list(counts) == ["a", "b", "c"]
    assert list(bp.tally(["z", "y"])) == ["y", "z"]  # tie: by name, so output is stable
    assert bp.tally([]) == {}


@pytest.mark.parametrize(
    ("counts", "expected", "ratio"),
    [
        ({"a": 200, "b": 200, "c": 200}, 3, 1.0),
        ({"a": 200, "b": 200, "c": 200}, None, 1.0),
        ({"a": 600}, 3, 3.0),  # the L4 signature: one backend took all while three exist
        ({"a": 600}, None, 1.0),  # alone the ratio cannot tell; judge() handles this case
        ({"a": 300, "b": 300}, 3, 1.5),  # a third backend got nothing
        ({"a": 300, "b": 200, "c": 100}, None, 1.5),
        ({"a": 100, "b": 100, "c": 100, "d": 100}, 3, 1.0),  # more seen than expected
        ({}, 3, 0.0),
    ],
)
def test_imbalance_is_busiest_over_fair_share(
    counts: dict[str, int], expected: int | None, ratio: float
) -> None:
    assert bp.imbalance(counts, expected) == pytest.approx(ratio)


def test_fair_share_backends_uses_the_larger_of_seen_and_expected() -> None:
    assert bp.fair_share_backends({"a": 1}, 3) == 3
    assert bp.fair_share_backends({"a": 1, "b": 1, "c": 1, "d": 1}, 3) == 4
    assert bp.fair_share_backends({"a": 1, "b": 0}, None) == 1


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert bp.percentile(values, 50) == 50.0
    assert bp.percentile(values, 99) == 99.0
    assert bp.percentile(values, 100) == 100.0
    assert bp.percentile(values, 0) == 1.0
    assert bp.percentile([7.0], 99) == 7.0
    assert bp.percentile([], 50) == 0.0
    with pytest.raises(ValueError, match=r"0\.\.100"):
        bp.percentile(values, 101)


# ----------------------------------------------------------------------------- verdicts


def _judge(
    counts: dict[str, int], per_channel: list[dict[str, int]] | None = None, **kw: Any
) -> bp.Verdict:
    kw.setdefault("expected", 3)
    kw.setdefault("threshold", 1.5)
    return bp.judge(counts, per_channel if per_channel is not None else [counts], **kw)


def test_one_backend_of_three_on_one_channel_is_pinned_per_connection() -> None:
    v = _judge({"pod-a": 600}, target="grpc.example.com:443")
    assert v.kind == "pinned"
    assert "all 600 calls on one channel went to one backend" in v.reason
    assert "per connection (L4)" in v.reason
    assert "L7 proxy" in v.reason and "round_robin" in v.reason
    assert bp.exit_code(v) == bp.EXIT_UNBALANCED


def test_one_backend_without_expectation_is_pinned_and_says_how_to_declare_one_pod() -> None:
    v = _judge({"pod-a": 300}, expected=None)
    assert v.kind == "pinned"
    assert any("--expect-backends 1" in n for n in v.notes)


def test_one_backend_when_one_is_expected_is_balanced() -> None:
    v = _judge({"pod-a": 300}, expected=1)
    assert v.kind == "balanced"
    assert bp.exit_code(v) == bp.EXIT_BALANCED


def test_pinned_round_robin_points_at_a_non_headless_service() -> None:
    v = _judge({"pod-a": 300}, lb_policy="round_robin")
    assert v.kind == "pinned"
    assert "headless" in v.reason


def test_pinned_over_several_client_side_addresses_blames_pick_first() -> None:
    v = _judge({"pod-a": 300}, target="ipv4:10.0.0.1:50051,10.0.0.2:50051,10.0.0.3:50051")
    assert v.kind == "pinned"
    assert "pick_first" in v.reason and "--lb-policy round_robin" in v.reason
    assert "L4" not in v.reason  # no balancer sat between the client and the addresses
    dns = _judge({"pod-a": 300}, target="dns:///greeter.demo.svc.cluster.local:50051")
    assert "pick_first" in dns.reason and "per connection (L4)" in dns.reason


def test_several_pinned_channels_point_at_connections_not_calls() -> None:
    v = _judge({"pod-a": 300}, per_channel=[{"pod-a": 150}, {"pod-a": 150}])
    assert v.kind == "pinned"
    assert "all 2 channels" in v.reason


def test_every_channel_stuck_to_one_backend_is_pinned_even_if_the_total_looks_even() -> None:
    per_channel = [{"pod-c": 200}, {"pod-a": 200}, {"pod-b": 200}]
    v = _judge({"pod-a": 200, "pod-b": 200, "pod-c": 200}, per_channel=per_channel)
    assert v.kind == "pinned"
    assert "each of the 3 channels kept all its calls on a single backend" in v.reason
    assert "per connection (L4)" in v.reason
    pf = _judge(
        {"pod-a": 200, "pod-b": 200, "pod-c": 200}, per_channel=per_channel, lb_policy="pick_first"
    )
    assert pf.kind == "pinned" and "pick_first" in pf.reason


def test_channels_with_too_few_calls_are_not_judged_stuck() -> None:
    # 5 calls per channel on one backend each could be chance; the overall spread decides.
    per_channel = [{"pod-a": 5}, {"pod-b": 5}, {"pod-c": 5}]
    v = _judge({"pod-a": 5, "pod-b": 5, "pod-c": 5}, per_channel=per_channel)
    assert v.kind == "balanced"


def test_a_backend_that_got_nothing_makes_it_unbalanced_even_within_threshold() -> None:
    v = _judge({"pod-a": 300, "pod-b": 300}, per_channel=[{"pod-a": 300, "pod-b": 300}])
    assert bp.imbalance({"pod-a": 300, "pod-b": 300}, 3) == pytest.approx(1.5)  # == threshold
    assert v.kind == "unbalanced"
    assert "only 2 of 3 expected backends answered" in v.reason
    assert bp.exit_code(v) == bp.EXIT_UNBALANCED


def test_threshold_is_inclusive() -> None:
    counts = {"pod-a": 400, "pod-b": 100, "pod-c": 100}  # ratio 2.0
    over = _judge(counts, threshold=1.5)
    assert over.kind == "unbalanced"
    assert "2.00x its fair share" in over.reason
    assert _judge(counts, threshold=2.0).kind == "balanced"


def test_even_spread_is_balanced_with_the_ratio_in_the_reason() -> None:
    v = _judge({"pod-a": 200, "pod-b": 201, "pod-c": 199})
    assert v.kind == "balanced"
    assert "3 backends" in v.reason and "1.00x" in v.reason
    assert v.notes == ()


def test_more_backends_than_expected_is_noted() -> None:
    v = _judge({"a": 100, "b": 100, "c": 100, "d": 100})
    assert v.kind == "balanced"
    assert any("4 backends answered but 3 were expected" in n for n in v.notes)


def test_port_forward_note_only_for_a_single_local_address_and_a_bad_result() -> None:
    pinned_local = _judge({"pod-a": 300}, target="127.0.0.1:8443")
    assert any("port-forward" in n for n in pinned_local.notes)
    pinned_remote = _judge({"pod-a": 300}, target="grpc.example.com:443")
    assert not any("port-forward" in n for n in pinned_remote.notes)
    multi = _judge({"pod-a": 300}, target="ipv4:127.0.0.1:1,127.0.0.1:2")
    assert not any("port-forward" in n for n in multi.notes)
    balanced_local = _judge({"a": 100, "b": 100, "c": 100}, target="localhost:8443")
    assert not any("port-forward" in n for n in balanced_local.notes)


def test_judge_refuses_an_empty_tally() -> None:
    with pytest.raises(ValueError, match="at least one successful call"):
        _judge({})


def test_exit_codes() -> None:
    assert bp.exit_code(None) == 2
    assert bp.exit_code(bp.Verdict("balanced", "")) == 0
    assert bp.exit_code(bp.Verdict("pinned", "")) == 1
    assert bp.exit_code(bp.Verdict("unbalanced", "")) == 1


# ----------------------------------------------------------------------------- arguments


def test_defaults() -> None:
    o = bp.parse_args(["svc:50051"])
    assert (o.target, o.calls, o.channels, o.threshold, o.tls) == ("svc:50051", 300, 1, 1.5, False)
    assert o.lb_policy is None and o.expect_backends is None and o.backend_header is None


def test_header_name_is_lowercased() -> None:
    assert bp.parse_args(["svc:1", "--backend-header", "X-Served-By"]).backend_header == (
        "x-served-by"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["svc:1", "--calls", "0"], "must be at least 1"),
        (["svc:1", "--calls", "many"], "not a whole number"),
        (["svc:1", "--channels", "-1"], "must be at least 1"),
        (["svc:1", "--threshold", "0.9"], "must be 1.0 or more"),
        (["svc:1", "--threshold", "inf"], "positive number"),
        (["svc:1", "--timeout", "0"], "positive number"),
        (["svc:1", "--cacert", "ca.pem"], "add --tls"),
        (["https://svc.example.com"], "looks like a URL"),
        (["svc:1", "--calls", "2", "--channels", "3"], "exceeds --calls"),
        (["svc:1", "--lb-policy", "least_request"], "invalid choice"),
        (["svc:1", "--backend-header", " "], "--backend-header is empty"),
        (["svc:1", "--stream-messages", "-5"], "0 or more"),
        ([" "], "TARGET is empty"),
        ([], "required: TARGET"),
    ],
)
def test_argument_errors_exit_2_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        bp.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_dns_targets_are_not_mistaken_for_urls() -> None:
    assert bp.parse_args(["dns:///svc.ns.svc.cluster.local:50051"]).target.startswith("dns:///")


# ----------------------------------------------------------------------------- report


def _run(per_channel: list[dict[str, int]], **kw: Any) -> bp.RunResult:
    n = sum(sum(ch.values()) for ch in per_channel)
    return bp.RunResult(
        per_channel=[Counter(ch) for ch in per_channel],
        latencies_s=kw.pop("latencies_s", [0.001 * (i + 1) for i in range(n)]),
        elapsed_s=kw.pop("elapsed_s", 0.5),
        **kw,
    )


REPORT_KEYS = {
    "target",
    "tls",
    "authority",
    "lb_policy",
    "channels",
    "concurrency",
    "calls",
    "errors",
    "backends",
    "per_channel",
    "backends_seen",
    "expected_backends",
    "fair_share",
    "imbalance",
    "threshold",
    "latency_ms",
    "elapsed_s",
    "calls_per_s",
    "stream",
    "verdict",
    "reason",
    "notes",
    "exit_code",
}


def test_report_shape_for_a_pinned_run_is_json_serialisable() -> None:
    opts = bp.Options(target="lb:443", calls=100, expect_backends=3)
    report = bp.build_report(opts, _run([{"pod-a": 100}]))
    assert set(report) == REPORT_KEYS
    assert json.loads(json.dumps(report)) == report
    assert report["calls"] == {"requested": 100, "ok": 100, "failed": 0}
    assert report["backends"] == {"pod-a": 100}
    assert report["backends_seen"] == 1
    assert report["fair_share"] == pytest.approx(100 / 3, abs=1e-3)
    assert report["imbalance"] == 3.0
    assert report["latency_ms"]["p50"] == pytest.approx(50.0)
    assert report["latency_ms"]["p99"] == pytest.approx(99.0)
    assert report["calls_per_s"] == 200.0
    assert (report["verdict"], report["exit_code"]) == ("pinned", 1)
    assert report["lb_policy"] == "pick_first"
    assert report["stream"] is None


def test_report_of_a_balanced_run_with_a_stream() -> None:
    opts = bp.Options(target="lb:443", calls=6, channels=2, stream_messages=4)
    run = _run([{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 1}], stream=Counter({"b": 4}))
    report = bp.build_report(opts, run)
    assert report["verdict"] == "balanced" and report["exit_code"] == 0
    assert report["per_channel"] == [{"a": 1, "b": 1, "c": 1}] * 2
    assert report["stream"] == {"messages": 4, "backends": {"b": 4}}
    text = bp.format_report(report)
    assert "verdict     BALANCED" in text
    assert "stream      4 messages on one SayHelloBidiStream: b 4" in text
    assert "channel 1   a 1, b 1, c 1" in text


def test_failed_calls_make_the_run_an_error_even_if_the_rest_looks_fine() -> None:
    opts = bp.Options(target="lb:443", calls=10)
    run = _run(
        [{"a": 4, "b": 4}],
        errors=Counter({"DEADLINE_EXCEEDED": 2}),
        first_error="DEADLINE_EXCEEDED: Deadline Exceeded",
    )
    report = bp.build_report(opts, run)
    assert report["verdict"] == "error" and report["exit_code"] == 2
    assert report["errors"] == {"DEADLINE_EXCEEDED": 2}
    assert report["reason"].startswith("2 of 10 calls failed (DEADLINE_EXCEEDED x2)")
    assert report["calls"]["failed"] == 2


def test_replies_without_a_backend_are_an_error_naming_the_fix() -> None:
    opts = bp.Options(target="lb:443", calls=5)
    run = _run([{}], latencies_s=[0.001] * 5, unnamed=5)
    report = bp.build_report(opts, run)
    assert report["exit_code"] == 2
    assert "did not name a backend" in report["reason"]
    assert "--backend-header" in report["reason"]


def test_text_report_lists_backends_missing_calls() -> None:
    opts = bp.Options(target="lb:443", calls=600, expect_backends=3)
    text = bp.format_report(bp.build_report(opts, _run([{"pod-b": 600}])))
    assert "pod-b       600  100.0%" in text
    assert "(2 of 3 expected backends: 0 calls)" in text
    assert "imbalance   3.00" in text
    assert "verdict     PINNED: all 600 calls" in text


# ----------------------------------------------------------------------------- reply format


def test_reply_format_round_trips_and_tolerates_from_in_the_name() -> None:
    assert hw.backend_from_reply(hw.format_reply("x from y", "pod-7")) == "pod-7"
    assert hw.backend_from_reply("Hello world") is None  # a stock helloworld server
    assert hw.backend_from_reply("Hello x from ") is None
    assert hw.decode_reply(hw.encode_reply("Hello a from b")) == "Hello a from b"
    assert hw.decode_request(hw.encode_request("n")) == "n"


# ----------------------------------------------------------------------------- main()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str, Any], str]], int]]:
    """Start an in-process SayHello server with a given handler; returns its port."""
    servers: list[grpc.Server] = []

    def start(handler: Callable[[str, Any], str]) -> int:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        method = grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=hw.decode_request,
            response_serializer=hw.encode_reply,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(hw.SERVICE_NAME, {"SayHello": method}),)
        )
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return int(port)

    yield start
    for s in servers:
        s.stop(None)


def test_main_measures_a_real_server_and_prints_json(
    serve: Callable[[Callable[[str, Any], str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    seen_names: list[str] = []

    def handler(name: str, context: Any) -> str:
        seen_names.append(name)
        return hw.format_reply(name, "only-pod")

    port = serve(handler)
    argv = [f"127.0.0.1:{port}", "--calls", "40", "--json", "--quiet", "--name", "probe-test"]
    assert bp.main([*argv, "--expect-backends", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backends"] == {"only-pod": 40}
    assert report["verdict"] == "balanced"
    assert report["calls"] == {"requested": 40, "ok": 40, "failed": 0}
    # 40 measured calls plus the one warm-up call that checks reachability first.
    assert len(seen_names) == 41 and set(seen_names) == {"probe-test"}

    assert bp.main([*argv, "--expect-backends", "3"]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "pinned"


def test_main_reads_the_backend_from_a_header(
    serve: Callable[[Callable[[str, Any], str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(name: str, context: Any) -> str:
        context.send_initial_metadata((("x-served-by", "hdr-pod"),))
        return "Hello " + name  # stock reply: names no backend

    port = serve(handler)
    argv = [f"127.0.0.1:{port}", "--calls", "20", "--json", "--quiet", "--expect-backends", "1"]
    assert bp.main([*argv, "--backend-header", "X-Served-By"]) == 0
    assert json.loads(capsys.readouterr().out)["backends"] == {"hdr-pod": 20}
    # Without the header option the stock reply names nothing: an error, not a verdict.
    assert bp.main(argv) == 2
    captured = capsys.readouterr()
    assert "did not name a backend" in captured.err
    assert json.loads(captured.out)["verdict"] == "error"


def test_main_failing_calls_exit_2(
    serve: Callable[[Callable[[str, Any], str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    calls = 0

    def handler(name: str, context: Any) -> str:
        nonlocal calls
        calls += 1
        if calls > 1:  # the warm-up call passes, measured calls fail
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy")
        return hw.format_reply(name, "pod")

    port = serve(handler)
    assert bp.main([f"127.0.0.1:{port}", "--calls", "10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "10 of 10 calls failed (RESOURCE_EXHAUSTED x10); first: RESOURCE_EXHAUSTED: busy" in err
    # A failing path is not hammered to the end: the probe stops after max(10, calls/10)
    # failures (plus the calls already in flight, at most --concurrency).
    calls = 0
    assert bp.main([f"127.0.0.1:{port}", "--calls", "1000", "--quiet", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert 100 <= report["calls"]["failed"] < 100 + 16
    assert report["calls"]["ok"] == 0
    assert "stopped before the other" in report["reason"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_target_is_one_line_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _closed_port()
    assert bp.main([f"127.0.0.1:{port}", "--calls", "5", "--timeout", "3"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"grpc-lb-check: error: cannot call SayHello on 127.0.0.1:{port}")
    assert "UNAVAILABLE" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_unreadable_cacert_is_exit_2_with_json_error(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pem"
    assert bp.main(["127.0.0.1:1", "--tls", "--cacert", str(missing), "--json"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["verdict"] == "error" and doc["exit_code"] == 2
    assert "cannot read --cacert" in doc["reason"]
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("hello")
    assert bp.main(["127.0.0.1:1", "--tls", "--cacert", str(not_pem)]) == 2
    assert "holds no PEM certificate" in capsys.readouterr().err


# ----------------------------------------------------------------------------- watch mode: pure


def _iv(start: float, counts: dict[str, int], width: float = 1.0, **errors: int) -> bp.Interval:
    return bp.Interval(start, start + width, bp.tally(Counter(counts).elements()), errors)


def _series(*spans: tuple[int, dict[str, int]]) -> list[bp.Interval]:
    """Consecutive 1 s intervals: (how many, counts of each)."""
    out: list[bp.Interval] = []
    for n, counts in spans:
        for _ in range(n):
            out.append(_iv(float(len(out)), counts))
    return out


THREE = {"a": 34, "b": 33, "c": 33}
SIX = {"a": 17, "b": 17, "c": 17, "d": 17, "e": 16, "f": 16}


def test_bucket_calls_by_start_time_with_a_shorter_last_interval() -> None:
    records = [
        bp.CallRecord(0.0, "a"),
        bp.CallRecord(0.99, "b"),
        bp.CallRecord(1.0, "a"),
        bp.CallRecord(1.5, None, "UNAVAILABLE"),
        bp.CallRecord(2.4, "c"),
        bp.CallRecord(2.49, None),  # a reply that named no backend: in neither count
        bp.CallRecord(9.0, "c"),  # issued at the very end: the last interval
    ]
    ivs = bp.bucket_calls(records, interval=1.0, duration=2.5)
    assert [(iv.start_s, iv.end_s) for iv in ivs] == [(0.0, 1.0), (1.0, 2.0), (2.0, 2.5)]
    assert [dict(iv.backends) for iv in ivs] == [{"a": 1, "b": 1}, {"a": 1}, {"c": 2}]
    assert [iv.failed for iv in ivs] == [0, 1, 0]
    assert ivs[1].errors == {"UNAVAILABLE": 1}
    assert bp.interval_count(3.0, 1.0) == 3 and bp.interval_count(0.1 * 3, 0.1) == 3


def test_sliding_windows_merge_consecutive_intervals() -> None:
    ivs = [_iv(0.0, {"a": 1}, 0.5), _iv(0.5, {"b": 2}, 0.5, UNAVAILABLE=1), _iv(1.0, {"a": 3}, 0.5)]
    w = bp.sliding_windows(ivs, 2)
    assert [(x.start_s, x.end_s) for x in w] == [(0.0, 1.0), (0.5, 1.5)]
    assert dict(w[0].backends) == {"b": 2, "a": 1} and w[0].failed == 1
    assert dict(w[1].backends) == {"a": 3, "b": 2}
    assert len(bp.sliding_windows(ivs, 10)) == 1  # fewer intervals than k: one window of all
    assert bp.sliding_windows([], 3) == []
    with pytest.raises(ValueError):
        bp.sliding_windows(ivs, 0)


def test_max_min_is_busiest_over_least_busy() -> None:
    assert bp.max_min({"a": 34, "b": 33, "c": 33}) == pytest.approx(34 / 33)
    assert bp.max_min({"a": 10}) == 1.0
    assert bp.max_min({"a": 10, "b": 5}, ["a", "b", "c"]) == math.inf  # c got nothing
    assert bp.max_min({}) == 0.0


@pytest.mark.parametrize(
    ("counts", "kw", "why"),
    [
        ({"a": 100}, {}, "one backend (a) took every call"),
        ({"a": 100}, {"expected": 1}, None),
        ({"a": 50, "b": 50}, {"expected": 3}, "only 2 of 3 expected backends answered"),
        ({"a": 60, "b": 20, "c": 20}, {}, "1.80x its fair share (threshold 1.50)"),
        ({"a": 40, "b": 30, "c": 30}, {}, None),
        ({"a": 40, "b": 30, "c": 30}, {"metric": "max_min", "threshold": 1.1}, "1.33x the calls"),
        ({"a": 34, "b": 33, "c": 33}, {"metric": "max_min", "threshold": 1.1}, None),
        ({}, {}, "no call succeeded"),
    ],
)
def test_unfair_reason(counts: dict[str, int], kw: dict[str, Any], why: str | None) -> None:
    got = bp.unfair_reason(counts, **kw)
    if why is None:
        assert got is None
    else:
        assert got is not None and why in got


def test_a_steady_fair_run_converged_from_the_start() -> None:
    conv = bp.find_convergence(_series((5, THREE)))
    assert conv.converged and conv.at_s == 0.0 and conv.after_s is None
    assert conv.backends == ("a", "b", "c") and conv.stable_s == 5.0
    assert "the same 3 backends answered throughout" in conv.reason


def test_scale_out_converges_after_the_new_backends_answer() -> None:
    # 3 backends, then d/e/f join at 3.4 s: interval 3 is mixed, 4 on is an even spread of 6.
    ivs = _series((3, THREE), (1, {"a": 27, "b": 27, "c": 26, "d": 7, "e": 7, "f": 6}), (5, SIX))
    first = {"a": 0.0, "b": 0.0, "c": 0.01, "d": 3.4, "e": 3.41, "f": 3.42}
    conv = bp.find_convergence(ivs, first_seen=first)
    assert conv.converged and conv.backends == tuple("abcdef")
    # Interval 3 is not a fair spread (27 calls vs a fair share of 16.7: 1.62x), 4 on are.
    assert conv.at_s == 4.0
    assert conv.changed_at_s == 3.42 and conv.change == "f answered for the first time"
    assert conv.after_s == pytest.approx(0.58)
    assert conv.stable_s == 5.0
    # The stricter measure the benchmark uses agrees here (17/16 <= 1.1).
    strict = bp.find_convergence(ivs, metric="max_min", threshold=1.1, first_seen=first)
    assert strict.at_s == 4.0
    # Without first-seen times the change is placed at the start of the interval it showed in.
    assert bp.find_convergence(ivs).changed_at_s == 3.0


def test_l4_pinned_throughout_never_converges_and_says_why() -> None:
    conv = bp.find_convergence(_series((10, {"b": 100})))
    assert not conv.converged and conv.at_s is None
    assert "every interval sent all its calls to one backend" in conv.reason
    assert "per connection (L4)" in conv.reason and "moved" not in conv.reason
    moved = bp.find_convergence(_series((3, {"b": 100}), (3, {"c": 100})))
    assert "(the connection moved: b -> c)" in moved.reason
    # The interval in which the connection changed backend carries both: still pinned.
    handover = _series((3, {"b": 100}), (1, {"b": 9, "d": 91}), (3, {"d": 100}))
    assert "(the connection moved: b -> d)" in bp.find_convergence(handover).reason


def test_pinned_sequence_accepts_only_hand_overs() -> None:
    seq = _series((2, {"b": 100}), (1, {"b": 9, "d": 91}), (2, {"d": 100}), (1, {"d": 50, "b": 50}))
    assert bp.pinned_sequence(seq[:5]) == ["b", "d"]
    assert bp.pinned_sequence(seq) is None  # ends mixed
    assert bp.pinned_sequence([*seq, *_series((1, {"b": 100}))]) == ["b", "d", "b"]
    spread = _series((2, {"b": 100}), (1, {"b": 50, "c": 50}), (2, {"b": 100}))
    assert bp.pinned_sequence(spread) is None  # b, then b and c, then b again: spread, not moved
    assert bp.pinned_sequence(_series((3, THREE))) is None
    assert bp.pinned_sequence([]) is None


def test_a_fair_spread_at_the_very_end_is_too_short_to_count() -> None:
    conv = bp.find_convergence(_series((5, {"a": 100}), (1, THREE)))
    assert not conv.converged
    assert "only from 5.0 s, 1.0 s before the end" in conv.reason and "--duration" in conv.reason
    assert bp.find_convergence(_series((5, {"a": 100}), (1, THREE)), min_stable_s=1.0).converged


def test_an_unfair_last_interval_is_the_reason() -> None:
    conv = bp.find_convergence(_series((4, THREE), (1, {"a": 80, "b": 10, "c": 10})))
    assert not conv.converged
    assert conv.reason.startswith("at the end (4.0-5.0 s) the busiest backend took 2.40x")
    short = bp.find_convergence(_series((4, SIX)), expected=8)
    assert "only 6 of 8 expected backends answered" in short.reason


def test_a_window_between_scale_out_and_scale_in_is_judged_on_its_own() -> None:
    ivs = _series((3, THREE), (6, SIX), (4, THREE))
    last = {"a": 12.9, "b": 12.9, "c": 12.9, "d": 8.95, "e": 8.97, "f": 8.99}
    whole = bp.find_convergence(ivs, last_seen=last)
    assert whole.converged and whole.backends == ("a", "b", "c")
    assert whole.at_s == 9.0 and whole.change == "f answered for the last time"
    assert whole.after_s == pytest.approx(0.01)
    middle = bp.find_convergence(ivs, since_s=3.0, until_s=9.0)
    assert middle.converged and len(middle.backends) == 6 and middle.at_s == 3.0
    assert not bp.find_convergence(ivs, since_s=20.0).converged


def test_judge_watch_headlines_and_failed_calls() -> None:
    ivs = _series((3, THREE), (5, SIX))
    first = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 2.6, "e": 2.6, "f": 2.7}
    v, _ = bp.judge_watch(ivs, first_seen=first)
    # f answered at 2.7 s, the spread was fair from 3.0 s: finer than an interval cannot be told.
    assert (v.kind, v.headline) == ("converged", "CONVERGED within 1 s across 6 backends")
    late = {**first, "d": 1.2, "e": 1.2, "f": 1.3}  # appeared at 1.2-1.3 s, fair from 3.0 s only
    mixed = [
        ivs[0],
        _iv(1.0, {"a": 30, "b": 30, "c": 30, "d": 4, "e": 3, "f": 3}),
        _iv(2.0, {"a": 28, "b": 27, "c": 25, "d": 7, "e": 7, "f": 6}),  # 1.68x: not yet
        *ivs[3:],
    ]
    assert bp.judge_watch(mixed, first_seen=late)[0].headline == (
        "CONVERGED after 1.7 s across 6 backends"
    )
    assert bp.watch_exit_code(v, failed=0) == bp.EXIT_BALANCED
    steady, _ = bp.judge_watch(_series((3, {"a": 10})), expected=1)
    assert steady.headline == "CONVERGED from the start across 1 backend"

    failing = [*ivs[:4], _iv(4.0, SIX, UNAVAILABLE=2), *ivs[5:]]
    v2, _ = bp.judge_watch(failing, first_seen=first)
    assert v2.kind == "converged"
    assert v2.reason.endswith("; 2 calls failed (UNAVAILABLE x2) in 4.0-5.0 s")
    assert bp.watch_exit_code(v2, failed=2) == bp.EXIT_UNBALANCED  # lost calls: a bad path

    pinned, _ = bp.judge_watch(_series((5, {"a": 100})))
    assert (pinned.kind, pinned.headline) == ("not_converged", "NOT CONVERGED")
    assert bp.watch_exit_code(pinned, failed=0) == bp.EXIT_UNBALANCED
    assert bp.watch_exit_code(None, failed=0) == bp.EXIT_ERROR


def test_few_calls_per_interval_earn_a_note() -> None:
    v, _ = bp.judge_watch(_series((4, {"a": 3, "b": 3, "c": 3})))
    assert any("raise --rate or --interval" in n for n in v.notes)
    v2, _ = bp.judge_watch(_series((4, THREE)))
    assert v2.notes == ()


def test_first_last_seen_ignores_failures() -> None:
    first, last = bp.first_last_seen(
        [bp.CallRecord(0.5, "a"), bp.CallRecord(0.1, "a"), bp.CallRecord(2.0, None, "UNKNOWN")]
    )
    assert first == {"a": 0.1} and last == {"a": 0.5}


# ----------------------------------------------------------------------------- watch mode: report


def _watch_run(*spans: tuple[float, float, dict[str, int]], **kw: Any) -> bp.WatchResult:
    """Calls spread evenly over [t0, t1) with the given per-backend counts."""
    records = []
    for t0, t1, counts in spans:
        # Interleave the backends as round robin does.
        queue = [b for i in range(max(counts.values())) for b in counts if i < counts[b]]
        step = (t1 - t0) / len(queue)
        records += [bp.CallRecord(t0 + i * step, b, None, 0.002) for i, b in enumerate(queue)]
    return bp.WatchResult(
        records=records + kw.pop("extra", []), started_at=1.7e9, elapsed_s=kw.pop("elapsed", 6.0)
    )


WATCH_KEYS = {
    "mode", "target", "tls", "authority", "lb_policy", "health_check", "channels", "concurrency",
    "duration_s", "interrupted", "interval_s", "rate", "started_at", "calls", "calls_per_s",
    "errors", "first_error", "backends", "first_seen_s", "last_seen_s", "expected_backends",
    "threshold", "latency_ms", "intervals", "convergence", "verdict", "headline", "reason",
    "notes", "exit_code",
}  # fmt: skip


def test_watch_report_shape_round_trips_and_reads_back() -> None:
    opts = bp.parse_args(["lb:443", "--duration", "6", "--rate", "100"])
    run = _watch_run((0.0, 2.5, {"a": 84, "b": 83, "c": 83}), (2.5, 6.0, {k: 58 for k in "abcdef"}))
    report = bp.build_watch_report(opts, run)
    assert set(report) == WATCH_KEYS
    assert json.loads(json.dumps(report)) == report
    assert report["calls"] == {"issued": 598, "ok": 598, "failed": 0, "skipped": 0}
    assert len(report["intervals"]) == 6
    first_row = report["intervals"][0]
    assert {k: v for k, v in first_row.items() if k != "backends"} == {
        "start_s": 0.0, "end_s": 1.0, "ok": 100, "failed": 0, "errors": {}, "backends_seen": 3,
        "imbalance": 1.02, "max_min": 1.03,
    }  # fmt: skip
    assert sorted(first_row["backends"].values()) == [33, 33, 34]
    assert report["first_seen_s"]["d"] == pytest.approx(2.53, abs=0.01)  # 4th in round robin
    assert (report["verdict"], report["exit_code"]) == ("converged", 0)
    assert report["headline"] == "CONVERGED within 1 s across 6 backends"
    assert report["convergence"]["at_s"] == 3.0
    # A benchmark reads the intervals back and judges a part of the run.
    ivs = bp.watch_intervals(report)
    assert ivs[0].backends == bp.tally(Counter(report["intervals"][0]["backends"]).elements())
    assert bp.find_convergence(ivs, until_s=2.0).backends == ("a", "b", "c")


def test_watch_report_errors() -> None:
    opts = bp.parse_args(["lb:443", "--duration", "2"])
    dead = bp.WatchResult(records=[bp.CallRecord(0.1, None, "UNAVAILABLE")], elapsed_s=2.0)
    dead.first_error = "UNAVAILABLE: gone"
    r = bp.build_watch_report(opts, dead)
    assert (r["verdict"], r["exit_code"]) == ("error", 2)
    assert r["reason"] == "no call of the watch succeeded (1 failed, first: UNAVAILABLE: gone)"
    unnamed = bp.WatchResult(records=[bp.CallRecord(0.1, "a"), bp.CallRecord(0.2, None)], unnamed=1)
    r2 = bp.build_watch_report(opts, unnamed)
    assert r2["exit_code"] == 2 and "1 of 2 replies did not name a backend" in r2["reason"]


def test_watch_text_report() -> None:
    opts = bp.parse_args(["lb:443", "--duration", "4", "--rate", "100"])
    fail = [bp.CallRecord(1.5, None, "UNAVAILABLE")]
    run = _watch_run((0.0, 4.0, {"a": 200, "b": 200}), extra=fail, elapsed=4.0)
    text = bp.format_watch_report(opts, bp.build_watch_report(opts, run))
    lines = text.splitlines()
    assert lines[0] == "target      lb:443 (plaintext, 1 channel, client lb pick_first)"
    assert lines[1] == "watch       4 s at 100 calls/s, one row per 1 s"
    assert lines[2].split() == [
        "interval",
        "s",
        "ok",
        "fail",
        "seen",
        "imbal",
        "calls",
        "per",
        "backend",
    ]
    assert lines[3] == "   0.0-1.0       100     0    2   1.00  a 50  b 50"
    assert lines[4].endswith("a 50  b 50  [failed: UNAVAILABLE x1]") and " 1    2 " in lines[4]
    assert "answered    a 0.0-4.0 s, b 0.0-4.0 s" in text
    assert (
        "verdict     CONVERGED from the start across 2 backends: the same 2 backends answered "
        "throughout and every interval was a fair spread; 1 call failed (UNAVAILABLE x1) in "
        "1.0-2.0 s"
    ) in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["svc:1", "--interval", "1"], "add --duration"),
        (["svc:1", "--rate", "50"], "add --duration"),
        (["svc:1", "--duration", "10", "--calls", "5"], "calls at --rate per second instead"),
        (["svc:1", "--duration", "10", "--stream-messages", "5"], "not a watch"),
        (["svc:1", "--duration", "1.5"], "at least two --interval"),
        (["svc:1", "--duration", "10", "--rate", "0.5"], "less than one call per --interval"),
        (["svc:1", "--duration", "0"], "positive number"),
        (["svc:1", "--duration", "2", "--rate", "1", "--channels", "3"], "exceeds the calls"),
        (["svc:1", "--health-check"], "needs --lb-policy round_robin"),
        (["svc:1", "--health-check", "--lb-policy", "pick_first"], "needs --lb-policy round_robin"),
    ],
)
def test_watch_argument_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        bp.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_health_check_goes_into_the_service_config() -> None:
    opts = bp.parse_args(["dns:///svc:1", "--lb-policy", "round_robin", "--health-check"])
    options = dict(bp._channel_options(opts))
    assert options["grpc.lb_policy_name"] == "round_robin"
    assert json.loads(options["grpc.service_config"]) == {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
    }
    plain = dict(bp._channel_options(bp.parse_args(["svc:1", "--lb-policy", "round_robin"])))
    assert "grpc.service_config" not in plain


def test_watch_defaults_leave_one_shot_untouched() -> None:
    o = bp.parse_args(["svc:1", "--duration", "30"])
    assert (o.duration, o.interval, o.rate, o.calls) == (30.0, 1.0, 100.0, 300)
    assert bp.parse_args(["svc:1"]).duration is None


@pytest.mark.parametrize(
    ("run", "code", "verdict"),
    [
        (_watch_run((0.0, 4.0, {"a": 200, "b": 200})), 0, "converged"),
        (_watch_run((0.0, 4.0, {"a": 400})), 1, "not_converged"),
        (_watch_run((0.0, 4.0, {"a": 200, "b": 200}), extra=[bp.CallRecord(3.0, None, "UNKNOWN")]),
         1, "converged"),
        (bp.WatchResult(records=[bp.CallRecord(0.0, None, "UNAVAILABLE")]), 2, "error"),
    ],
)  # fmt: skip
def test_main_watch_with_a_fake_measurement(
    run: bp.WatchResult,
    code: int,
    verdict: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def fake_watch(opts: bp.Options, live: Any) -> bp.WatchResult:
        assert live is None  # --json prints nothing until the end
        assert (opts.duration, opts.interval, opts.rate) == (4.0, 1.0, 100.0)
        return run

    monkeypatch.setattr(bp, "_watch", fake_watch)
    assert bp.main(["lb:443", "--duration", "4", "--json"]) == code
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["verdict"] == verdict and report["exit_code"] == code
    assert ("grpc-lb-check: error:" in out.err) == (code == 2)


def test_main_watch_unreachable_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    assert bp.main([f"127.0.0.1:{port}", "--duration", "2", "--timeout", "2", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["verdict"] == "error"
    assert "cannot call SayHello" in captured.err and "Traceback" not in captured.err


def test_main_watch_follows_a_scale_out_on_a_real_server(
    serve: Callable[[Callable[[str, Any], str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    """The measuring loop end to end: one in-process server whose replies name 2 backends, then
    4 once 0.6 s have passed (as if two pods joined behind an L7 proxy)."""
    started: list[float] = []
    served = 0

    def handler(name: str, context: Any) -> str:
        nonlocal served
        if not started:
            started.append(time.monotonic())
        pods = 4 if time.monotonic() - started[0] > 0.6 else 2
        served += 1
        return hw.format_reply(name, f"pod-{served % pods}")

    port = serve(handler)
    argv = [f"127.0.0.1:{port}", "--duration", "2", "--interval", "0.2", "--rate", "200"]
    code = bp.main(argv)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+\.\d-\d", line)]
    assert len(rows) == 10, out
    assert "pod-3" not in rows[0] and "pod-3" in rows[-1]
    assert code == 0, out
    m = re.search(r"verdict     CONVERGED (after|within) (\d+(\.\d)?) s across 4 backends", out)
    assert m, out
    assert float(m.group(2)) <= 0.6


def test_sigint_ends_a_watch_early_with_a_report(
    serve: Callable[[Callable[[str, Any], str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C during a watch stops it and reports what was measured (the benchmark and the
    scale-out test stop their probes this way once the story is over)."""
    served = 0

    def handler(name: str, context: Any) -> str:
        nonlocal served
        served += 1
        return hw.format_reply(name, f"pod-{served % 2}")

    port = serve(handler)

    def interrupt_once_watching() -> None:
        # asyncio's handler replaces Python's default one while the watch runs.
        deadline = time.monotonic() + 20
        while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.7)
        os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=interrupt_once_watching)
    killer.start()
    started = time.monotonic()
    argv = [f"127.0.0.1:{port}", "--duration", "30", "--interval", "0.2", "--rate", "100"]
    code = bp.main([*argv, "--json"])
    killer.join()
    assert time.monotonic() - started < 10
    report = json.loads(capsys.readouterr().out)
    assert report["interrupted"] is True and report["duration_s"] < 5
    assert report["calls"]["ok"] > 0 and report["calls"]["failed"] == 0
    assert len(report["intervals"]) == math.ceil(report["duration_s"] / 0.2 - 1e-9)
    assert code == 0 and report["verdict"] == "converged", report["reason"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
