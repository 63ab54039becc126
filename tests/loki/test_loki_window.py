"""A window read over Loki: numbers from metric queries, words from a few narrow log reads.

Served by the recorded answers of a real Loki 3.5 over a 1,036,196-line window
(tests/fixtures/loki_scale, with its exact truth); log reads are answered from recorded lines
only where the recording proves the answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.analysis.pipeline import analyze
from analyzer.model import Query, Severity
from analyzer.sources.loki import LokiSource
from tests.loki.conftest import ReplayLoki

START_NS = 1796141142000000000
END_NS = 1796151942000000000


@pytest.fixture
def source(scale_loki: ReplayLoki) -> LokiSource:
    return LokiSource(scale_loki.url, retries=0, selector='{env="prod"}')


def window_query(**extra: Any) -> Query:
    return Query(start=str(START_NS), end=str(END_NS), **extra)


def test_totals_are_the_windows_exact_counts(source: LokiSource, scale_truth: dict[str, Any]) -> None:
    read = source.read_window(window_query())
    counted = {f"{s}/{level.label}": n for (s, level), n in read.profile.totals.items()}
    assert counted == scale_truth["count_by_service_level"]
    assert read.profile.count([Severity.ERROR, Severity.FATAL]) == scale_truth["total_errors"]


def test_the_analysis_names_the_cache_as_root_cause(source: LokiSource, scale_truth: dict[str, Any]) -> None:
    read = source.read_window(window_query())
    analysis = analyze(read, window_query())
    assert analysis.insights[0].kind == "root_cause"
    assert analysis.insights[0].service == scale_truth["root_service"]
    assert analysis.summary["error_count"] == scale_truth["total_errors"]
    assert analysis.summary["total_records"] == scale_truth["total_lines"]


def test_the_narrative_says_its_messages_rest_on_a_sample_and_its_counts_are_exact(
    source: LokiSource, scale_truth: dict[str, Any]
) -> None:
    from analyzer.narrate import render

    body = analyze(source.read_window(window_query()), window_query()).to_dict()
    text = render("query", body, fmt="narrative", verbosity="standard")
    headline = text.split("\n\n")[1]
    assert f"{scale_truth['total_lines']:,} lines" in headline
    assert "Messages and causes are found in a sample of " in headline
    assert f"of the window's {scale_truth['total_lines']:,} lines; line and error counts are the whole" in headline


def test_first_errors_are_exact_where_a_forward_read_shows_them(
    source: LokiSource, scale_truth: dict[str, Any]
) -> None:
    analysis = analyze(source.read_window(window_query()), window_query())
    firsts = {a["service"]: a["first_error"] for a in analysis.summary["affected_services"]}
    for service in ("worker", "redis", "api", "browser"):
        assert firsts[service] == scale_truth["first_error"][service]


def test_a_first_error_no_recorded_read_shows_is_known_to_its_step_and_said(
    source: LokiSource, scale_truth: dict[str, Any]
) -> None:
    read = source.read_window(window_query())
    analysis = analyze(read, window_query())
    firsts = {a["service"]: a["first_error"] for a in analysis.summary["affected_services"]}
    assert firsts["anythingllm"] <= scale_truth["first_error"]["anythingllm"]
    assert any("anythingllm" in note for note in read.profile.notes)


def test_one_read_sends_a_bounded_number_of_requests(source: LokiSource, scale_loki: ReplayLoki) -> None:
    read = source.read_window(window_query())
    assert read.profile.requests <= len(scale_loki.requests) <= 25  # the service label's once
    metric = [r for r in scale_loki.requests if "step" in r.params or r.path.endswith("/query")]
    assert all("count_over_time" in r.params["query"] for r in metric)


def test_every_logql_a_window_read_sends_parses_in_grafanas_grammar(
    source: LokiSource, scale_loki: ReplayLoki
) -> None:
    from analyzer.analysis.pipeline import analyze
    from analyzer.lint.grammar import check_logql

    scale_loki.answer_metrics_by_kind()  # questions never recorded still get answers to go on
    query = window_query(mode="troubleshoot", include_context=3, correlation_id="req-1")
    analyze(source.read_window(window_query()), window_query())
    source.read_window(query)
    source.count_series(window_query(), 60)
    source.sum_series(window_query(services=["anythingllm"]), "tokens_used", "workspace_id", 300)
    sent = sorted({r.params["query"] for r in scale_loki.requests if "query" in r.params})
    assert len(sent) >= 10
    problems = [(r.expr, r.errors) for r in check_logql(sent) if not r.ok]
    assert problems == []


def test_the_size_of_the_window_is_reported_before_it_is_read(source: LokiSource) -> None:
    read = source.read_window(window_query())
    assert read.stats["index_stats"]["entries"] == 1036155  # Loki's own estimate (exact: 1,036,196)


def test_a_window_larger_than_the_configured_limit_is_refused_with_a_suggestion(
    scale_loki: ReplayLoki,
) -> None:
    from analyzer.errors import AnalyzerError

    small = LokiSource(scale_loki.url, retries=0, selector='{env="prod"}', max_query_bytes=1 << 20)
    with pytest.raises(AnalyzerError) as refused:
        small.read_window(window_query())
    assert refused.value.code == "QUERY_TOO_LARGE" and refused.value.status == 422
    assert "Narrow" in refused.value.suggestion
    assert [r.path for r in scale_loki.requests] == ["/loki/api/v1/labels", "/loki/api/v1/index/stats"]
