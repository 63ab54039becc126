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

Every number in a summary is the window's: counts and first errors come from the profile,
performance, audit and conversation figures from the tally that saw every line the mode selects.
The lines shown (`logs`) come from the evidence sample, and the selection says how many lines
matched in the whole window, so a caller can tell a sample from everything.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.tallies import ConversationTally, PerformanceTally, Tally
from analyzer.analysis.window_facts import NamedGroup, WindowFacts
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


@dataclass(slots=True)
class Selection:
    hits: list[LogRecord]
    logs: list[dict[str, Any]]
    summary: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False
    matched: int = 0  # lines of the whole window the mode selects


def _floor(query: Query) -> Severity:
    if query.mode is Mode.ERRORS:
        return max(query.severity_threshold or Severity.ERROR, Severity.ERROR)
    return query.severity_threshold or Severity.WARN


def select(
    facts: WindowFacts,
    query: Query,
    *,
    services: list[str] | None = None,
    tally: Tally | None = None,
    extra_records: list[LogRecord] | None = None,
) -> Selection:
    """`services`: what the summary counts (the query's, or every service)."""
    profile = facts.profile
    wanted = set(services or ())
    records = [r for r in facts.records if not wanted or r.service in wanted]
    if query.mode in (Mode.TROUBLESHOOT, Mode.ERRORS):
        floor = _floor(query)
        hits = [r for r in records if r.level >= floor]
        matched = sum(
            n for (s, level), n in profile.totals.items() if level >= floor and (not wanted or s in wanted)
        )
    elif query.mode is Mode.PERFORMANCE and isinstance(tally, PerformanceTally):
        hits = [r for r in tally.slowest_records() if not wanted or r.service in wanted]
        matched = tally.seen
    else:
        match = tally.selects if tally is not None else (lambda r: True)
        hits = [r for r in records if match(r)]
        matched = getattr(tally, "events", None) or (
            sum(c.records for c in tally.conversations.values())
            if isinstance(tally, ConversationTally)
            else len(hits)
        )
    summary = _base_summary(facts, wanted, matched)
    summary.update(_mode_summary(facts, query, wanted, tally))
    extras: dict[str, Any] = {}
    if query.mode is Mode.CONVERSATION:
        extras["conversations"] = summary.pop("conversations", [])

    shown: list[LogRecord] = hits
    if query.mode is not Mode.PERFORMANCE and (query.include_context or query.context_window):
        pool = sorted({id(r): r for r in records + (extra_records or [])}.values(), key=_time)
        shown = with_context(pool, hits, query.include_context, query.context_window)
    hit_ids = {id(r) for r in hits}

    if query.deduplicate:
        logs = _deduplicated(shown, query, hit_ids)
    else:
        logs = [render_record(r, query, is_hit=id(r) in hit_ids) for r in shown]
    if len(logs) > query.limit:
        # keep the newest lines, except for performance where the order is slowest first
        logs = logs[: query.limit] if query.mode is Mode.PERFORMANCE else logs[-query.limit :]
    truncated = len(hits) < matched or len([item for item in logs if not item.get("context")]) < len(hits)
    return Selection(
        hits=hits, logs=logs, summary=summary, extras=extras, truncated=truncated, matched=matched
    )


def _time(record: LogRecord) -> int:
    return record.timestamp_ns


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


def _base_summary(facts: WindowFacts, wanted: set[str], matched: int) -> dict[str, Any]:
    profile = facts.profile
    totals = {k: n for k, n in profile.totals.items() if not wanted or k[0] in wanted}
    levels: Counter[str] = Counter()
    services: Counter[str] = Counter()
    for (service, level), n in totals.items():
        levels[level.label] += n
        services[service] += n
    total = sum(totals.values())
    errors = sum(n for (_, level), n in totals.items() if level >= Severity.ERROR)
    summary: dict[str, Any] = {
        "total_records": total,
        "matched_records": matched,
        "by_level": {k: v for k, v in sorted(levels.items()) if v},
        "by_service": dict(services.most_common()),
        "error_count": errors,
        "warning_count": levels.get("warn", 0),
        "error_rate": round(errors / total, 4) if total else 0.0,
    }
    firsts = [ts for k, ts in profile.first_ns.items() if k in totals]
    lasts = [ts for k, ts in profile.last_ns.items() if k in totals]
    if firsts:
        summary["first_timestamp"] = format_timestamp(min(firsts))
        summary["last_timestamp"] = format_timestamp(max(lasts))
    failing = [g.group for g in _error_groups(facts, wanted)]
    if failing:
        first = min(failing, key=lambda g: (g.first_ns, g.service))
        summary["first_error"] = {
            "timestamp": format_timestamp(first.first_ns),
            "service": first.service,
            "message": first.sample,
        }
    return summary


