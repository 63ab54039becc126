"""Paging past Loki's per-request limit over recorded entries the server slices by window."""

from __future__ import annotations

from typing import Any

from analyzer.model import Query
from analyzer.sources.loki import LokiSource

PAGED = "query_range_streams_forward_paged"  # 10 entries grouped into 7 streams
CATEGORIZED = "loki_query_after_promtail_push"  # 4 entries in 3 streams, categorize-labels


def recorded_entries(recorded_loki: Any, name: str) -> list[tuple[int, str]]:
    result = recorded_loki.exchange(name)["body"]["data"]["result"]
    return sorted((int(v[0]), v[1]) for stream in result for v in stream["values"])


def serve_pages(recorded_loki: Any, name: str) -> tuple[int, int]:
    recorded_loki.pages_from = recorded_loki.exchange(name)
    params = recorded_loki.exchange(name)["request"]["params"]
    return int(params["start"]), int(params["end"])


def query_range_requests(recorded_loki: Any) -> list[Any]:
    return recorded_loki.requests_to("/loki/api/v1/query_range")


def test_backward_paging_reads_every_entry_once(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        page = loki.read_logs('{service="worker"}', start, end, limit=100)
    got = [(e.timestamp_ns, e.line) for e in page.entries]
    assert sorted(got) == recorded_entries(recorded_loki, PAGED)
    assert len(set(got)) == len(got)
    assert page.truncated is False


def test_backward_paging_returns_newest_first(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        page = loki.read_logs('{service="worker"}', start, end, limit=100)
    stamps = [e.timestamp_ns for e in page.entries]
    assert stamps == sorted(stamps, reverse=True)


def test_each_page_asks_at_most_the_page_size(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        loki.read_logs('{service="worker"}', start, end, limit=100)
    requests = query_range_requests(recorded_loki)
    assert len(requests) > 1
    assert all(int(r.params["limit"]) <= 3 for r in requests)


def test_the_next_backward_page_ends_just_after_the_oldest_entry_seen(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        loki.read_logs('{service="worker"}', start, end, limit=100)
    first, second = query_range_requests(recorded_loki)[:2]
    newest_three = [ts for ts, _ in recorded_entries(recorded_loki, PAGED)][-3:]
    assert int(first.params["end"]) == end
    # end is exclusive: +1 ns re-reads the boundary entry, which is then dropped as a duplicate
    assert int(second.params["end"]) == newest_three[0] + 1


def test_forward_paging_reads_every_entry_oldest_first(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=4) as loki:
        page = loki.read_logs('{service="worker"}', start, end, limit=100, direction="forward")
    got = [(e.timestamp_ns, e.line) for e in page.entries]
    assert got == recorded_entries(recorded_loki, PAGED)
    assert all(r.params["direction"] == "forward" for r in query_range_requests(recorded_loki))


def test_a_limit_below_the_matches_keeps_the_newest_and_marks_truncated(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        page = loki.read_logs('{service="worker"}', start, end, limit=4)
    assert page.truncated is True
    newest = recorded_entries(recorded_loki, PAGED)[-4:]
    assert sorted((e.timestamp_ns, e.line) for e in page.entries) == newest


def test_a_limit_equal_to_the_matches_is_not_truncated(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    total = len(recorded_entries(recorded_loki, PAGED))
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        page = loki.read_logs('{service="worker"}', start, end, limit=total)
    assert len(page.entries) == total
    assert page.truncated is False


def test_categorized_pages_keep_structured_metadata_per_entry(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, CATEGORIZED)
    with LokiSource(recorded_loki.url, page_size=2) as loki:
        page = loki.read_logs('{job="llm-services"}', start, end, limit=100)
    assert len(page.entries) == len(recorded_entries(recorded_loki, CATEGORIZED))
    assert all(e.metadata["trace_id"] and "trace_id" not in e.labels for e in page.entries)


def test_fetch_pages_and_sets_truncated_when_more_matched(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    query = Query(services=["worker"], start=str(start), end=str(end))
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        result = loki.fetch(query, limit=5)
    assert len(result.records) == 5 and result.truncated is True
    assert result.stats["pages"] == len(query_range_requests(recorded_loki))
    stamps = [r.timestamp_ns for r in result.records]
    assert stamps == sorted(stamps)


def test_fetch_without_a_limit_stops_at_max_entries(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    query = Query(services=["worker"], start=str(start), end=str(end))
    with LokiSource(recorded_loki.url, page_size=3, max_entries=6) as loki:
        result = loki.fetch(query)
    assert len(result.records) == 6 and result.truncated is True


def test_a_long_read_reports_the_share_of_the_window_covered(recorded_loki) -> None:
    start, end = serve_pages(recorded_loki, PAGED)
    calls: list[tuple[int, int, str]] = []
    with LokiSource(recorded_loki.url, page_size=3) as loki:
        loki.progress = lambda done, total, label: calls.append((done, total, label))
        loki.fetch(Query(services=["worker"], start=str(start), end=str(end)))
    assert len(calls) == len(query_range_requests(recorded_loki)) - 1  # the last page is short
    assert {total for _, total, _ in calls} == {end - start}
    covered = [done for done, _, _ in calls]
    assert covered == sorted(covered) and 0 < covered[-1] <= end - start
    assert {label for _, _, label in calls} == {"reading Loki"}
