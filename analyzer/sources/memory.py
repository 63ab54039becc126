"""Records already in memory (a stream buffer, a test's fixture) answered like a window read.

The same `WindowReader` the file source uses profiles them exactly; when they are few enough,
every one of them is evidence too, so nothing is sampled that did not need to be.
"""

from __future__ import annotations

from typing import Any

from analyzer.analysis import evidence as why
from analyzer.analysis.evidence import EvidenceBuilder, EvidenceSample
from analyzer.analysis.plan import MAX_EVIDENCE_LINES, ReadPlan
from analyzer.analysis.profile import TimeCounts
from analyzer.model import NS_PER_SECOND, LogRecord, Query, TimeRange
from analyzer.model import now_ns as wall_clock_ns
from analyzer.sources.base import FetchResult, WindowRead
from analyzer.sources.file_profile import WindowReader
from analyzer.sources.file_scan import Block, Entry, FileNames

_NAMES = FileNames("memory", "memory")


def read_records(records: list[LogRecord], query: Query, window: TimeRange) -> WindowRead:
    plan = ReadPlan.for_query(query, window)
    reader = WindowReader(plan)
    entries: list[Entry] = [
        (0, 0, r.timestamp_ns, r.service, r.level, r, b"") for r in records
    ]
    reader.read([Block(0, 0, 1, entries, records=len(entries))], _NAMES, 0)
    profile, sample = reader.finish(source="records in memory")
    keeps = plan.record_filter()
    kept = [r for r in records if window.contains(r.timestamp_ns) and keeps(r)]
    if len(kept) <= MAX_EVIDENCE_LINES:
        builder = EvidenceBuilder()
        for record, reasons in zip(sample.records, sample.reasons, strict=True):
            for reason in reasons:
                builder.add(record, reason)
        builder.extend(kept, why.MATCH)
        sample = builder.build(sample.limits)
    return WindowRead(plan=plan, profile=profile, evidence=sample)


class MemorySource:
    """Records held in memory behind the `LogSource` seam (a replayed buffer, tests): every
    read is exact, as the file source's, and nothing is sampled that did not need to be."""

    name = "memory"

    def __init__(self, records: list[LogRecord]) -> None:
        self.records = sorted(records, key=lambda r: r.timestamp_ns)

    def _window(self, query: Query) -> TimeRange:
        return query.window(now=self.now_ns())

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult:
        window = self._window(query)
        keep = ReadPlan.for_query(query, window).record_filter()
        found = [r for r in self.records if window.contains(r.timestamp_ns) and keep(r)]
        truncated = limit is not None and len(found) > limit
        return FetchResult(records=found[-limit:] if truncated else found, window=window,
                           truncated=truncated)  # fmt: skip

    def read_window(self, query: Query, *, tenant: str | None = None) -> WindowRead:
        return read_records(self.records, query, self._window(query))

    def read_around(
        self,
        plan: ReadPlan,
        anchors: list[tuple[int, int]],
        *,
        ids: dict[str, set[str]] | None = None,
        limit: int = 5000,
        tenant: str | None = None,
    ) -> EvidenceSample:
        keep = plan.record_filter()
        wanted = {k: v for k, v in (ids or {}).items() if v}
        builder = EvidenceBuilder()
        for start, end in anchors:
            for r in self.records:
                if start <= r.timestamp_ns <= end and keep(r) and (
                    not wanted or any(getattr(r, k) in v for k, v in wanted.items())
                ):
                    builder.add(r, why.REQUEST if wanted else why.CONTEXT)
                if len(builder) >= limit:
                    return builder.build()
        return builder.build()

    def count_series(self, query: Query, step_s: int, *, tenant: str | None = None) -> TimeCounts:
        return self.read_window(query).profile.counts

    def sum_series(
        self, query: Query, field: str, by: str, step_s: int, *, tenant: str | None = None
    ) -> dict[tuple[str, str], dict[int, float]]:
        step_ns = max(1, step_s) * NS_PER_SECOND
        out: dict[tuple[str, str], dict[int, float]] = {}
        for r in self.fetch(query).records:
            value = getattr(r, field, None)
            if value is None:
                value = r.fields.get(field)
            try:
                amount = float(value) if value is not None else None
            except (TypeError, ValueError):
                amount = None
            if amount is None:
                continue
            key = (str(getattr(r, by, None) or r.fields.get(by) or "unknown"), r.model or "unknown")
            row = out.setdefault(key, {})
            bucket = r.timestamp_ns // step_ns
            row[bucket] = row.get(bucket, 0.0) + amount
        return out

    def services(self, *, tenant: str | None = None) -> list[str]:
        return sorted({r.service for r in self.records})

    def label_values(self, label: str, *, tenant: str | None = None) -> list[str]:
        return sorted({r.labels[label] for r in self.records if label in r.labels})

    def now_ns(self) -> int:
        return self.records[-1].timestamp_ns if self.records else wall_clock_ns()

    def check(self) -> dict[str, Any]:
        return {"ok": True, "detail": f"{len(self.records)} records in memory"}
