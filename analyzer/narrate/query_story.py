"""A /query answer as a story, in the terms of its mode.

Troubleshoot and errors tell the window's problems: a window with several separate problems is a
numbered list in time order, one problem is told as where it started and how it spread. Each
problem leads with its root cause, then says in which order the services failed (the profile's
onsets), worded so the order never contradicts the cause: when callers noticed before the cause
logged anything, the story says so rather than "the cause failed after its caller". Performance,
audit and conversation tell their own figures and mention the problems in one line.
"""

from __future__ import annotations

from typing import Any

from analyzer.narrate import episodes as episodes_mod
from analyzer.narrate.insight_claims import (
    SUMMARY_KINDS,
    InsightWords,
    accusers,
    distinct,
    onsets,
    order_sentence,
    unrepeated,
)
from analyzer.narrate.mode_openings import INCIDENT_MODES, coverage_caveat, opening
from analyzer.narrate.phrasing import Clock, latency, names, plural, seconds_between, span
from analyzer.narrate.story import Claim, Event, Linker, Problem, Section, Story, capital

MODE_TITLES = {
    "troubleshoot": "Troubleshooting",
    "errors": "Errors",
    "performance": "Performance",
    "audit": "Audit",
    "conversation": "AI conversations",
}


def query_story(data: dict[str, Any], link: Linker) -> Story:
    meta = data.get("metadata", {})
    mode = str(meta.get("query_mode") or "troubleshoot")
    window = meta.get("time_range", {})
    clock = Clock(window.get("start") or data.get("summary", {}).get("first_timestamp"))
    words = InsightWords(link, clock)
    insights = [i for i in data.get("insights", []) if isinstance(i, dict)]
    told = opening(mode, data, clock)
    caveat = coverage_caveat(meta)
    if caveat:
        told.text += " " + caveat
    problems, wide = episodes_mod.split(insights)
    story = Story(
        title=f"{MODE_TITLES.get(mode, capital(mode))} · {clock.window(window.get('start'), window.get('end'))}",
        headline=told.text,
        facts=told.facts,
        sections=told.sections,
    )
    if mode in INCIDENT_MODES:
        _tell_problems(story, problems, wide, words, clock)
        shown = [i for p in problems for i in distinct(p.insights)] + distinct(wide)
        story.events = [e for e in (words.event(i) for i in shown) if e is not None]
        if not story.events:
            story.events = _error_line_events(data.get("logs", []), clock)
    else:
        story.gist = _mode_gist(mode, data)
        brief = _problems_in_brief(problems, clock)
        if brief:
            story.sections.append(Section("Failures in this window", [brief]))
        story.events = _mode_events(mode, data, clock)
    return story


# ----- troubleshoot and errors: the problems --------------------------------------------


def _tell_problems(
    story: Story,
    problems: list[episodes_mod.Episode],
    wide: list[dict[str, Any]],
    words: InsightWords,
    clock: Clock,
) -> None:
    if len(problems) > 1:
        story.gist = f"{len(problems)} separate problems"
        story.headline += (
            f" {len(problems)} separate problems in this window, each with its own start and "
            "services, in time order:"
        )
        story.problems = [_problem(e, words, clock) for e in problems]
        story.wide = [words.claim(i) for i in distinct(wide)]
        return
    if not problems and not wide:
        story.gist = "no problems found"
        story.headline += " Nothing in this window stands out as a problem."
        return
    told = distinct((problems[0].insights if problems else []) + wide)
    cause = next((i for i in told if i.get("kind") == "root_cause"), None)
    start = problems[0].start if problems else told[0]["evidence"].get("first_seen")
    end = problems[0].end if problems else told[0]["evidence"].get("last_seen")
    when = f"{clock.between(start, end)} ({span(seconds_between(start, end))})"
    if cause is not None:
        claims = _cause_claims(cause, told, words, clock)
        story.gist = f"one problem, root cause {cause.get('service')}"
        story.headline += f" One problem, {when}: {_verdict(cause)}."
    else:
        lead = _lead_of(told)
        rest = sorted((i for i in told if i is not lead), key=_time_order)
        claims = unrepeated([words.claim(lead, lead=True)] + [words.claim(i) for i in rest])
        services = problems[0].services() if problems else [lead.get("service") or "?"]
        story.gist = f"one problem, first seen in {services[0]} at {clock.time(start)}"
        story.headline += f" One problem, {when}, first seen in {services[0]}."
    story.origin, story.spread = claims[0], claims[1:]
    story.actions = _actions([cause] if cause else [], told)


