"""Bursts: when a template's or a service's rate jumps above its own recent past.

The baseline is the median of the buckets before each point and the spread its MAD, so one
earlier spike does not hide the next and a service that always logs a lot is not a burst.
A key never seen before the jump has a zero baseline and bursts once it passes `min_count`.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from analyzer.model import NS_PER_SECOND, LogRecord, TimeRange

MIN_BUCKET_SECONDS = 10
TARGET_BUCKETS = 60
MIN_HISTORY = 3  # buckets seen before a change can be called one
MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data


@dataclass(slots=True)
class Burst:
    key: str
    dimension: str  # "service" or "template"
    start_ns: int  # start of the first bucket above the baseline
    end_ns: int
    count: int  # records from the start on
    peak: int  # most records in one bucket
    baseline: float  # median records per bucket before the start
    bucket_seconds: int
    services: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.peak / max(self.baseline, 1.0)


def bucket_seconds(window: TimeRange) -> int:
    return max(MIN_BUCKET_SECONDS, math.ceil(window.seconds / TARGET_BUCKETS))


def detect_bursts(
    records: list[LogRecord],
    window: TimeRange,
    key: Callable[[LogRecord], str | None],
    *,
    dimension: str,
    min_count: int = 5,
    threshold_mads: float = 4.0,
) -> list[Burst]:
    """One burst per key at most (its first change point), strongest first."""
    step = bucket_seconds(window)
    step_ns = step * NS_PER_SECOND
    n = max(1, math.ceil((window.end_ns - window.start_ns) / step_ns))
    series: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    members: dict[str, list[LogRecord]] = defaultdict(list)
    for r in records:
        k = key(r)
        if k is None:
            continue
        i = min(n - 1, max(0, (r.timestamp_ns - window.start_ns) // step_ns))
        series[k][i] += 1
        members[k].append(r)
    out = []
    for k, counts in series.items():
        if sum(counts) < min_count:
            continue
        start = _change_point(counts, min_count, threshold_mads)
        if start is None:
            continue
        history = counts[:start]
        baseline = statistics.median(history) if history else 0.0
        start_ns = window.start_ns + start * step_ns
        after = [r for r in members[k] if r.timestamp_ns >= start_ns]
        out.append(
            Burst(
                key=k,
                dimension=dimension,
                start_ns=start_ns,
                end_ns=after[-1].timestamp_ns if after else start_ns,
                count=len(after),
                peak=max(counts[start:]),
                baseline=float(baseline),
                bucket_seconds=step,
                services=sorted({r.service for r in after}),
                samples=list(dict.fromkeys(r.message for r in after))[:3],
            )
        )
    out.sort(key=lambda b: (-b.ratio, -b.count, b.start_ns))
    return out


def _change_point(counts: list[int], min_count: int, threshold_mads: float) -> int | None:
    """First bucket clearly above the median of the buckets before it, with enough after it."""
    for i, c in enumerate(counts):
        if c == 0 or i < MIN_HISTORY:
            continue
        history = counts[:i]
        median = statistics.median(history) if history else 0.0
        mad = statistics.median(abs(h - median) for h in history) if history else 0.0
        # Poisson floor: with a flat history the MAD is 0, and noise is still about sqrt(rate)
        spread = max(MAD_SCALE * mad, math.sqrt(median + 1))
        if c > median + threshold_mads * spread and sum(counts[i : i + 3]) >= min_count:
            return i
    return None


def bursts_in_series(
    series: dict[str, dict[int, int]],
    buckets: int,
    step_ns: int,
    origin_ns: int,
    *,
    dimension: str,
    min_count: int = 5,
    threshold_mads: float = 4.0,
) -> list[Burst]:
    """`detect_bursts` over counts already bucketed (bucket i starts at origin + i*step): the
    window's exact counts from a profile. Samples and services are the caller's to add."""
    out = []
    step = max(1, step_ns // NS_PER_SECOND)
    for key, row in series.items():
        counts = [0] * buckets
        for i, n in row.items():
            if 0 <= i < buckets:
                counts[i] += n
        if sum(counts) < min_count:
            continue
        start = _change_point(counts, min_count, threshold_mads)
        if start is None:
            continue
        history = counts[:start]
        after = counts[start:]
        last = max((i for i, c in enumerate(after) if c), default=0)
        out.append(
            Burst(
                key=key,
                dimension=dimension,
                start_ns=origin_ns + start * step_ns,
                end_ns=origin_ns + (start + last + 1) * step_ns,
                count=sum(after),
                peak=max(after),
                baseline=float(statistics.median(history)) if history else 0.0,
                bucket_seconds=step,
            )
        )
    out.sort(key=lambda b: (-b.ratio, -b.count, b.start_ns))
    return out
