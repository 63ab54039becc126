"""What each query mode selects and summarises.

- troubleshoot: warnings and errors, with context lines around them; summary says where errors
  started, which services are affected and the most frequent error messages.
- errors: only error and fatal records; summary groups them by service and error type.
- performance: records that carry a duration, slowest first; summary gives p50/p95/p99 by
  service and request type and the slowest operations.
- audit: authentication, authorisation and administrative events (logins, key and permission
  changes, admin actions); summary counts them by actor, action and outcome.
- conversation: records with a conversation_id, grouped by conversation; summary lists each
  conversation's turns, tokens, errors and time span.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.statistics import percentile
from analyzer.model import (
    NS_PER_SECOND,
    Aggregation,
    LogRecord,
    Mode,
    Query,
    Severity,
    Verbosity,
    format_timestamp,
    parse_duration,
)

AUDIT_PATTERN = re.compile(
    r"\b(log(?:ged)?[ _-]?in|log(?:ged)?[ _-]?out|sign(?:ed)?[ _-]?(?:in|out)|auth\w*|"
    r"permission|forbidden|unauthori[sz]ed|access denied|denied|role|grant(?:ed)?|revoke[d]?|"
    r"api[ _-]?key|token (?:created|revoked|rotated)|password|admin|privilege|sudo|"
    r"user (?:created|deleted|updated|invited)|settings? (?:changed|updated))\b",
    re.IGNORECASE,
)
AUDIT_TYPES = {"auth", "login", "logout", "admin", "audit", "permission", "security"}


@dataclass(slots=True)
class Selection:
    hits: list[LogRecord]
    logs: list[dict[str, Any]]
    summary: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False


def is_audit_event(record: LogRecord) -> bool:
    if (record.request_type or "").lower() in AUDIT_TYPES:
        return True
    category = str(record.fields.get("category") or record.fields.get("event_type") or "").lower()
    if category in AUDIT_TYPES:
        return True
    return bool(AUDIT_PATTERN.search(record.message))


def _troubleshoot(records: list[LogRecord], query: Query) -> list[LogRecord]:
    floor = query.severity_threshold or Severity.WARN
    return [r for r in records if r.level >= floor]


def _errors(records: list[LogRecord], query: Query) -> list[LogRecord]:
    floor = max(query.severity_threshold or Severity.ERROR, Severity.ERROR)
    return [r for r in records if r.level >= floor]


def _performance(records: list[LogRecord], query: Query) -> list[LogRecord]:
    timed = [r for r in records if r.duration is not None]
    return sorted(timed, key=lambda r: (-(r.duration or 0.0), r.timestamp_ns))


def _audit(records: list[LogRecord], query: Query) -> list[LogRecord]:
    return [r for r in records if is_audit_event(r)]


def _conversation(records: list[LogRecord], query: Query) -> list[LogRecord]:
    return [r for r in records if r.conversation_id]


SELECTORS: dict[Mode, Callable[[LogRecord | Any, Query], list[LogRecord]]] = {
    Mode.TROUBLESHOOT: _troubleshoot,
    Mode.ERRORS: _errors,
    Mode.PERFORMANCE: _performance,
    Mode.AUDIT: _audit,
    Mode.CONVERSATION: _conversation,
}


def select(records: list[LogRecord], query: Query) -> Selection:
    hits = SELECTORS[query.mode](records, query)
    summary = _base_summary(records, hits)
    summary.update(SUMMARIES[query.mode](records, hits))
    extras: dict[str, Any] = {}
    if query.mode is Mode.CONVERSATION:
        extras["conversations"] = summary.pop("conversations")

    shown: list[LogRecord] = hits
    if query.mode is not Mode.PERFORMANCE and (query.include_context or query.context_window):
        shown = with_context(records, hits, query.include_context, query.context_window)
    hit_ids = {id(r) for r in hits}

    if query.deduplicate:
        logs = _deduplicated(shown, query, hit_ids)
    else:
        logs = [render_record(r, query, is_hit=id(r) in hit_ids) for r in shown]
    truncated = len(logs) > query.limit
    if truncated:
        # keep the newest lines: the end of an incident matters more than its quiet start,
        # except for performance where the order is slowest first
        logs = logs[: query.limit] if query.mode is Mode.PERFORMANCE else logs[-query.limit :]
    return Selection(hits=hits, logs=logs, summary=summary, extras=extras, truncated=truncated)


def with_context(
    records: list[LogRecord], hits: list[LogRecord], lines: int, window: str | None
) -> list[LogRecord]:
    """Hits plus `lines` neighbours from the same service and anything within `window`."""
    keep: set[int] = set()
    position = {id(r): i for i, r in enumerate(records)}
    by_service: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_service[r.service].append(i)
    service_pos = {idx: n for idxs in by_service.values() for n, idx in enumerate(idxs)}
    span = parse_duration(window) * NS_PER_SECOND if window else 0
    for hit in hits:
        i = position.get(id(hit))
        if i is None:
            continue
        keep.add(i)
        if lines:
            idxs = by_service[hit.service]
            n = service_pos[i]
            keep.update(idxs[max(0, n - lines) : n + lines + 1])
        if span:
            j = i
            while j > 0 and hit.timestamp_ns - records[j - 1].timestamp_ns <= span:
                j -= 1
                keep.add(j)
            j = i
            while j + 1 < len(records) and records[j + 1].timestamp_ns - hit.timestamp_ns <= span:
                j += 1
                keep.add(j)
    return [records[i] for i in sorted(keep)]


def render_record(record: LogRecord, query: Query, *, is_hit: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": format_timestamp(record.timestamp_ns),
        "service": record.service,
        "level": record.level.label,
        "message": record.message,
    }
    if query.verbosity is not Verbosity.MINIMAL:
        for name in (
            "correlation_id",
            "conversation_id",
            "session_id",
            "workspace_id",
            "user_id",
            "model",
            "tokens_used",
            "duration",
            "request_type",
            "success",
        ):
            value = getattr(record, name)
            if value is not None:
                item[name] = value
        if not is_hit:
            item["context"] = True
    if query.verbosity is Verbosity.DETAILED:
        item["labels"] = record.labels
        item["fields"] = record.fields
        if record.origin:
            item["origin"] = record.origin
    if query.highlight:
        found = [t for t in query.highlight if t.lower() in record.message.lower()]
        if found:
            item["highlights"] = found
    return item


def _deduplicated(shown: list[LogRecord], query: Query, hit_ids: set[int]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, Severity, str], list[LogRecord]] = {}
    for r in shown:
        groups.setdefault((r.service, r.level, fingerprint(r.message)), []).append(r)
    out = []
    for members in groups.values():
        first, last = members[0], members[-1]
        item = render_record(last, query, is_hit=any(id(m) in hit_ids for m in members))
        item["count"] = len(members)
        item["first_seen"] = format_timestamp(first.timestamp_ns)
        item["last_seen"] = format_timestamp(last.timestamp_ns)
        out.append(item)
    if query.mode is not Mode.PERFORMANCE:
        out.sort(key=lambda item: item["last_seen"])
    return out


def _base_summary(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    levels = Counter(r.level.label for r in records)
    services = Counter(r.service for r in records)
    errors = [r for r in records if r.is_error]
    summary: dict[str, Any] = {
        "total_records": len(records),
        "matched_records": len(hits),
        "by_level": dict(sorted(levels.items())),
        "by_service": dict(services.most_common()),
        "error_count": len(errors),
        "warning_count": levels.get("warn", 0),
        "error_rate": round(len(errors) / len(records), 4) if records else 0.0,
    }
    if records:
        summary["first_timestamp"] = format_timestamp(records[0].timestamp_ns)
        summary["last_timestamp"] = format_timestamp(records[-1].timestamp_ns)
    if errors:
        first = errors[0]
        summary["first_error"] = {
            "timestamp": format_timestamp(first.timestamp_ns),
            "service": first.service,
            "message": first.message,
        }
    return summary


def top_messages(records: list[LogRecord], n: int = 5) -> list[dict[str, Any]]:
    groups: dict[str, list[LogRecord]] = defaultdict(list)
    for r in records:
        groups[fingerprint(r.message)].append(r)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:n]
    return [
        {
            "pattern": key,
            "count": len(members),
            "services": sorted({m.service for m in members}),
            "sample": members[0].message,
        }
        for key, members in ranked
    ]


def _summary_troubleshoot(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    errors = [r for r in records if r.is_error]
    by_service = Counter(r.service for r in errors)
    affected = [
        {
            "service": service,
            "errors": count,
            "first_error": format_timestamp(
                min(r.timestamp_ns for r in errors if r.service == service)
            ),
        }
        for service, count in by_service.most_common()
    ]
    affected.sort(key=lambda a: a["first_error"])
    return {"affected_services": affected, "top_errors": top_messages(errors or hits)}


def _summary_errors(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    by_type = Counter(
        str(r.fields.get("error_type") or r.fields.get("error") or fingerprint(r.message))[:120]
        for r in hits
    )
    return {
        "errors_by_service": dict(Counter(r.service for r in hits).most_common()),
        "errors_by_type": dict(by_type.most_common(20)),
        "top_errors": top_messages(hits),
    }


def _latency_stats(durations: list[float]) -> dict[str, Any]:
    return {
        "count": len(durations),
        "p50_ms": round((percentile(durations, 0.50) or 0.0) * 1000, 1),
        "p95_ms": round((percentile(durations, 0.95) or 0.0) * 1000, 1),
        "p99_ms": round((percentile(durations, 0.99) or 0.0) * 1000, 1),
        "max_ms": round(max(durations) * 1000, 1),
        "mean_ms": round(statistics.fmean(durations) * 1000, 1),
    }


def _summary_performance(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    by_service: dict[str, list[float]] = defaultdict(list)
    by_type: dict[str, list[float]] = defaultdict(list)
    for r in hits:
        by_service[r.service].append(r.duration or 0.0)
        by_type[r.request_type or "unknown"].append(r.duration or 0.0)
    summary: dict[str, Any] = {
        "latency_by_service": {s: _latency_stats(v) for s, v in sorted(by_service.items())},
        "latency_by_request_type": {t: _latency_stats(v) for t, v in sorted(by_type.items())},
        "slowest_operations": [
            {
                "timestamp": format_timestamp(r.timestamp_ns),
                "service": r.service,
                "duration_ms": round((r.duration or 0.0) * 1000, 1),
                "request_type": r.request_type,
                "correlation_id": r.correlation_id,
                "message": r.message,
            }
            for r in hits[:10]
        ],
    }
    if hits:
        summary["overall"] = _latency_stats([r.duration or 0.0 for r in hits])
    return summary


def _summary_audit(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    def outcome(r: LogRecord) -> str:
        if (
            r.success is False
            or r.is_error
            or re.search(r"denied|fail|forbidden|invalid", r.message, re.I)
        ):
            return "failure"
        return "success"

    actors = Counter(
        r.user_id or str(r.fields.get("user") or r.fields.get("user_email") or "unknown")
        for r in hits
    )
    actions = Counter((r.request_type or fingerprint(r.message))[:80] for r in hits)
    return {
        "events": len(hits),
        "by_actor": dict(actors.most_common(20)),
        "by_action": dict(actions.most_common(20)),
        "by_outcome": dict(Counter(outcome(r) for r in hits)),
    }


def _summary_conversation(records: list[LogRecord], hits: list[LogRecord]) -> dict[str, Any]:
    groups: dict[str, list[LogRecord]] = defaultdict(list)
    for r in hits:
        groups[r.conversation_id or ""].append(r)
    conversations = []
    for conv_id, members in groups.items():
        durations = [m.duration for m in members if m.duration is not None]
        conversations.append(
            {
                "conversation_id": conv_id,
                "records": len(members),
                "services": sorted({m.service for m in members}),
                "workspace_id": next((m.workspace_id for m in members if m.workspace_id), None),
                "models": sorted({m.model for m in members if m.model}),
                "tokens": sum(m.tokens_used or 0 for m in members),
                "errors": sum(1 for m in members if m.is_error),
                "first_seen": format_timestamp(members[0].timestamp_ns),
                "last_seen": format_timestamp(members[-1].timestamp_ns),
                "mean_duration_ms": round(statistics.fmean(durations) * 1000, 1)
                if durations
                else None,
            }
        )
    conversations.sort(key=lambda c: (-c["errors"], c["first_seen"]))
    return {
        "conversation_count": len(conversations),
        "total_tokens": sum(c["tokens"] for c in conversations),
        "conversations": conversations,
    }


SUMMARIES: dict[Mode, Callable[[list[LogRecord], list[LogRecord]], dict[str, Any]]] = {
    Mode.TROUBLESHOOT: _summary_troubleshoot,
    Mode.ERRORS: _summary_errors,
    Mode.PERFORMANCE: _summary_performance,
    Mode.AUDIT: _summary_audit,
    Mode.CONVERSATION: _summary_conversation,
}


def aggregate(hits: list[LogRecord], query: Query) -> dict[str, Any]:
    if query.aggregation is Aggregation.NONE:
        return {}
    if query.aggregation is Aggregation.BY_SERVICE:
        out: dict[str, Any] = {}
        for r in hits:
            entry = out.setdefault(r.service, {"count": 0, "by_level": Counter()})
            entry["count"] += 1
            entry["by_level"][r.level.label] += 1
        return {
            "by_service": {
                s: {"count": e["count"], "by_level": dict(e["by_level"])} for s, e in out.items()
            }
        }
    if query.aggregation is Aggregation.BY_ERROR:
        errors = [r for r in hits if r.level >= Severity.WARN]
        return {"by_error": top_messages(errors, n=50)}
    from analyzer.analysis.templates import group_by_template

    return {"by_pattern": group_by_template(hits)}
