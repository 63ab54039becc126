"""What each query mode's narrative is about: its opening sentence, its facts and sections.

Troubleshoot and errors open with the window's lines and errors and then tell its problems;
performance opens with percentiles and the slowest operations; audit says who did what and what
failed; conversation says how many turns, what they cost and which failed. Every figure is the
window's, from the summary (the profile, or the tally that saw every line the mode selects).

When insights blame a service outside the services asked about (an alert on api whose cause is
redis), the opening says which other services' logs were read to find it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.narrate.phrasing import Clock, latency, money, names, number, percent, plural
from analyzer.narrate.story import Claim, Section

# modes whose narrative is the window's problems; the others tell them in one line
INCIDENT_MODES = ("troubleshoot", "errors")


@dataclass(slots=True)
class Opening:
    text: str
    facts: list[Claim] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def opening(mode: str, data: dict[str, Any], clock: Clock) -> Opening:
    builder = {
        "performance": _performance,
        "audit": _audit,
        "conversation": _conversation,
        "errors": _errors,
    }.get(mode, _troubleshoot)
    return builder(data, clock)


def scope(data: dict[str, Any]) -> str:
    """`3,000 lines from 6 services`, and the services read beyond those asked about when an
    insight names one of them."""
    meta = data.get("metadata", {})
    summary = data.get("summary", {})
    lines = int(meta.get("total_logs", summary.get("total_records", len(data.get("logs", [])))))
    asked = list(meta.get("services_queried") or summary.get("by_service", {}))
    text = f"{plural(lines, 'line')} from " + (
        names(asked) if 0 < len(asked) <= 2 else plural(len(asked), "service")
    )
    coverage = meta.get("coverage") or {}
    read = [s for s in coverage.get("services_read") or [] if s not in asked]
    named = {
        str(i.get("service"))
        for i in data.get("insights") or []
        if isinstance(i, dict) and i.get("kind") == "root_cause" and i.get("service")
    }
    if read and asked and named - set(asked):
        others = int(coverage.get("lines_in_window") or 0) - lines
        text += (
            f"; to find causes it also read {names(read)}"
            + (f" ({plural(others, 'line')})" if others > 0 else "")
        )
    return text


def coverage_caveat(meta: dict[str, Any]) -> str:
    """The sentence a reader needs when not every figure is the whole window's: the counts are
    estimated by the source, or messages and causes rest on a sample of its lines."""
    coverage = meta.get("coverage") or {}
    out = []
    if coverage.get("numbers") == "estimated":
        out.append(f"Counts are estimates ({coverage.get('computed_by') or 'the source'}).")
    if str(coverage.get("message_groups", "exact")) != "exact":
        read, total = coverage.get("lines_read"), coverage.get("lines_in_window")
        of = (
            f"{number(int(read))} of the window's {plural(int(total), 'line')}"
            if isinstance(read, int) and isinstance(total, int) and read < total
            else "the window's lines"
        )
        out.append(
            f"Messages and causes are found in a sample of {of}"
            + ("; line and error counts are the whole window's." if coverage.get("numbers") == "exact" else ".")
        )
    return " ".join(out)


def _troubleshoot(data: dict[str, Any], clock: Clock) -> Opening:
    summary = data.get("summary", {})
    errors = int(summary.get("error_count", 0))
    rate = summary.get("error_rate")
    text = f"{scope(data)}, {plural(errors, 'error')}" + (f" ({percent(rate)} of lines)" if rate else "")
    first = summary.get("first_error")
    if first and not data.get("insights"):
        text += f"; the first at {clock.time(first.get('timestamp'))} in {first.get('service')}"
    return Opening(text + ".")


def _errors(data: dict[str, Any], clock: Clock) -> Opening:
    summary = data.get("summary", {})
    errors = int(summary.get("error_count", 0))
    rate = summary.get("error_rate")
    text = f"{scope(data)}, {plural(errors, 'error')}" + (f" ({percent(rate)} of lines)" if rate else "") + "."
    by_service = list((summary.get("errors_by_service") or {}).items())[:3]
    by_type = list((summary.get("errors_by_type") or {}).items())[:3]
    if by_service:
        text += " Most come from " + names(f"{s} ({n:,})" for s, n in by_service) + "."
    if by_type:
        text += " Commonest types: " + names(f"{t} ({n:,})" for t, n in by_type) + "."
    facts = [
        Claim(f"{plural(int(top['count']), 'time')} in {names(top.get('services', []))}", sample=top.get("sample"))
        for top in (summary.get("top_errors") or [])[:3]
    ]
    return Opening(text, facts)


def _performance(data: dict[str, Any], clock: Clock) -> Opening:
    summary = data.get("summary", {})
    overall = summary.get("overall") or {}
    by_service = summary.get("latency_by_service") or {}
    slow = sorted(by_service.items(), key=lambda kv: (-kv[1].get("p95_ms", 0), kv[0]))[:3]
    text = (
        f"{scope(data)}; {plural(int(overall.get('count', 0)), 'timed operation')}: "
        f"p50 {latency(overall.get('p50_ms'))}, p95 {latency(overall.get('p95_ms'))}, "
        f"p99 {latency(overall.get('p99_ms'))}."
        if overall
        else f"{scope(data)}; no line carried a duration."
    )
    if slow:
        text += " Slowest at p95: " + names(f"{s} ({latency(v.get('p95_ms'))})" for s, v in slow) + "."
    slowest = Section("Slowest operations")
    for op in summary.get("slowest_operations", [])[:5]:
        kind = op.get("request_type") or "operation"
        rid = f", request {op['correlation_id']}" if op.get("correlation_id") else ""
        slowest.claims.append(
            Claim(
                f"{op['service']} {kind} took {latency(op.get('duration_ms'))} "
                f"({clock.time(op.get('timestamp'))}{rid})",
                sample=op.get("message"),
                time=op.get("timestamp"),
                service=op.get("service"),
            )
        )
    facts = [
        Claim(
            f"{name}: p50 {latency(stats.get('p50_ms'))}, p95 {latency(stats.get('p95_ms'))}, "
            f"max {latency(stats.get('max_ms'))}",
            plural(int(stats.get("count", 0)), "operation"),
        )
        for name, stats in sorted(
            (summary.get("latency_by_request_type") or {}).items(),
            key=lambda kv: (-kv[1].get("p95_ms", 0), kv[0]),
        )[:3]
    ]
    return Opening(text, facts, [slowest] if slowest.claims else [])


def _audit(data: dict[str, Any], clock: Clock) -> Opening:
    """Who did what: each actor's actions and failures, exact over the window."""
    summary = data.get("summary", {})
    outcome = summary.get("by_outcome") or {}
    actors = summary.get("actors") or [
        {"actor": a, "events": n, "failed": None, "actions": {}} for a, n in (summary.get("by_actor") or {}).items()
    ]
    known = [a for a in actors if a["actor"] != "unknown"]
    text = (
        f"{plural(int(summary.get('events', 0)), 'audit event')} by "
        f"{plural(len(known), 'known user')}: {number(outcome.get('success', 0))} succeeded, "
        f"{number(outcome.get('failure', 0))} failed."
    )
    actions = summary.get("by_action") or {}
    if actions:
        text += " Actions: " + names(f"{a} ({n:,})" for a, n in list(actions.items())[:4]) + "."
    who = Section("Who did what")
    for actor in actors[:8]:
        name = "No user recorded" if actor["actor"] == "unknown" else actor["actor"]
        did = names(f"{a} {n:,}" for a, n in (actor.get("actions") or {}).items())
        failed = actor.get("failed")
        outcome_text = "" if failed is None else (f", {number(failed)} failed" if failed else ", none failed")
        who.claims.append(
            Claim(
                f"{name}: {plural(int(actor['events']), 'event')}" + (f" ({did})" if did else "") + outcome_text,
                clock.between(actor.get("first_seen"), actor.get("last_seen")) if actor.get("first_seen") else None,
                time=actor.get("first_seen"),
                count=int(actor["events"]),
            )
        )
    failing = sorted((a for a in actors if a.get("failed")), key=lambda a: (-a["failed"], a["actor"]))
    facts = [
        Claim(
            f"{'Events with no user' if a['actor'] == 'unknown' else a['actor']} failed "
            f"{plural(int(a['failed']), 'time')} of {int(a['events']):,}",
            time=a.get("first_seen"),
        )
        for a in failing[:3]
    ]
    return Opening(text, facts, [who] if who.claims else [])


