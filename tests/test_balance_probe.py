"""grpc-lb-check without external binaries: the pure functions (tally, imbalance, percentile,
verdict, exit codes, report shape), argument errors, and main() end to end against small
in-process gRPC servers (so the measuring loop is covered even where nginx/haproxy are absent).
"""

from __future__ import annotations

import json
import socket
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
