"""The one entry point from a window's profile and evidence to an answer: `analyze(read, query)`.

The agent API, the Grafana datasource, the alert worker, the MCP server and the CLI all call
this, so what a mode means is defined once, here and in `modes`. Numbers come from the profile,
words from the evidence (see `profile` and `evidence`); `metadata.coverage` says which is which.
`analyze_records` does the same for records already in memory (a stream buffer, a test).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.analysis import insights as insight_ranking
from analyzer.analysis import modes
from analyzer.analysis.catalog import Catalog, default_catalog
from analyzer.analysis.evidence import EvidenceSample, merge
from analyzer.analysis.insight import Insight
from analyzer.analysis.profile import WindowProfile
from analyzer.analysis.window_facts import WindowFacts
from analyzer.model import LogRecord, Query, TimeRange

if TYPE_CHECKING:
    from analyzer.sources.base import WindowRead


@dataclass(slots=True)
class Analysis:
    query: Query
    window: TimeRange
    records: list[LogRecord]  # the evidence lines of the query's services, time ordered
    logs: list[dict[str, Any]]  # what the caller sees, after mode, dedupe, context, limit
    summary: dict[str, Any]
    insights: list[Insight]
    profile: WindowProfile
    aggregations: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # mode-specific sections
    # the evidence insights were ranked on: every service's when expand_dependencies
    context_records: list[LogRecord] = field(default_factory=list)

    @property
    def source_truncated(self) -> bool:
        """Whether `context_records` lack lines of the window: always, past the evidence caps."""
        return self.profile.total_lines > len(self.context_records)

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


def analyze(
    read: WindowRead,
    query: Query,
    *,
    catalog: Catalog | None = None,
    context: EvidenceSample | None = None,
    source_metadata: dict[str, Any] | None = None,
) -> Analysis:
    """`read` holds the window's profile and evidence; `context` the lines a second, narrow
    read found around anchors (failing requests, include_context)."""
    started = time.perf_counter()
    catalog = catalog or default_catalog()
    profile = read.profile
    evidence = merge(read.evidence, context) if context is not None else read.evidence
    facts = WindowFacts.build(profile, evidence.records, catalog)
    summary_services = list(query.services)
    tally = profile.extras.get("tally")
    selection = modes.select(
        facts,
        query,
        services=summary_services,
        tally=tally,
        extra_records=context.records if context is not None else None,
    )
    ranked = insight_ranking.rank(facts, query)
    own = [r for r in evidence.records if not summary_services or r.service in summary_services]
    analysis = Analysis(
        query=query,
        window=read.window,
        records=own,
        logs=selection.logs,
        summary=selection.summary,
        insights=ranked,
        profile=profile,
        aggregations=modes.aggregate(facts, selection.hits, query, services=summary_services),
        extras=selection.extras,
        context_records=evidence.records,
    )
    meta = dict(source_metadata or {})
    meta.setdefault("malformed_lines", read.malformed_lines)
    sampled_logs = selection.truncated
    meta.update(
        {
            "total_logs": selection.summary["total_records"],
            "matching_logs": selection.matched,
            "returned_logs": len(selection.logs),
            "truncated": sampled_logs,
            "services_queried": sorted(
                s for s in profile.services() if not summary_services or s in summary_services
            )
            or list(query.services),
            "time_range": read.window.to_dict(),
            "query_mode": query.mode.value,
            "coverage": {
                **profile.coverage(),
                "services_read": profile.services(),  # beyond services_queried: dependencies
                "evidence": evidence.describe(),
                "logs": (
                    f"{len(selection.logs)} of {selection.matched} matching lines: the first lines "
                    "of each error episode, examples of each message, the newest lines"
                    if sampled_logs
                    else "every matching line"
                ),
            },
            "analysis_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )
    analysis.metadata = meta
    return analysis


def analyze_records(
    records: list[LogRecord],
    query: Query,
    window: TimeRange,
    *,
    catalog: Catalog | None = None,
    source_metadata: dict[str, Any] | None = None,
) -> Analysis:
    """An analysis of records already in memory: profiled exactly, every line is evidence."""
    from analyzer.sources.memory import read_records

    read_query = query.model_copy(update={"services": []}) if query.expand_dependencies else query
    read = read_records(records, read_query, window)
    return analyze(read, query, catalog=catalog, source_metadata=source_metadata)
