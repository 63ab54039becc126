"""A workspace's AI usage over a window: volume, cost, reliability and when it is busiest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from analyzer.analysis.conversations import ai_requests, usage_metrics
from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.pricing import PriceTable
from analyzer.model import NS_PER_SECOND, LogRecord, format_timestamp

HOUR_NS = 3600 * NS_PER_SECOND
ErrorPatterns = Callable[[list[LogRecord]], list[dict[str, Any]]]


def workspace_summary(
    records: Iterable[LogRecord],
    workspace_id: str,
    *,
    prices: PriceTable,
    include_costs: bool = True,
    error_patterns: ErrorPatterns | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """`error_patterns` is the pattern engine (records -> groups with count/template/sample);
    without it, error messages are grouped by their fingerprint."""
    own = sorted(
        (r for r in records if r.workspace_id == workspace_id),
        key=lambda r: (r.timestamp_ns, r.service),
    )
    requests = ai_requests(own, only_ai=False)
    metrics = usage_metrics(requests, prices)
    errors = [r for r in own if r.is_error]
    summary: dict[str, Any] = {
        "workspace_id": workspace_id,
        "found": bool(own),
        "first_activity": format_timestamp(own[0].timestamp_ns) if own else None,
        "last_activity": format_timestamp(own[-1].timestamp_ns) if own else None,
        "total_conversations": len({r.conversation_id for r in own if r.conversation_id}),
        "total_users": len({r.user_id for r in own if r.user_id}),
        "total_requests": metrics["total_requests"],
        "total_tokens": metrics["total_tokens"],
        "models_used": metrics["model_distribution"],
        "error_count": len(errors),
        "failed_requests": metrics["error_count"],
        "error_rate": metrics["error_rate"],
        "average_response_time": metrics["average_response_time"],
        "p95_response_time": metrics["p95_response_time"],
        "peak_usage_times": peak_hours([r.first_ns for r in requests], top=3),
        "top_error_patterns": _error_patterns(errors, error_patterns, top),
    }
    if errors:
        summary["first_error"] = {
            "timestamp": format_timestamp(errors[0].timestamp_ns),
            "service": errors[0].service,
            "message": errors[0].message,
        }
    if include_costs:
        summary["cost_breakdown"] = {
            "total_cost": metrics["total_cost"],
            "by_model": metrics["cost_by_model"],
            "tokens_by_model": metrics["tokens_by_model"],
            "cost_complete": metrics["cost_complete"],
            "unpriced_models": metrics["unpriced_models"],
            "prices_used": metrics["prices_used"],
        }
    return summary


def peak_hours(times_ns: Sequence[int], *, top: int = 3) -> list[dict[str, Any]]:
    """The busiest clock hours (UTC), most requests first, earlier hour on ties."""
    counts = Counter(t - t % HOUR_NS for t in times_ns)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [
        {
            "hour": format_timestamp(hour),
            "hour_end": format_timestamp(hour + HOUR_NS),
            "requests": count,
        }
        for hour, count in ranked
    ]


def _error_patterns(
    errors: list[LogRecord], engine: ErrorPatterns | None, top: int
) -> list[dict[str, Any]]:
    if not errors:
        return []
    if engine is not None:
        groups = engine(errors)
        return [
            {
                "pattern": g.get("template") or g.get("pattern"),
                "count": g["count"],
                "services": g.get("services", []),
                "sample": g.get("sample"),
                "first_seen": g.get("first_seen"),
                "last_seen": g.get("last_seen"),
            }
            for g in groups[:top]
        ]
    grouped: dict[str, list[LogRecord]] = {}
    for record in errors:
        grouped.setdefault(fingerprint(record.message), []).append(record)
    ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return [
        {
            "pattern": pattern,
            "count": len(group),
            "services": sorted({r.service for r in group}),
            "sample": group[0].message,
            "first_seen": format_timestamp(group[0].timestamp_ns),
            "last_seen": format_timestamp(group[-1].timestamp_ns),
        }
        for pattern, group in ranked
    ]
