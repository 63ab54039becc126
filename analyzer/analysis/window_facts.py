"""What every finding is computed from: the profile's exact counts joined to the evidence lines.

`WindowFacts.build` names each message group with the catalog, decides which groups are failures
(errors, and warnings the catalog names as errors: redis logs OOM as a warning), finds the
window's incidents (runs of failures separated by quiet gaps) from the exact failure counts, and
links each evidence line to its group, so a sampled line can say how many window lines it
stands for (`weight`). Pure: no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from analyzer.analysis.catalog import Catalog, CatalogPattern
from analyzer.analysis.plan import group_step
from analyzer.analysis.profile import FAILURE_LEVELS, MessageGroup, WindowProfile
from analyzer.analysis.root_cause import is_failure
from analyzer.analysis.template_tokens import masked
from analyzer.infra.privacy import mask_secrets
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, TimeRange

EPISODE_GAP_BUCKETS = 3
EPISODE_MIN_FAILURES = 5
EPISODE_LEAD_NS = 60 * NS_PER_SECOND  # a cause often logs a warning just before the failures


@dataclass(slots=True)
class NamedGroup:
    group: MessageGroup
    pattern: CatalogPattern | None
    failing: bool


@dataclass(slots=True)
class Incident:
    """A run of failures: [start_ns, end_ns] is first to last failure, to the bucket's
    resolution (refined to the line by the onsets the evidence holds)."""

    number: int
    start_ns: int
    end_ns: int
    failures: int  # failure lines in the run, exact
    by_service: dict[str, int] = field(default_factory=dict)

    @property
    def lead_in_ns(self) -> int:
        return self.start_ns - EPISODE_LEAD_NS

    def covers(self, ts_ns: int) -> bool:
        return self.lead_in_ns <= ts_ns <= self.end_ns


def episode_bucket_ns(window: TimeRange) -> int:
    """The resolution incidents are cut at: the message groups' step (`plan.group_step`)."""
    return group_step(window)


@dataclass
class WindowFacts:
    profile: WindowProfile
    records: list[LogRecord]  # the evidence, time ordered
    catalog: Catalog
    groups: list[NamedGroup]
    incidents: list[Incident]
    bucket_ns: int
    _by_key: dict[tuple[str, Severity, str], NamedGroup] = field(default_factory=dict)
    _keys: dict[int, tuple[str, Severity, str]] = field(default_factory=dict)

    @property
    def window(self) -> TimeRange:
        return self.profile.window

    @classmethod
    def build(cls, profile: WindowProfile, records: list[LogRecord], catalog: Catalog) -> WindowFacts:
        named = []
        for group in profile.groups:
            pattern = catalog.match(group.sample)
            probe = LogRecord(group.first_ns, group.service, group.level, group.sample)
            named.append(NamedGroup(group, pattern, is_failure(probe, pattern)))
        bucket = episode_bucket_ns(profile.window)
        facts = cls(profile, records, catalog, named, [], bucket)
        facts._by_key = {(g.group.service, g.group.level, g.group.key): g for g in named}
        facts.incidents = facts._find_incidents()
        return facts

    # -- groups and weights -----------------------------------------------------------------

    def group_of(self, record: LogRecord) -> NamedGroup | None:
        key = self._keys.get(id(record))
        if key is None:
            key = self._keys[id(record)] = (
                record.service, record.level, masked(mask_secrets(record.message))
            )
        return self._by_key.get(key)

    def failing_groups(self) -> list[NamedGroup]:
        return [g for g in self.groups if g.failing]

    def weights(self, scope: list[LogRecord], start_ns: int, end_ns: int) -> dict[int, float]:
        """For each line of `scope` (the evidence in [start_ns, end_ns]), the window lines it
        stands for: its group's count in the span shared by the group's lines in the scope."""
        members: dict[int, list[LogRecord]] = defaultdict(list)
        for record in scope:
            named = self.group_of(record)
            if named is not None:
                members[id(named)].append(record)
        out: dict[int, float] = {}
        for record in scope:
            named = self.group_of(record)
            if named is None:
                out[id(record)] = 1.0
                continue
            count = self.group_count(named.group, start_ns, end_ns)
            out[id(record)] = max(1.0, count / len(members[id(named)]))
        return out

    def group_count(self, group: MessageGroup, start_ns: int, end_ns: int) -> int:
        """Lines of the group in [start_ns, end_ns], exact to the group's bucket."""
        if start_ns <= group.first_ns and group.last_ns <= end_ns:
            return group.count
        step = self.profile.group_step_ns
        lo = start_ns // step
        hi = end_ns // step
        return sum(n for b, n in group.buckets.items() if lo <= b <= hi)

    # -- failures over time -------------------------------------------------------------------

    def failure_buckets(self) -> dict[str, dict[int, int]]:
        """Failure lines per service in `bucket_ns` buckets (epoch-aligned, like Loki's steps
        and the message groups' buckets): errors and
        fatals from the exact counts, plus the warning groups the catalog calls failures."""
        series = self.profile.failure_series()
        out: dict[str, dict[int, int]] = defaultdict(dict)
        for (service, _), row in series.cells.items():
            target = out[service]
            for i, n in row.items():
                b = series.bucket_start(i) // self.bucket_ns
                target[b] = target.get(b, 0) + n
        step = self.profile.group_step_ns
        for named in self.groups:
            group = named.group
            if not named.failing or group.level in FAILURE_LEVELS:
                continue
            target = out[group.service]
            for i, n in group.buckets.items():
                b = i * step // self.bucket_ns
                target[b] = target.get(b, 0) + n
        return dict(out)

    def _find_incidents(self) -> list[Incident]:
        """Runs of buckets whose failures stand above the window's own background (the median
        bucket plus four spreads, Poisson at least), joined across gaps of fewer than
        EPISODE_GAP_BUCKETS buckets. A service that fails a little all the time (a malformed
        upload now and then) is background, not a string of incidents."""
        per_service = self.failure_buckets()
        totals: dict[int, int] = defaultdict(int)
        for row in per_service.values():
            for b, n in row.items():
                if n:
                    totals[b] += n
        if not totals:
            return []
        hot = [b for b in sorted(totals) if totals[b] > self._background_limit(totals)]
        runs: list[list[int]] = []
        for b in hot:
            if runs and b - runs[-1][-1] <= EPISODE_GAP_BUCKETS and (
                b - runs[-1][-1] == 1 or self._same_failures(per_service, runs[-1], b)
            ):
                runs[-1].append(b)
            else:
                runs.append([b])
        out: list[Incident] = []
        for run in runs:
            lo, hi = run[0], run[-1]
            failures = sum(n for b, n in totals.items() if lo <= b <= hi)
            if failures < EPISODE_MIN_FAILURES:
                continue
            by_service = {
                s: sum(n for b, n in row.items() if lo <= b <= hi) for s, row in per_service.items()
            }
            out.append(
                Incident(
                    number=len(out) + 1,
                    start_ns=max(self.window.start_ns, lo * self.bucket_ns),
                    end_ns=min(self.window.end_ns, (hi + 1) * self.bucket_ns - 1),
                    failures=failures,
                    by_service={s: n for s, n in by_service.items() if n},
                )
            )
        return out

    @staticmethod
    def _same_failures(per_service: dict[str, dict[int, int]], run: list[int], b: int) -> bool:
        """Whether the failures after a lull are the run's own: one of the services that fail
        most in the run (a tenth of its failures or more) fails most in the bucket too. Two
        outages with a short quiet stretch and another service's errors between stay apart."""

        def major(lo: int, hi: int) -> set[str]:
            counts = {s: sum(n for i, n in row.items() if lo <= i <= hi) for s, row in per_service.items()}
            total = sum(counts.values())
            return {s for s, n in counts.items() if total and n >= total / 10}

        return bool(major(run[0], run[-1]) & major(b, b))

    def _background_limit(self, totals: dict[int, int]) -> float:
        buckets = self.window.end_ns // self.bucket_ns - self.window.start_ns // self.bucket_ns + 1
        return _background_limit(list(totals.values()), buckets)

    def onsets(self, start_ns: int, end_ns: int) -> dict[str, int]:
        """First failure per service in the span: the evidence's onset lines (exact), else the
        first failing group's first time when it falls in the span."""
        out: dict[str, int] = {}
        for record in self.records:
            if start_ns <= record.timestamp_ns <= end_ns:
                named = self.group_of(record)
                failing = named.failing if named else record.level >= Severity.ERROR
                if failing and record.service not in out:
                    out[record.service] = record.timestamp_ns
        for named in self.groups:
            group = named.group
            if (
                named.failing
                and start_ns <= group.first_ns <= end_ns
                and group.first_ns < out.get(group.service, end_ns + 1)
            ):
                out[group.service] = group.first_ns
        return out


