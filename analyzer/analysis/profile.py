"""The window profile: exact numbers for a whole window, computed where the logs live.

A real window holds millions of lines, so an answer is built in two parts that analysis keeps
apart (see `evidence` for the other):

- the **profile** (this module): lines per service and level over time, each (service, level)'s
  first and last line, the warning and error messages grouped by their masked text with exact
  counts, sums (tokens per model, ...) and label values. Files compute it in one streaming pass;
  Loki computes it with metric queries its query frontend splits and shards.
- the **evidence**: a bounded set of real lines chosen for the question (the first lines of each
  error episode per service, a few lines per message group, lines around anchors, recent lines).

Every number a user reads comes from here; the evidence only gives examples and feeds template
mining. `exact` flags and `notes` say what is not exact and why (a Loki answer at a 10 s step,
groups counted from a sample), so answers can say plainly what they cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import NS_PER_SECOND, LogRecord, Severity, TimeRange

SeriesKey = tuple[str, Severity]  # (service, level)
FAILURE_LEVELS = (Severity.ERROR, Severity.FATAL)
NOISY_LEVELS = (Severity.WARN, Severity.ERROR, Severity.FATAL)


@dataclass(slots=True)
class TimeCounts:
    """Lines per (service, level) in buckets of `step_ns`; bucket i is
    [origin_ns + i*step_ns, origin_ns + (i+1)*step_ns). Absent buckets hold no lines."""

    step_ns: int
    origin_ns: int
    cells: dict[SeriesKey, dict[int, int]] = field(default_factory=dict)

    def add(self, service: str, level: Severity, ts_ns: int, count: int = 1) -> None:
        row = self.cells.get((service, level))
        if row is None:
            row = self.cells[(service, level)] = {}
        i = (ts_ns - self.origin_ns) // self.step_ns
        row[i] = row.get(i, 0) + count

    def bucket_start(self, index: int) -> int:
        return self.origin_ns + index * self.step_ns

    def services(self) -> list[str]:
        return sorted({s for s, _ in self.cells})

    def by_service(self, levels: Iterable[Severity] | None = None) -> dict[str, dict[int, int]]:
        """Buckets per service, summed over `levels` (all levels when None)."""
        wanted = set(levels) if levels is not None else None
        out: dict[str, dict[int, int]] = defaultdict(dict)
        for (service, level), row in self.cells.items():
            if wanted is not None and level not in wanted:
                continue
            target = out[service]
            for i, n in row.items():
                target[i] = target.get(i, 0) + n
        return dict(out)

    def rebucket(self, step_ns: int, origin_ns: int | None = None) -> TimeCounts:
        """The same counts in coarser buckets (a multiple of this step gives exact counts)."""
        origin = self.origin_ns if origin_ns is None else origin_ns
        out = TimeCounts(step_ns, origin)
        for key, row in self.cells.items():
            target: dict[int, int] = {}
            for i, n in row.items():
                j = (self.origin_ns + i * self.step_ns - origin) // step_ns
                target[j] = target.get(j, 0) + n
            out.cells[key] = target
        return out

    def total(self, levels: Iterable[Severity] | None = None) -> int:
        wanted = set(levels) if levels is not None else None
        return sum(
            sum(row.values())
            for (_, level), row in self.cells.items()
            if wanted is None or level in wanted
        )


@dataclass(slots=True)
class MessageGroup:
    """Warning or error lines of one service with the same masked text (numbers and ids as
    `<*>`), counted over the whole window. `examples` are real lines: the first few and the last."""

    service: str
    level: Severity
    key: str  # the masked message
    count: int
    first_ns: int
    last_ns: int
    examples: list[LogRecord] = field(default_factory=list)
    buckets: dict[int, int] = field(default_factory=dict)  # ts // `WindowProfile.group_step_ns`
    exact: bool = True  # False: the count is estimated from a sample

    @property
    def sample(self) -> str:
        return self.examples[0].message if self.examples else self.key


@dataclass(slots=True)
class Onset:
    """The first failure of a service in one episode, to the nanosecond when a line shows it."""

    service: str
    ts_ns: int
    exact: bool  # False: known only to the resolution of a series bucket
    record: LogRecord | None = None


@dataclass(slots=True)
class WindowProfile:
    """Exact figures for the window; see the module docstring."""

    window: TimeRange
    counts: TimeCounts  # every level; files: 1 s buckets, Loki: the plan's coarse step
    totals: dict[SeriesKey, int] = field(default_factory=dict)  # exact over the window
    first_ns: dict[SeriesKey, int] = field(default_factory=dict)  # first line per key
    last_ns: dict[SeriesKey, int] = field(default_factory=dict)
    # failures per service at a finer step than `counts` when the source has one (Loki)
    failure_counts: TimeCounts | None = None
    # warn+error per service at 1 s around episode starts (Loki), for the order of onsets
    onset_counts: list[TimeCounts] = field(default_factory=list)
    groups: list[MessageGroup] = field(default_factory=list)
    groups_complete: bool = True  # every warning and error line is in a group, counted exactly
    group_step_ns: int = 60 * NS_PER_SECOND
    sums: dict[str, dict[str, float]] = field(default_factory=dict)  # "tokens_used by model"
    label_values: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""  # how the numbers were computed, for metadata
    service_label: str = "service"  # the label naming services where the logs live (LogQL)
    lines_read: int = 0  # lines the source parsed or fetched to build profile and evidence
    requests: int = 0  # requests sent to the source (Loki)
    queries: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is not exact, and why
    exact: bool = True  # totals are the window's exact counts
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. the mode's tally

    # -- totals ---------------------------------------------------------------------------

    @property
    def total_lines(self) -> int:
        return sum(self.totals.values())

    def count(self, levels: Iterable[Severity] | None = None, service: str | None = None) -> int:
        wanted = set(levels) if levels is not None else None
        return sum(
            n
            for (s, level), n in self.totals.items()
            if (wanted is None or level in wanted) and (service is None or s == service)
        )

    def by_service(self, levels: Iterable[Severity] | None = None) -> dict[str, int]:
        wanted = set(levels) if levels is not None else None
        out: dict[str, int] = defaultdict(int)
        for (s, level), n in self.totals.items():
            if wanted is None or level in wanted:
                out[s] += n
        return {s: n for s, n in out.items() if n}

    def by_level(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (_, level), n in self.totals.items():
            out[level.label] += n
        return {k: v for k, v in sorted(out.items()) if v}

    def services(self) -> list[str]:
        return sorted({s for (s, _), n in self.totals.items() if n})

    def first(self, levels: Iterable[Severity], service: str | None = None) -> int | None:
        found = [
            ts
            for (s, level), ts in self.first_ns.items()
            if level in set(levels) and (service is None or s == service)
        ]
        return min(found) if found else None

    def last(self, levels: Iterable[Severity], service: str | None = None) -> int | None:
        found = [
            ts
            for (s, level), ts in self.last_ns.items()
            if level in set(levels) and (service is None or s == service)
        ]
        return max(found) if found else None

    def failure_series(self) -> TimeCounts:
        """Error and fatal lines per service at the finest step the profile has."""
        source = self.failure_counts or self.counts
        out = TimeCounts(source.step_ns, source.origin_ns)
        for (service, level), row in source.cells.items():
            if level in FAILURE_LEVELS:
                target = out.cells.setdefault((service, Severity.ERROR), {})
                for i, n in row.items():
                    target[i] = target.get(i, 0) + n
        return out

    def iter_groups(self, levels: Iterable[Severity] = NOISY_LEVELS) -> Iterator[MessageGroup]:
        wanted = set(levels)
        return (g for g in self.groups if g.level in wanted)

    def coverage(self) -> dict[str, Any]:
        return {
            "numbers": "exact" if self.exact else "estimated",
            "computed_by": self.source,
            "lines_in_window": self.total_lines,
            "lines_read": self.lines_read,
            "message_groups": "exact" if self.groups_complete else "estimated from a sample",
            **({"source_requests": self.requests} if self.requests else {}),
            **({"notes": list(self.notes)} if self.notes else {}),
        }