def _error_groups(facts: WindowFacts, wanted: set[str]) -> list[NamedGroup]:
    return [
        g
        for g in facts.groups
        if g.group.level >= Severity.ERROR and (not wanted or g.group.service in wanted)
    ]


def _noisy_groups(facts: WindowFacts, wanted: set[str]) -> list[NamedGroup]:
    return [
        g
        for g in facts.groups
        if g.group.level >= Severity.WARN and (not wanted or g.group.service in wanted)
    ]


def top_messages(groups: list[NamedGroup], n: int = 5) -> list[dict[str, Any]]:
    """The most frequent messages (groups of one fingerprint across services), exact counts."""
    merged: dict[str, list[NamedGroup]] = defaultdict(list)
    for g in groups:
        merged[fingerprint(g.group.sample)].append(g)
    ranked = sorted(
        merged.items(), key=lambda kv: (-sum(g.group.count for g in kv[1]), kv[0])
    )[:n]
    return [
        {
            "pattern": key,
            "count": sum(g.group.count for g in members),
            "services": sorted({g.group.service for g in members}),
            "sample": min(members, key=lambda g: g.group.first_ns).group.sample,
        }
        for key, members in ranked
    ]


def _summary_troubleshoot(facts: WindowFacts, wanted: set[str]) -> dict[str, Any]:
    profile = facts.profile
    failing = [Severity.ERROR, Severity.FATAL]
    affected = []
    for service, errors in profile.by_service(failing).items():
        if wanted and service not in wanted:
            continue
        first = profile.first(failing, service)
        affected.append(
            {
                "service": service,
                "errors": errors,
                "first_error": format_timestamp(first) if first is not None else None,
            }
        )
    affected.sort(key=lambda a: (a["first_error"] or "", a["service"]))
    errors = _error_groups(facts, wanted)
    return {
        "affected_services": affected,
        "top_errors": top_messages(errors or _noisy_groups(facts, wanted)),
    }


def _error_type(group: NamedGroup) -> str:
    for record in group.group.examples:
        found = record.fields.get("error_type") or record.fields.get("error")
        if found:
            return str(found)[:120]
    return fingerprint(group.group.sample)[:120]


def _summary_errors(facts: WindowFacts, wanted: set[str]) -> dict[str, Any]:
    errors = _error_groups(facts, wanted)
    by_type: Counter[str] = Counter()
    by_service: Counter[str] = Counter()
    for g in errors:
        by_type[_error_type(g)] += g.group.count
        by_service[g.group.service] += g.group.count
    return {
        "errors_by_service": dict(by_service.most_common()),
        "errors_by_type": dict(by_type.most_common(20)),
        "top_errors": top_messages(errors),
    }


def _mode_summary(
    facts: WindowFacts, query: Query, wanted: set[str], tally: Tally | None
) -> dict[str, Any]:
    if query.mode is Mode.TROUBLESHOOT:
        return _summary_troubleshoot(facts, wanted)
    if query.mode is Mode.ERRORS:
        return _summary_errors(facts, wanted)
    if tally is not None:
        return tally.summary()
    return {}


def aggregate(
    facts: WindowFacts, hits: list[LogRecord], query: Query, *, services: list[str] | None = None
) -> dict[str, Any]:
    """Counts of the mode's lines: exact from the profile for troubleshoot and errors (by
    service and level, by message, by mined template); from the selected lines otherwise."""
    if query.aggregation is Aggregation.NONE:
        return {}
    wanted = set(services or ())
    exact = query.mode in (Mode.TROUBLESHOOT, Mode.ERRORS)
    if query.aggregation is Aggregation.BY_SERVICE:
        out: dict[str, dict[str, Any]] = {}
        if exact:
            floor = _floor(query)
            for (service, level), n in facts.profile.totals.items():
                if level >= floor and n and (not wanted or service in wanted):
                    entry = out.setdefault(service, {"count": 0, "by_level": Counter()})
                    entry["count"] += n
                    entry["by_level"][level.label] += n
        else:
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
        return {"by_error": top_messages(_noisy_groups(facts, wanted), n=50)}
    if exact:
        floor = _floor(query)
        return {"by_pattern": _groups_by_template([g for g in _noisy_groups(facts, wanted) if g.group.level >= floor])}
    from analyzer.analysis.templates import group_by_template

    return {"by_pattern": group_by_template(hits)}


def _groups_by_template(groups: list[NamedGroup]) -> list[dict[str, Any]]:
    """Message groups merged by mined template, most frequent first, with exact counts."""
    from analyzer.analysis.templates import merge_by_template

    return merge_by_template(
        [
            (g.key, g.service, g.count, g.first_ns, g.last_ns, g.sample)
            for g in (named.group for named in groups)
        ]
    )
