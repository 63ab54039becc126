"""Request correlation: call edges from the best evidence, critical path, failing hop, frames."""

from __future__ import annotations

from typing import Any

from analyzer.analysis.correlate import node_graph_frames, request_flow
from analyzer.model import NS_PER_SECOND, LogRecord, Severity

T0 = 1_800_000_000 * NS_PER_SECOND
CID = "corr-0123456789ab"


def rec(
    ms: int,
    service: str,
    message: str,
    level: str = "info",
    cid: str = CID,
    duration: float | None = None,
    **fields: Any,
) -> LogRecord:
    return LogRecord(
        timestamp_ns=T0 + ms * 1_000_000,
        service=service,
        level=Severity.parse(level),
        message=message,
        fields=fields,
        correlation_id=cid,
        duration=duration,
    )


def slow_llm_request() -> list[LogRecord]:
    """api calls redis (fast) then anythingllm (slow); anythingllm's own work dominates."""
    return [
        rec(0, "api", "POST /api/v1/chat received"),
        rec(5, "api", "calling redis for session cache"),
        rec(6, "redis", "GET session hit"),
        rec(9, "redis", "reply sent"),
        rec(12, "api", "request to anythingllm /v1/chat"),
        rec(20, "anythingllm", "chat started"),
        rec(2400, "anythingllm", "chat completed", duration=2.38),
        rec(2410, "api", "handled request in 2410ms", duration=2.41),
        rec(50, "api", "unrelated", cid="corr-other"),
    ]


def test_only_the_requested_id_is_followed() -> None:
    result = request_flow(slow_llm_request(), CID)
    assert sum(h.lines for h in result.hops.values()) == 8


def test_message_calls_become_edges_with_their_evidence() -> None:
    result = request_flow(slow_llm_request(), CID)
    assert result.graph.has_edge("api", "redis")
    assert result.graph.has_edge("api", "anythingllm")
    assert result.graph["api"]["anythingllm"]["inferred_from"] == "message"


def test_critical_path_follows_the_slow_hop() -> None:
    result = request_flow(slow_llm_request(), CID)
    assert result.critical_path == ["api", "anythingllm"]


def test_the_service_doing_the_work_is_the_bottleneck() -> None:
    result = request_flow(slow_llm_request(), CID)
    assert [h.service for h in result.bottlenecks()] == ["anythingllm"]
    assert result.hops["api"].self_ns < result.hops["anythingllm"].self_ns


def test_durations_use_reported_durations_for_span_start() -> None:
    body = request_flow(slow_llm_request(), CID).to_dict()
    assert body["service_durations"]["api"] == 2410.0
    assert body["total_duration_ms"] == 2410.0
    assert [s["service"] for s in body["service_timeline"]] == ["api", "redis", "anythingllm"]


def test_span_ids_outrank_time_order() -> None:
    records = [
        rec(0, "api", "start", span_id="s1"),
        rec(1, "worker", "job picked", span_id="s2", parent_span_id="s1"),
        rec(2, "browser", "render", span_id="s3", parent_span_id="s2"),
    ]
    result = request_flow(records, CID)
    assert result.graph["worker"]["browser"]["inferred_from"] == "span_ids"
    assert result.critical_path == ["api", "worker", "browser"]


def test_without_any_evidence_time_order_links_services() -> None:
    records = [rec(0, "admin-ui", "click"), rec(10, "api", "got it"), rec(20, "api", "done")]
    result = request_flow(records, CID)
    assert result.graph["admin-ui"]["api"]["inferred_from"] == "time_order"
    assert result.root == "admin-ui"


def test_failing_hop_is_the_deepest_failed_service() -> None:
    records = [
        rec(0, "api", "chat request"),
        rec(10, "anythingllm", "PrismaClientInitializationError: Can't reach database", "error"),
        rec(12, "api", "anythingllm returned 500 Internal Server Error", "error", status_code=502),
    ]
    result = request_flow(records, CID)
    assert result.failing_hop == "anythingllm"
    assert result.to_dict()["recommendations"][0].startswith("Start at anythingllm")


def test_a_silent_peer_named_in_an_error_is_the_unreachable_failing_hop() -> None:
    records = [
        rec(0, "api", "search request"),
        rec(3, "api", "connection refused redis:6379 (cache unavailable)", "error"),
    ]
    result = request_flow(records, CID, known_services=["api", "redis", "worker"])
    assert result.failing_hop == "redis"
    assert result.hops["redis"].inferred and result.hops["redis"].status == "unreachable"


def test_host_port_of_a_host_that_logs_nothing_is_a_silent_hop() -> None:
    records = [rec(0, "anythingllm", "Can't reach database server at anythingllm-db:5432", "error")]
    result = request_flow(records, CID, known_services=["anythingllm", "api"])
    assert set(result.hops) == {"anythingllm", "anythingllm-db"}
    assert result.hops["anythingllm-db"].silent and result.failing_hop == "anythingllm-db"


def test_a_word_followed_by_a_number_is_not_a_host() -> None:
    records = [rec(0, "api", "request failed status:503 after retry:3, took:1200ms", "error")]
    assert set(request_flow(records, CID).hops) == {"api"}


def test_unknown_id_gives_an_empty_result_that_says_so() -> None:
    body = request_flow(slow_llm_request(), "corr-missing").to_dict()
    assert body["found"] is False and body["request_flow"]["nodes"] == []
    assert body["recommendations"]


def test_node_graph_frames_use_grafana_field_names() -> None:
    records = [*slow_llm_request(), rec(30, "redis", "OOM command not allowed", "error")]
    nodes, edges = node_graph_frames(request_flow(records, CID))
    node_names = [f["name"] for f in nodes]
    assert node_names[:5] == ["id", "title", "subtitle", "mainstat", "secondarystat"]
    assert {"color", "arc__ok", "arc__errors"} <= set(node_names)
    assert [f["name"] for f in edges][:4] == ["id", "source", "target", "mainstat"]
    by_name = {f["name"]: f for f in nodes}
    for ok, bad in zip(by_name["arc__ok"]["values"], by_name["arc__errors"]["values"], strict=True):
        assert abs(ok + bad - 1.0) < 1e-9
    assert by_name["arc__errors"]["config"]["color"]["fixedColor"] == "red"
    redis_index = by_name["id"]["values"].index("redis")
    assert by_name["color"]["values"][redis_index] == "red"
    ids = set(by_name["id"]["values"])
    edge_fields = {f["name"]: f["values"] for f in edges}
    assert set(edge_fields["source"]) | set(edge_fields["target"]) <= ids
