"""Records already in memory (a stream buffer, a test's fixture) answered like a window read.

The same `WindowReader` the file source uses profiles them exactly; when they are few enough,
every one of them is evidence too, so nothing is sampled that did not need to be.
"""

from __future__ import annotations

from analyzer.analysis import evidence as why
from analyzer.analysis.evidence import EvidenceBuilder
from analyzer.analysis.plan import MAX_EVIDENCE_LINES, ReadPlan
from analyzer.model import LogRecord, Query, TimeRange
from analyzer.sources.base import WindowRead
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
