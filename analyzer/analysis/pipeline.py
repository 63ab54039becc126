"""The one entry point from records to an answer: `analyze(records, query, window)`.

The agent API, the Grafana datasource, the alert worker and the CLI all call this, so what a
mode means is defined once, here and in `modes`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from analyzer.analysis import insights as insight_ranking
from analyzer.analysis import modes
from analyzer.analysis.catalog import Catalog
from analyzer.analysis.filters import record_filter
from analyzer.analysis.insight import Insight
from analyzer.model import LogRecord, Query, TimeRange


@dataclass(slots=True)
class Analysis:
    query: Query
    window: TimeRange
    records: list[LogRecord]  # everything read and kept by the filters, time ordered
    logs: list[dict[str, Any]]  # what the caller sees, after mode, dedupe, context, limit
    summary: dict[str, Any]
    insights: list[Insight]
    aggregations: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # mode-specific sections
    # what insights were ranked on: `records`, or every service's when expand_dependencies
    context_records: list[LogRecord] = field(default_factory=list)
    source_truncated: bool = False  # the source had more lines in the window than it returned

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "summary": self.summary,
            "logs": self.logs,
            "insights": [i.to_dict() for i in self.insights],
            "metadata": self.metadata,
        }
        if self.aggregations:
            body["aggregations"] = self.aggregations
        body.update(self.extras)
        return body


def _time(record: LogRecord) -> int:
    return record.timestamp_ns


def analyze(
    records: list[LogRecord],
    query: Query,
    window: TimeRange,
    *,
    source_metadata: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> Analysis:
    started = time.perf_counter()
    keep = record_filter(query)
    records = sorted((r for r in records if window.contains(r.timestamp_ns)), key=_time)
    in_window = [r for r in records if keep(r)]

    selection = modes.select(in_window, query)
    context = in_window
    if query.expand_dependencies and query.services:
        # the cause of a service's errors often lies in a service it calls
        keep_any_service = record_filter(query.model_copy(update={"services": []}))
        context = [r for r in records if keep_any_service(r)]
    ranked = insight_ranking.rank(context, query, window, catalog=catalog)
    analysis = Analysis(
        query=query,
        window=window,
        records=in_window,
        logs=selection.logs,
        summary=selection.summary,
        insights=ranked,
        aggregations=modes.aggregate(selection.hits, query),
        extras=selection.extras,
        context_records=context,
    )
    meta = dict(source_metadata or {})
    analysis.source_truncated = bool(meta.get("truncated"))
    meta.setdefault("malformed_lines", 0)
    meta.setdefault("truncated", False)
    meta["truncated"] = bool(meta["truncated"] or selection.truncated)
    meta.update(
        {
            "total_logs": len(in_window),
            "returned_logs": len(selection.logs),
            "services_queried": sorted({r.service for r in in_window}) or list(query.services),
            "time_range": window.to_dict(),
            "query_mode": query.mode.value,
            "analysis_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )
    analysis.metadata = meta
    return analysis