def _verdict(cause: dict[str, Any]) -> str:
    """The headline's one-line answer for a problem with a root cause."""
    evidence = cause.get("evidence") or {}
    service = cause.get("service") or "?"
    affected = [s for s, _ in onsets(cause) if s != service] or [
        s for s in evidence.get("services") or [] if s != service
    ]
    reached = f"; failures reached {names(affected)}" if affected else ""
    if evidence.get("cannot_tell"):
        return f"only {service} logged failures, and its logs alone cannot tell a cause from a symptom"
    if evidence.get("silent"):
        return f"its likely root cause is {service}, which has no logs of its own{reached}"
    return f"its likely root cause is {service}{reached}"


def _cause_claims(
    cause: dict[str, Any], told: list[dict[str, Any]], words: InsightWords, clock: Clock
) -> list[Claim]:
    """The cause, the order services failed in (with its cascade's figures), then the rest; no
    other claim states an order, so none can contradict the cause."""
    cascades = [i for i in told if i.get("kind") == "error_cascade"]
    others = sorted(
        (i for i in told if i is not cause and i.get("kind") not in SUMMARY_KINDS), key=_time_order
    )
    later_causes = [i for i in told if i is not cause and i.get("kind") == "root_cause"]
    claims = [words.claim(cause)]
    order = _order_claim(cause, cascades, words, clock)
    if order is not None:
        claims.append(order)
    claims += [words.claim(i) for i in later_causes + others]
    return unrepeated(claims)


def _order_claim(
    cause: dict[str, Any], cascades: list[dict[str, Any]], words: InsightWords, clock: Clock
) -> Claim | None:
    text = order_sentence(cause, clock)
    service = str(cause.get("service"))
    if text is None:
        # an answer stored before onsets were recorded: its cascade, worded after the cause
        told = [c for c in cascades if not cause.get("evidence", {}).get("cannot_tell")]
        return words.claim(told[0], cause=service) if told and not onsets(cause) else None
    steps = [s for s, _ in onsets(cause)]
    cascade = next(
        (c for c in cascades if {o["service"] for o in c["evidence"].get("order", [])} & set(steps)),
        None,
    )
    first = onsets(cause)[0][1]
    if cascade is None:
        return Claim(text, time=first, service=steps[0])
    evidence = cascade["evidence"]
    seconds = seconds_between(evidence.get("first_seen"), evidence.get("last_seen"))
    refs = (evidence.get("references") or {}).get(service)
    then = None
    if refs and service in accusers(cause):
        then = f"{refs:,} of their lines name {service}."
    return Claim(
        text,
        f"{plural(int(evidence['count']), 'error')} in {span(seconds)}",
        link=words.link(words.query(cascade), evidence.get("first_seen"), evidence.get("last_seen")),
        then=then,
        time=first,
        service=steps[0],
        count=evidence.get("count"),
    )


def _problem(episode: episodes_mod.Episode, words: InsightWords, clock: Clock) -> Problem:
    insights = distinct(episode.insights)
    cause = next((i for i in insights if i.get("kind") == "root_cause"), None)
    span_text = clock.between(episode.start, episode.end)
    if cause is not None:
        claims = _cause_claims(cause, insights, words, clock)
        service = cause.get("service") or "?"
        evidence = cause.get("evidence") or {}
        others = [s for s, _ in onsets(cause) if s != service] + [
            s for s in evidence.get("services") or [] if s != service and s not in dict(onsets(cause))
        ]
        heading = f"{span_text}  {service}"
        if evidence.get("silent"):
            heading += " (no logs of its own)"
        elif evidence.get("cannot_tell"):
            heading += " (cause or symptom: cannot tell)"
        if others:
            heading += f": failures in {names(others)}"
        return Problem(heading, claims[0], claims[1:], _actions([cause], insights)[0] if insights else None)
    lead = _lead_of(insights)
    rest = sorted((i for i in insights if i is not lead), key=_time_order)
    services = episode.services()
    first_service = lead.get("service") or (services[0] if services else "?")
    others = [s for s in services if s != first_service]
    heading = f"{span_text}  {first_service}" + (f", then {names(others)}" if others else "")
    claims = unrepeated([words.claim(lead, lead=True)] + [words.claim(i) for i in rest])
    return Problem(heading, claims[0], claims[1:], lead.get("suggestion"))


def _time_order(insight: dict[str, Any]) -> str:
    return str(insight["evidence"].get("first_seen", ""))