def _background_limit(nonzero: list[int], buckets: int) -> float:
    """The median bucket plus four spreads (MAD, or Poisson's square root at least), over
    `buckets` buckets of which the ones not in `nonzero` are empty.

    When incidents fill most of the window the median bucket is an incident's, and so would be
    the limit: then the background is the quiet class of the buckets (`_quiet_buckets`)."""
    counts = sorted(nonzero)
    counts = [0] * max(0, buckets - len(counts)) + counts
    if not counts:
        return 1.0
    median = statistics.median(counts)
    quiet = _quiet_buckets(counts)
    if quiet is not None and median > quiet[-1]:
        counts, median = quiet, statistics.median(quiet)
    mad = statistics.median(abs(c - median) for c in counts)
    spread = max(1.4826 * mad, math.sqrt(median + 1))
    return median + 4 * spread


QUIET_RATIO = 10.0  # the busy class's median is at least this many times the quiet class's
QUIET_SHARE = 0.05  # and the quiet class holds at least this share of the buckets
QUIET_MIN_BUCKETS = 3


def _quiet_buckets(counts: list[int]) -> list[int] | None:
    """The lower of two classes of bucket counts (sorted), split where they differ most on a
    log scale (Otsu's threshold), when the split is strong: the busy buckets fail ten times as
    often as the quiet ones. None for a window with one level of failures, however high."""
    n = len(counts)
    logs = [math.log1p(c) for c in counts]
    total = sum(logs)
    best, split, low_sum = 0.0, 0, 0.0
    for k in range(1, n):
        low_sum += logs[k - 1]
        if counts[k] == counts[k - 1]:
            continue
        low_mean, high_mean = low_sum / k, (total - low_sum) / (n - k)
        between = k * (n - k) * (high_mean - low_mean) ** 2
        if between > best:
            best, split = between, k
    if split < max(QUIET_MIN_BUCKETS, QUIET_SHARE * n):
        return None
    quiet, busy = counts[:split], counts[split:]
    if statistics.median(busy) < QUIET_RATIO * (statistics.median(quiet) + 1):
        return None
    return quiet
