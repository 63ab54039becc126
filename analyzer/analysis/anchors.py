"""Where a second, narrow read should look once the profile and first evidence are known.

Two kinds of anchor: the requests that failed first in each error episode (their lines in every
service show who called whom, which the root cause needs), and the lines a caller asked context
for (`include_context`, `context_window`). Each becomes a short time span, with the request ids
to keep where there are some; spans that touch are merged. Pure: the source does the reading.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from analyzer.analysis import evidence as why
from analyzer.analysis.evidence import EvidenceSample
from analyzer.analysis.plan import REQUEST_ANCHORS
from analyzer.model import NS_PER_SECOND, Mode, Query, Severity

REQUEST_SPAN_NS = 30 * NS_PER_SECOND  # a request's lines lie within this of its failure
CONTEXT_SPAN_NS = 5 * NS_PER_SECOND  # around a line asked context for, without context_window
MAX_CONTEXT_ANCHORS = 200


@dataclass(slots=True)
class Anchors:
    request_spans: list[tuple[int, int]] = field(default_factory=list)
    correlation_ids: set[str] = field(default_factory=set)
    context_spans: list[tuple[int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.request_spans or self.context_spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def choose(evidence: EvidenceSample, query: Query) -> Anchors:
    anchors = Anchors()
    per_service: dict[str, int] = defaultdict(int)
    for record, reasons in zip(evidence.records, evidence.reasons, strict=True):
        if why.ONSET not in reasons or record.level < Severity.ERROR or not record.correlation_id:
            continue
        if per_service[record.service] >= REQUEST_ANCHORS:
            continue
        per_service[record.service] += 1
        anchors.correlation_ids.add(record.correlation_id)
        ts = record.timestamp_ns
        anchors.request_spans.append((ts - REQUEST_SPAN_NS, ts + REQUEST_SPAN_NS))
    anchors.request_spans = merge_spans(anchors.request_spans)
    if query.mode is not Mode.PERFORMANCE and (query.include_context or query.context_window):
        floor = query.severity_threshold or (
            Severity.ERROR if query.mode is Mode.ERRORS else Severity.WARN
        )
        width = CONTEXT_SPAN_NS
        if query.context_window:
            from analyzer.model import parse_duration

            width = parse_duration(query.context_window) * NS_PER_SECOND
        hits = [r for r in evidence.records if r.level >= floor][-MAX_CONTEXT_ANCHORS:]
        anchors.context_spans = merge_spans(
            [(r.timestamp_ns - width, r.timestamp_ns + width) for r in hits]
        )
    return anchors
