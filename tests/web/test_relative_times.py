"""Grafana's relative times (`now-1h`, `now-2d/d`) and Go durations (`1h30m`), as people coming
from Grafana and logcli write them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from analyzer.model import (
    Query,
    format_timestamp,
    instant_ns,
    parse_go_duration,
    parse_grafana_time,
    relative_lookback,
)

NOW = instant_ns("2026-03-04T10:20:30Z")  # a Wednesday


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h30m", 5400), ("90s", 90), ("1.5h", 5400), ("250ms", 0.25), ("2h45m30s", 9930),
     ("0", 0), ("7d", 604800)],
)  # fmt: skip
def test_go_durations_are_read_as_logcli_reads_them(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "1h 30m", "-1h", "h", "1x", "1h30"])
def test_what_go_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must look like 1h30m"):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("now", "2026-03-04T10:20:30", "2026-03-04T10:20:30"),
     ("now-1h", "2026-03-04T09:20:30", "2026-03-04T09:20:30"),
     ("now-2d/d", "2026-03-02T00:00:00", "2026-03-02T23:59:59.999999"),
     ("now/d", "2026-03-04T00:00:00", "2026-03-04T23:59:59.999999"),
     ("now/w", "2026-03-02T00:00:00", "2026-03-08T23:59:59.999999"),
     ("now-1M", "2026-02-04T10:20:30", "2026-02-04T10:20:30"),
     ("now-1y/y", "2025-01-01T00:00:00", "2025-12-31T23:59:59.999999"),
     ("now-1h+30m", "2026-03-04T09:50:30", "2026-03-04T09:50:30")],
)  # fmt: skip
def test_grafana_relative_times_round_down_as_a_start_and_up_as_an_end(
    text: str, start: str, end: str
) -> None:
    assert format_timestamp(parse_grafana_time(text, NOW)) == instant_ns_text(start)
    assert format_timestamp(parse_grafana_time(text, NOW, round_up=True)) == instant_ns_text(end)


def instant_ns_text(naive: str) -> str:
    return format_timestamp(instant_ns(naive + "Z"))


def test_a_plain_lookback_keeps_moving_with_the_clock() -> None:
    assert relative_lookback("now-90m") == 5400
    assert relative_lookback("now-2d/d") is None and relative_lookback("now-1M") is None


def test_query_start_now_minus_a_duration_is_a_relative_window() -> None:
    query = Query(start="now-90m", end="now")
    assert (query.time_range, query.start, query.end) == ("5400s", None, None)
    assert query.is_relative


def test_query_with_rounded_relative_times_resolves_them() -> None:
    query = Query(start="now-2d/d", end="now-1d/d")
    window = query.window()
    assert format_timestamp(window.start_ns).endswith("T00:00:00.000000Z")
    assert format_timestamp(window.end_ns).endswith("T23:59:59.999999Z")
    assert (window.end_ns - window.start_ns) // 10**9 == 2 * 86400 - 1


def test_the_api_accepts_relative_start_and_end(client: FlaskClient) -> None:
    relative = client.get("/api/v1/ai_logs/query", query_string={"start": "now-2h", "end": "now"})
    fixed = client.get("/api/v1/ai_logs/query", query_string={"time_range": "2h"})
    assert relative.status_code == 200
    assert relative.get_json()["metadata"]["time_range"] == fixed.get_json()["metadata"]["time_range"]


def test_a_relative_time_that_does_not_parse_is_a_400(client: FlaskClient) -> None:
    response = client.get("/api/v1/ai_logs/query", query_string={"start": "now-2 hours"})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["parameter"] == "start"