def _lead_of(insights: list[dict[str, Any]]) -> dict[str, Any]:
    """The first symptom: the earliest line-level finding. Bursts start on bucket bounds, so
    they lead only when nothing else does; root cause and cascade summarise rather than lead."""

    def key(pair: tuple[int, dict[str, Any]]) -> tuple[int, str, int]:
        rank, insight = pair
        kind = insight.get("kind")
        group = 2 if kind in SUMMARY_KINDS else 1 if kind == "burst" else 0
        return (group, insight["evidence"]["first_seen"], rank)

    return min(enumerate(insights), key=key)[1]


def _actions(causes: list[dict[str, Any]], told: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for insight in causes + sorted(told, key=_time_order):
        if insight.get("kind") == "error_cascade" and causes:
            continue  # its advice is the cause's
        suggestion = insight.get("suggestion")
        if suggestion:
            seen.setdefault(suggestion, None)
    return list(seen) or [""]


def _error_line_events(logs: list[dict[str, Any]], clock: Clock) -> list[Event]:
    """Without insights, the error lines themselves, one per distinct message and service."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in logs:
        if str(line.get("level", "")).lower() in ("error", "fatal") and line.get("timestamp"):
            key = (str(line.get("service", "-")), str(line.get("message", "")))
            grouped.setdefault(key, []).append(line)
    return [
        Event(
            lines[0]["timestamp"],
            clock.time(lines[0]["timestamp"]),
            service,
            f"{lines[0]['level']}: {message}",
            sum(int(x.get("count") or 1) for x in lines),
        )
        for (service, message), lines in grouped.items()
    ]


# ----- performance, audit, conversation: their own figures --------------------------------


def _problems_in_brief(problems: list[episodes_mod.Episode], clock: Clock) -> Claim | None:
    """The window's problems in one line, for a mode whose story is something else."""
    if not problems:
        return None
    told = []
    for episode in problems:
        cause = next((i for i in episode.insights if i.get("kind") == "root_cause"), None)
        who = (cause or {}).get("service") or (episode.services() or ["?"])[0]
        told.append(f"{who} from {clock.time(episode.start)}")
    noun = "1 incident" if len(problems) == 1 else f"{len(problems)} incidents"
    return Claim(
        f"{noun}, by root cause: {names(told)}; the troubleshoot mode tells "
        + ("it" if len(problems) == 1 else "them"),
        time=problems[0].start,
    )


def _mode_gist(mode: str, data: dict[str, Any]) -> str:
    summary = data.get("summary", {})
    if mode == "performance":
        overall = summary.get("overall") or {}
        return f"p95 {latency(overall.get('p95_ms'))}" if overall else "no timed operations"
    if mode == "audit":
        outcome = summary.get("by_outcome") or {}
        return f"{plural(int(summary.get('events', 0)), 'audit event')}, {outcome.get('failure', 0):,} failed"
    if mode == "conversation":
        return (
            f"{plural(int(summary.get('conversation_count', 0)), 'conversation')}, "
            f"{plural(int(summary.get('failed_turns') or 0), 'failed turn')}"
        )
    return ""


def _mode_events(mode: str, data: dict[str, Any], clock: Clock) -> list[Event]:
    summary = data.get("summary", {})
    if mode == "performance":
        return [
            Event(
                op["timestamp"],
                clock.time(op["timestamp"]),
                op["service"],
                f"{op.get('request_type') or 'operation'} took {latency(op.get('duration_ms'))}: "
                f"{op.get('message', '')}",
            )
            for op in summary.get("slowest_operations", [])[:10]
        ]
    if mode == "audit":
        return [
            Event(
                line["timestamp"],
                clock.time(line["timestamp"]),
                line.get("service", "-"),
                f"{line.get('user_id') or 'no user'}: {line.get('message', '')}"
                + (" (failed)" if line.get("success") is False or line.get("level") in ("error", "fatal") else ""),
                line.get("count"),
            )
            for line in data.get("logs", [])
            if line.get("timestamp") and not line.get("context")
        ]
    conversations = data.get("conversations") or summary.get("conversations") or []
    events = []
    for conv in conversations:
        if not conv.get("first_seen"):
            continue
        turns = f"{plural(int(conv['turns']), 'turn')}, " if conv.get("turns") is not None else ""
        failed = f", {conv.get('failed_turns') or conv.get('errors')} failed" if conv.get("errors") else ""
        events.append(
            Event(
                conv["first_seen"],
                clock.time(conv["first_seen"]),
                conv.get("workspace_id") or "-",
                f"conversation {conv.get('conversation_id')} starts: {turns}"
                f"{plural(int(conv.get('tokens', 0)), 'token')}{failed}",
            )
        )
    return events