def _conversation(data: dict[str, Any], clock: Clock) -> Opening:
    """Turns, what they cost and which failed, per conversation."""
    summary = data.get("summary", {})
    conversations = data.get("conversations") or summary.get("conversations") or []
    count = int(summary.get("conversation_count", len(conversations)))
    turns = summary.get("total_turns")
    text = f"{plural(count, 'conversation')}"
    if turns is not None:
        text += f" with {plural(int(turns), 'turn')}"
    text += f" used {plural(int(summary.get('total_tokens', 0)), 'token')}"
    if summary.get("total_cost") is not None:
        text += f" costing {money(summary.get('total_cost'))}"
        if summary.get("unpriced_models"):
            text += f" or more ({names(summary['unpriced_models'])} unpriced)"
    failed = summary.get("failed_turns")
    with_errors = summary.get("conversations_with_errors", sum(1 for c in conversations if c.get("errors")))
    if failed:
        text += f"; {plural(int(failed), 'turn')} failed, in {plural(int(with_errors), 'conversation')}."
    elif conversations or count:
        text += "; no turn failed." if failed == 0 else f"; {with_errors} of them had errors."
    else:
        text += "."
    models = summary.get("tokens_by_model") or {}
    if models:
        text += " Tokens by model: " + names(f"{m} {n:,}" for m, n in list(models.items())[:4]) + "."
    listed = Section("Conversations with failures")
    ranked = sorted(conversations, key=lambda c: (-(c.get("failed_turns") or c.get("errors") or 0), c.get("first_seen", "")))
    for conv in [c for c in ranked if c.get("errors")][:5]:
        turns_text = (
            f"{plural(int(conv['turns']), 'turn')}, {conv.get('failed_turns', 0)} failed"
            if conv.get("turns") is not None
            else plural(int(conv["errors"]), "error")
        )
        cost = f", {money(conv['cost'])}" if conv.get("cost") else ""
        listed.claims.append(
            Claim(
                f"{conv['conversation_id'] or 'no conversation id'} ({conv.get('workspace_id') or '?'}): "
                f"{turns_text}, {plural(int(conv.get('tokens', 0)), 'token')}{cost}",
                clock.between(conv.get("first_seen"), conv.get("last_seen")),
                time=conv.get("first_seen"),
            )
        )
    return Opening(text, [], [listed] if listed.claims else [])
