"""What each query mode selects, summarises and returns (pure pipeline, no I/O)."""

from __future__ import annotations

from analyzer.analysis.pipeline import analyze_records
from analyzer.model import LogRecord, Query, Severity, TimeRange

T0 = 1_795_500_000 * 10**9
WINDOW = TimeRange(T0 - 10**9, T0 + 3600 * 10**9)


def rec(sec: int, service: str, level: str, message: str, **kw: object) -> LogRecord:
    return LogRecord(T0 + sec * 10**9, service, Severity.parse(level), message, **kw)  # type: ignore[arg-type]


RECORDS = [
    rec(
        0,
        "api",
        "info",
        "request ok",
        duration=0.2,
        correlation_id="c1",
        conversation_id="v1",
        tokens_used=100,
    ),
    rec(1, "api", "info", "request ok", duration=3.5, correlation_id="c2", request_type="search"),
    rec(2, "redis", "error", "connection refused redis:6379"),
    rec(3, "api", "warn", "retrying cache call"),
    rec(4, "api", "error", "cache unavailable: connection refused", correlation_id="c3"),
    rec(5, "admin-ui", "info", "user alice logged in", user_id="alice", request_type="login"),
    rec(6, "admin-ui", "warn", "permission denied for bob on /admin", user_id="bob"),
    rec(7, "api", "info", "request ok", duration=0.9, conversation_id="v1", tokens_used=50),
    rec(8, "api", "error", "cache unavailable: connection refused", correlation_id="c4"),
]


def run(**kw: object):
    return analyze_records(RECORDS, Query(**kw), WINDOW)  # type: ignore[arg-type]


def test_troubleshoot_returns_warnings_and_errors() -> None:
    logs = run(mode="troubleshoot").logs
    assert {entry["level"] for entry in logs} == {"warn", "error"}


def test_troubleshoot_summary_orders_affected_services_by_first_error() -> None:
    summary = run(mode="troubleshoot").summary
    assert [a["service"] for a in summary["affected_services"]] == ["redis", "api"]
    assert summary["first_error"]["service"] == "redis"


def test_errors_mode_keeps_only_errors() -> None:
    analysis = run(mode="errors")
    assert {entry["level"] for entry in analysis.logs} == {"error"}
    assert analysis.summary["errors_by_service"] == {"api": 2, "redis": 1}


def test_performance_ranks_slowest_first() -> None:
    analysis = run(mode="performance")
    assert [entry["duration"] for entry in analysis.logs] == [3.5, 0.9, 0.2]
    assert analysis.summary["overall"]["p95_ms"] == 3500.0


def test_audit_keeps_auth_and_permission_events() -> None:
    analysis = run(mode="audit")
    assert [entry["message"] for entry in analysis.logs] == [
        "user alice logged in",
        "permission denied for bob on /admin",
    ]
    assert analysis.summary["by_outcome"] == {"success": 1, "failure": 1}


def test_conversation_mode_groups_by_conversation_id() -> None:
    body = run(mode="conversation").to_dict()
    assert body["conversations"][0]["conversation_id"] == "v1"
    assert body["conversations"][0]["tokens"] == 150


def test_deduplicate_collapses_repeats_with_count_and_times() -> None:
    logs = run(mode="errors", deduplicate=True).logs
    cache = next(e for e in logs if e["service"] == "api")
    assert cache["count"] == 2
    assert cache["first_seen"] < cache["last_seen"]


def test_include_context_adds_neighbouring_lines_of_the_same_service() -> None:
    logs = run(mode="errors", include_context=1).logs
    context = [e for e in logs if e.get("context")]
    assert {e["service"] for e in context} == {"api"}
    assert any(e["message"] == "retrying cache call" for e in context)


def test_context_window_adds_lines_near_each_error_from_any_service() -> None:
    logs = run(mode="errors", services=["redis", "api"], context_window="1s").logs
    assert any(e["message"] == "retrying cache call" for e in logs)


def test_limit_truncates_and_says_so() -> None:
    analysis = run(mode="troubleshoot", limit=2)
    assert len(analysis.logs) == 2
    assert analysis.metadata["truncated"] is True


def test_exclude_patterns_drop_matching_lines() -> None:
    logs = run(mode="errors", exclude_patterns=["redis:6379"]).logs
    assert all("redis:6379" not in e["message"] for e in logs)


def test_highlight_marks_lines_containing_a_term() -> None:
    logs = run(mode="errors", highlight=["refused"]).logs
    assert all(e["highlights"] == ["refused"] for e in logs)


def test_severity_threshold_filters_below_it() -> None:
    analysis = run(mode="troubleshoot", severity_threshold="error")
    assert analysis.metadata["total_logs"] == 3


def test_aggregation_by_service_counts_levels() -> None:
    agg = run(mode="troubleshoot", aggregation="by_service").aggregations["by_service"]
    assert agg["api"] == {"count": 3, "by_level": {"warn": 1, "error": 2}}


def test_minimal_verbosity_keeps_four_fields() -> None:
    logs = run(mode="errors", verbosity="minimal").logs
    assert set(logs[0]) == {"timestamp", "service", "level", "message"}


def test_ids_filter_records() -> None:
    analysis = run(mode="troubleshoot", correlation_id="c3")
    assert analysis.metadata["total_logs"] == 1


def test_aggregation_by_pattern_groups_lines_by_mined_template() -> None:
    groups = run(mode="troubleshoot", aggregation="by_pattern").aggregations["by_pattern"]
    top = groups[0]
    assert top["template"] == "cache unavailable: connection refused"
    assert top["count"] == 2
    assert top["services"] == ["api"]


def test_expand_dependencies_lets_insights_name_a_service_outside_the_filter() -> None:
    outage = [
        rec(0, "redis", "error", "Background saving error: fork: Cannot allocate memory"),
        rec(1, "redis", "error", "OOM command not allowed when used memory > maxmemory"),
    ] + [
        rec(2 + i, "api", "error", f"cache call failed: connection refused redis:6379 (req {i})")
        for i in range(12)
    ]
    narrow = analyze_records(outage, Query(services=["api"]), WINDOW)
    expanded = analyze_records(outage, Query(services=["api"], expand_dependencies=True), WINDOW)
    # without redis's own lines, redis is what api's lines name: a cause read from its callers
    assert narrow.insights[0].service == "redis" and narrow.insights[0].evidence.extra["silent"]
    assert expanded.insights[0].service == "redis"
    assert "silent" not in expanded.insights[0].evidence.extra  # its own lines were read
    assert expanded.insights[0].evidence.extra["own_failures"] == 2
    assert {e["service"] for e in expanded.logs} == {"api"}
