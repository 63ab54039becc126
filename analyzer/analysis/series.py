"""Records -> counts and sums over a time grid: what Grafana time-series panels draw.

The grid honours the panel's interval but never holds more buckets than `maxDataPoints`, so a
7-day range in a 300-pixel panel costs the browser 300 points, not 600 000. Buckets are aligned
to multiples of the step (as Prometheus aligns `step`), so two refreshes of a moving window put
the same records into the same buckets and a line does not wobble between refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from analyzer.model import LogRecord, TimeRange

T = TypeVar("T")
NS_PER_MS = 1_000_000
DEFAULT_MAX_POINTS = 1000
_NICE_STEPS_MS = (
    1, 2, 5, 10, 20, 50, 100, 200, 500,
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
    60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
    3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Grid:
    """`count` buckets of `step_ms`, the first starting at `start_ms` (epoch milliseconds)."""

    start_ms: int
    step_ms: int
    count: int

    @property
    def times_ms(self) -> list[int]:
        return [self.start_ms + i * self.step_ms for i in range(self.count)]

    def index(self, timestamp_ns: int) -> int | None:
        """Bucket of a timestamp, or None when it falls outside the grid."""
        offset = timestamp_ns // NS_PER_MS - self.start_ms
        if offset < 0:
            return None
        i = offset // self.step_ms
        return i if i < self.count else None


def _nice_step(minimum_ms: int) -> int:
    """The smallest round step at or above `minimum_ms` (1s, 15s, 1m, 5m, 1h, ... then days)."""
    for step in _NICE_STEPS_MS:
        if step >= minimum_ms:
            return step
    day = _NICE_STEPS_MS[-1]
    return -(-minimum_ms // day) * day


def make_grid(
    window: TimeRange, interval_ms: int | None = None, max_points: int | None = None
) -> Grid:
    """Buckets covering `window`: `interval_ms` wide unless that would exceed `max_points`."""
    limit = max(1, max_points or DEFAULT_MAX_POINTS)
    start_ms = window.start_ns // NS_PER_MS
    end_ms = window.end_ns // NS_PER_MS
    span_ms = max(1, end_ms - start_ms)
    wanted = max(1, int(interval_ms or 0), -(-span_ms // limit))
    step = _nice_step(wanted) if wanted != interval_ms else wanted
    while True:
        first = start_ms - start_ms % step
        count = (end_ms - first) // step + 1
        if count <= limit:
            return Grid(first, step, count)
        # alignment added a bucket at each edge; widen to the next round step
        step = _nice_step(step + 1)


def _timestamp(item: Any) -> int:
    return item.timestamp_ns


def counts_by(
    items: Iterable[T],
    grid: Grid,
    key: Callable[[T], Hashable | None],
    *,
    at: Callable[[T], int] = _timestamp,
) -> dict[Hashable, list[int]]:
    """Items per bucket for each key; an item whose key is None is left out.

    Items are records by default; `at` gives the time of anything else (an AI request's start).
    """
    out: dict[Hashable, list[int]] = {}
    for item in items:
        name = key(item)
        i = grid.index(at(item))
        if name is None or i is None:
            continue
        row = out.get(name)
        if row is None:
            row = out[name] = [0] * grid.count
        row[i] += 1
    return out


def sums_by(
    items: Iterable[T],
    grid: Grid,
    key: Callable[[T], Hashable | None],
    value: Callable[[T], float | None],
    *,
    at: Callable[[T], int] = _timestamp,
) -> dict[Hashable, list[float]]:
    """Sum of `value` per bucket for each key; items without a value are left out."""
    out: dict[Hashable, list[float]] = {}
    for item in items:
        amount = value(item)
        name = key(item)
        i = grid.index(at(item))
        if amount is None or name is None or i is None:
            continue
        row = out.get(name)
        if row is None:
            row = out[name] = [0.0] * grid.count
        row[i] += amount
    return out


def error_rate_by_service(records: list[LogRecord], grid: Grid) -> dict[str, list[float | None]]:
    """Share of error-or-worse records per bucket and service.

    A bucket where the service logged nothing is None (a gap), not 0: silence is not health.
    """
    totals = counts_by(records, grid, lambda r: r.service)
    errors = counts_by(records, grid, lambda r: r.service if r.is_error else None)
    out: dict[str, list[float | None]] = {}
    for service in sorted(totals, key=str):
        bad = errors.get(service, [0] * grid.count)
        out[str(service)] = [
            round(e / t, 4) if t else None for e, t in zip(bad, totals[service], strict=True)
        ]
    return out


def top_keys(series: dict[Hashable, list[float]] | dict[Hashable, list[int]], n: int) -> list:
    """The `n` keys with the largest totals, largest first (ties by key)."""
    return sorted(series, key=lambda k: (-sum(series[k]), str(k)))[:n]


def occurrences_by_template(
    records: list[LogRecord], templates: list[str], grid: Grid, top: int = 10
) -> dict[str, list[int]]:
    """Occurrences per bucket of the `top` most frequent templates.

    `templates[i]` is the template of `records[i]` (from `templates.mine`), so mining stays
    outside this module and the bucketing stays pure arithmetic.
    """
    if len(templates) != len(records):
        raise ValueError("one template per record is needed")
    template_of = {id(r): t for r, t in zip(records, templates, strict=True)}
    counts = counts_by(records, grid, lambda r: template_of[id(r)])
    return {str(k): counts[k] for k in top_keys(counts, top)}
