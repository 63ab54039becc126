"""Time bucketing for Grafana panels: the panel's interval, never more than maxDataPoints."""

from __future__ import annotations

import pytest

from analyzer.analysis import series
from analyzer.model import LogRecord, Severity, TimeRange

SECOND = 1_000_000_000
HOUR = 3600 * SECOND
START = 1_700_000_000 * SECOND


def at(offset_s: float, service: str = "api", level: Severity = Severity.INFO) -> LogRecord:
    return LogRecord(START + int(offset_s * SECOND), service, level, "m")


@pytest.mark.parametrize("hours", [1, 6, 24, 24 * 7, 24 * 90])
@pytest.mark.parametrize("max_points", [1, 10, 100, 1000, 11_000])
@pytest.mark.parametrize("interval_ms", [None, 1, 1000, 15_000, 3_600_000])
def test_grid_never_holds_more_buckets_than_max_points(
    hours: int, max_points: int, interval_ms: int | None
) -> None:
    grid = series.make_grid(TimeRange(START + 7 * SECOND, START + hours * HOUR), interval_ms, max_points)
    assert 1 <= grid.count <= max_points


def test_grid_step_is_the_interval_when_it_fits() -> None:
    grid = series.make_grid(TimeRange(START, START + HOUR), 30_000, 1000)
    assert grid.step_ms == 30_000


def test_grid_widens_the_step_when_the_interval_gives_too_many_points() -> None:
    grid = series.make_grid(TimeRange(START, START + 24 * HOUR), 1000, 100)
    assert grid.step_ms > 1000 and grid.step_ms * grid.count >= 24 * 3600 * 1000


def test_grid_covers_the_whole_window_on_step_boundaries() -> None:
    window = TimeRange(START + 7 * SECOND, START + HOUR + 3 * SECOND)
    grid = series.make_grid(window, 60_000, 1000)
    assert grid.start_ms % grid.step_ms == 0
    assert grid.index(window.start_ns) == 0
    assert grid.index(window.end_ns) == grid.count - 1


def test_records_outside_the_grid_are_not_counted() -> None:
    grid = series.make_grid(TimeRange(START, START + 60 * SECOND), 10_000, 100)
    counts = series.counts_by([at(-30), at(5), at(15), at(3600)], grid, lambda r: r.service)
    assert sum(counts["api"]) == 2


def test_error_rate_is_a_share_per_bucket_and_a_gap_where_nothing_was_logged() -> None:
    grid = series.make_grid(TimeRange(START, START + 30 * SECOND - 1), 10_000, 100)
    records = [at(1), at(2, level=Severity.ERROR), at(3, level=Severity.FATAL), at(25)]
    rates = series.error_rate_by_service(records, grid)["api"]
    assert rates == [round(2 / 3, 4), None, 0.0]


def test_occurrences_keep_the_most_frequent_templates() -> None:
    grid = series.make_grid(TimeRange(START, START + 60 * SECOND), 60_000, 10)
    records = [at(i) for i in range(6)]
    templates = ["a", "a", "a", "b", "b", "c"]
    top = series.occurrences_by_template(records, templates, grid, top=2)
    assert {k: sum(v) for k, v in top.items()} == {"a": 3, "b": 2}


def test_sums_use_the_time_accessor_for_non_records() -> None:
    grid = series.make_grid(TimeRange(START, START + 20 * SECOND - 1), 10_000, 10)
    items = [(START + 1 * SECOND, "m", 5), (START + 11 * SECOND, "m", 7)]
    sums = series.sums_by(items, grid, lambda i: i[1], lambda i: i[2], at=lambda i: i[0])
    assert sums["m"] == [5.0, 7.0]
