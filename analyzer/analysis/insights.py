"""Ranked insights for an analysis. The pattern engine extends this list."""

from __future__ import annotations

from collections import defaultdict

from analyzer.analysis.insight import Evidence, Insight
from analyzer.analysis.normalize import fingerprint
from analyzer.model import LogRecord, Query, Severity, TimeRange


def rank(records: list[LogRecord], query: Query, window: TimeRange) -> list[Insight]:
    """Errors grouped by service, earliest first: a simple, honest first cut."""
    errors = [r for r in records if r.level >= Severity.ERROR]
    by_service: dict[str, list[LogRecord]] = defaultdict(list)
    for r in errors:
        by_service[r.service].append(r)
    out: list[Insight] = []
    for service, members in by_service.items():
        samples = list(dict.fromkeys(m.message for m in members))[:3]
        out.append(
            Insight(
                kind="error_summary",
                title=f"{len(members)} errors in {service}",
                severity=max(m.level for m in members),
                confidence=0.5,
                service=service,
                evidence=Evidence(
                    count=len(members),
                    first_seen_ns=members[0].timestamp_ns,
                    last_seen_ns=members[-1].timestamp_ns,
                    samples=samples,
                    services=[service],
                    extra={"distinct_messages": len({fingerprint(m.message) for m in members})},
                ),
                suggestion=f"Start with the first error in {service}.",
                score=len(members),
            )
        )
    out.sort(key=lambda i: (i.evidence.first_seen_ns, -i.score))
    return out
