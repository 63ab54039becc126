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

from analyzer.analysis.profile import TimeCounts
from analyzer.model import LogRecord, Severity, TimeRange

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


def counts_on_grid(
    counts: TimeCounts, grid: Grid, keep: Callable[[str, Severity], bool] | None = None
) -> dict[tuple[str, Severity], list[int]]:
    """A window's counts (any step that divides the grid's, epoch-aligned) in the grid's
    buckets, per (service, level) that `keep` accepts."""
    out: dict[tuple[str, Severity], list[int]] = {}
    for key, row in counts.cells.items():
        if keep is not None and not keep(*key):
            continue
        target = out.get(key)
        for i, n in row.items():
            b = grid.index(counts.bucket_start(i))
            if b is None or not n:
                continue
            if target is None:
                target = out[key] = [0] * grid.count
            target[b] += n
    return out


def error_rate_from_counts(
    cells: dict[tuple[str, Severity], list[int]], grid: Grid
) -> dict[str, list[float | None]]:
    """`error_rate_by_service` from counts on the grid: the window's every line, not a sample."""
    totals: dict[str, list[int]] = {}
    errors: dict[str, list[int]] = {}
    for (service, level), row in cells.items():
        for target in [totals] + ([errors] if level >= Severity.ERROR else []):
            acc = target.setdefault(service, [0] * grid.count)
            for i, n in enumerate(row):
                acc[i] += n
    return {
        service: [
            round(e / t, 4) if t else None
            for e, t in zip(errors.get(service, [0] * grid.count), totals[service], strict=True)
        ]
        for service in sorted(totals)
    }


def sums_on_grid(rows: dict[Hashable, dict[int, float]], step_ns: int, grid: Grid) -> dict[Hashable, list[float]]:
    """Sums bucketed at `step_ns` (bucket start // step) in the grid's buckets."""
    out: dict[Hashable, list[float]] = {}
    for key, row in rows.items():
        target = out.setdefault(key, [0.0] * grid.count)
        for bucket, amount in row.items():
            b = grid.index(bucket * step_ns)
            if b is not None:
                target[b] += amount
    return out
