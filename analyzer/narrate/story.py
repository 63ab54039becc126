"""From a structured answer to a story: headline, origin, spread, problems, actions and events.

Each kind has one builder. Claims are ordered the way a responder reads: where it started first
(the failing hop, or the first failure of the problem), then how it spread, then the rest. A
window that holds several separate problems is told as a numbered list of problems in time order
rather than one merged story. Wording helpers live in `phrasing`; grouping in `episodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import instant_ns
from analyzer.narrate import episodes as episodes_mod
from analyzer.narrate.explore import explore_url
from analyzer.narrate.phrasing import (
    Clock,
    humanize,
    latency,
    likelihood,
    money,
    names,
    number,
    percent,
    plural,
    seconds_between,
    span,
)
from analyzer.sources import logql

MINUTE_NS = 60 * 1_000_000_000
# Kinds that describe a whole failure (who caused it, how it travelled) rather than one symptom.
SUMMARY_KINDS = ("root_cause", "error_cascade")
# Kinds `_label` words itself (and may start a sentence with a capital).
OWN_PHRASES = ("pattern", "burst", "anomaly", "error_summary", "latency")
MODE_TITLES = {
    "troubleshoot": "Troubleshooting",
    "errors": "Errors",
    "performance": "Performance",
    "audit": "Audit",
    "conversation": "AI conversations",
}


@dataclass(slots=True)
class Claim:
    """One statement with its evidence: rendered `text: `sample` (evidence). then`."""

    text: str
    evidence: str | None = None
    sample: str | None = None
    link: str | None = None
    then: str | None = None  # a second sentence that explains the first
    detail: str | None = None  # figures only detailed output shows (confidence, kind)
    time: str | None = None
    service: str | None = None
    count: int | None = None


@dataclass(slots=True)
class Problem:
    heading: str
    lead: Claim
    followers: list[Claim] = field(default_factory=list)
    action: str | None = None


@dataclass(slots=True)
class Event:
    time: str  # RFC 3339, for ordering
    shown: str  # what the reader sees
    service: str
    text: str
    count: int | None = None
    link: str | None = None


@dataclass(slots=True)
class Story:
    title: str
    headline: str
    gist: str = ""
    origin: Claim | None = None
    spread: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    wide: list[Claim] = field(default_factory=list)
    facts: list[Claim] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class _Linker:
    """Explore links when a Grafana URL is configured; None otherwise."""

    def __init__(self, grafana_url: str | None, loki_uid: str | None) -> None:
        self.grafana_url = grafana_url
        self.loki_uid = loki_uid

    def __call__(self, query: str | None, start: str | None, end: str | None = None) -> str | None:
        if not self.grafana_url or not query or not start:
            return None
        try:
            lo = instant_ns(start) - MINUTE_NS
            hi = instant_ns(end or start) + MINUTE_NS
        except ValueError:
            return None
        return explore_url(self.grafana_url, query, lo, hi, self.loki_uid)


def _id_query(services: list[str], name: str, value: str) -> str:
    return f"{logql.selector(sorted(services))} | {name}={logql.quote(value)}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ----- correlation -----------------------------------------------------------------------


def _correlation(data: dict[str, Any], link: _Linker) -> Story:
    cid = str(data.get("correlation_id", ""))
    nodes = {n["service"]: n for n in data.get("request_flow", {}).get("nodes", [])}
    timeline = data.get("service_timeline", [])
    order = [s["service"] for s in timeline]
    clock = Clock(timeline[0]["start"] if timeline else None, precise=True)
    total = latency(data.get("total_duration_ms", 0))
    failing = data.get("failing_hop")

    def query_for(service: str) -> str:
        node = nodes.get(service, {})
        logged_by = node.get("blamed_by", [service]) if node.get("inferred") else [service]
        return _id_query(logged_by, "correlation_id", cid)

    path = " → ".join(n["service"] for n in data.get("critical_path", [])) or "none"
    route = " → ".join(order) or "no service"
    when = clock.window(timeline[0]["start"], timeline[-1]["end"]) if timeline else "?"
    if failing:
        headline = (
            f"Request {cid} failed at {failing} after {total}. It went {route}; "
            f"the critical path was {path}."
        )
        gist = f"failed at {failing} after {total}"
    else:
        headline = (
            f"Request {cid} completed in {total} across {plural(len(order), 'service')} "
            f"({route}); the critical path was {path}."
        )
        gist = f"completed in {total}"
    story = Story(title=f"Request {cid} · {when}", headline=headline, gist=gist)
    if failing and failing in nodes:
        node = nodes[failing]
        at = node.get("first_error_at")
        if node.get("inferred"):
            callers = names(node.get("blamed_by", [])) or "its caller"
            story.origin = Claim(
                f"It started at {failing}, which wrote no line for this request: {callers} "
                f"could not get an answer from it ({clock.time(at)})",
                plural(len(node.get("blamed_by", [])) or 1, "caller") + " reporting it",
                node.get("first_error"),
                link(query_for(failing), at),
                time=at,
                service=failing,
            )
        else:
            story.origin = Claim(
                f"It started at {failing} ({clock.time(at)})",
                plural(node.get("errors", 0), "error line"),
                node.get("first_error"),
                link(query_for(failing), at),
                time=at,
                service=failing,
            )
    failed_after = sorted(
        (n for n in nodes.values() if n["status"] != "ok" and n["service"] != failing),
        key=lambda n: (n.get("first_error_at", ""), n["service"]),
    )
    failed_calls = {
        (e["source"], e["target"])
        for e in data.get("request_flow", {}).get("edges", [])
        if e.get("failed") and e.get("source") != e.get("target")
    }
    for node in failed_after:
        at = node.get("first_error_at")
        callee = next((t for s, t in sorted(failed_calls) if s == node["service"]), None)
        cause = f" because its call to {callee} failed" if callee else ""
        story.spread.append(
            Claim(
                f"{node['service']} failed next ({clock.time(at)}){cause}",
                plural(node["errors"], "error line"),
                node.get("first_error"),
                link(query_for(node["service"]), at),
                time=at,
                service=node["service"],
            )
        )
    for item in data.get("bottlenecks", []):
        node = nodes.get(item["service"], {})
        story.facts.append(
            Claim(
                f"{item['service']} spent {latency(item['self_ms'])} of the {total} in its own "
                "work",
                f"{percent(item['share'])}, {plural(node.get('lines', 0), 'line')}",
                link=link(query_for(item["service"]), node.get("start")),
                time=node.get("start"),
                service=item["service"],
            )
        )
    story.actions = list(data.get("recommendations", []))
    for hop in timeline:
        status = "" if hop["status"] == "ok" else f", {hop['status']}"
        story.events.append(
            Event(
                hop["start"],
                clock.time(hop["start"]),
                hop["service"],
                f"starts; {latency(hop['duration_ms'])}, {plural(hop['lines'], 'line')}{status}",
            )
        )
    for error in data.get("errors", []):
        story.events.append(
            Event(
                error["timestamp"],
                clock.time(error["timestamp"]),
                error["service"],
                f"{error['level']}: {error['message']}",
                None,
                link(query_for(error["service"]), error["timestamp"]),
            )
        )
    return story


# ----- query (/query body): insights in words ---------------------------------------------


def _evidence_text(insight: dict[str, Any], clock: Clock, noun: str = "line") -> str:
    evidence = insight.get("evidence", {})
    first, last = evidence.get("first_seen"), evidence.get("last_seen")
    parts = []
    if evidence.get("count") is not None:
        parts.append(plural(int(evidence["count"]), noun))
    if first:
        parts.append(
            ("at " if clock.between(first, last) == clock.time(first) else "")
            + clock.between(first, last)
        )
    return ", ".join(parts)


def _label(insight: dict[str, Any]) -> str:
    """What the insight saw, as a noun phrase: `connection refused in worker and api`."""
    evidence = insight.get("evidence", {})
    kind = insight.get("kind", "")
    service = insight.get("service") or ""
    services = names(([service] if service else []) + list(evidence.get("services") or []))
    if kind == "pattern" and evidence.get("pattern_type"):
        return f"{humanize(evidence['pattern_type'])} in {services}"
    if kind == "burst":
        bucket = span(float(evidence.get("bucket_seconds") or 60))
        what = "errors and warnings" if evidence.get("dimension") == "service" else "one message"
        return (
            f"a burst of {what} in {service or services} ({evidence.get('peak_per_bucket')} per "
            f"{bucket.removeprefix('1 ')} against a usual {number(evidence.get('baseline_per_bucket') or 0)})"
        )
    if kind == "anomaly":
        return f"a kind of message new to this window in {service or services}"
    if kind == "error_summary":
        return f"errors in {service or services} that match no known pattern"
    if kind == "latency":
        return f"slow responses in {service or services}"
    return str(insight.get("title") or humanize(kind) or "a finding")


def _root_cause_sentence(insight: dict[str, Any], subject: str | None = None) -> str:
    evidence = insight.get("evidence", {})
    service = subject or insight.get("service") or "?"
    word = likelihood(float(insight.get("confidence") or 0))
    accusers = [
        f"{name} ({plural(n, 'line')})" if i == 0 else f"{name} ({n})"
        for i, (name, n) in enumerate(
            sorted((evidence.get("accused_by") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
        )
    ]
    verb = "names it or calls it" if len(accusers) == 1 else "name it or call it"
    because = f": {names(accusers)} {verb}" if accusers else ""
    if word == "possibly":
        return f"{service} may be the root cause{because}"
    return f"{service} is {word} the root cause{because}"


def _cascade_sentence(insight: dict[str, Any]) -> str:
    evidence = insight.get("evidence", {})
    order = [o["service"] for o in evidence.get("order", [])] or list(
        evidence.get("services") or []
    )
    if len(order) < 2:
        return _capital(_label(insight))
    first, rest = order[0], order[1:]
    return f"{names(rest)} failed after {first}"


def _cascade_reason(insight: dict[str, Any]) -> str | None:
    """How the cascade knows the later services depend on the first: their lines name it."""
    evidence = insight.get("evidence", {})
    order = [o["service"] for o in evidence.get("order", [])]
    named = (evidence.get("references") or {}).get(order[0]) if order else None
    if not named:
        return None
    whose = "their" if len(order) > 2 else "its"
    return f"{named:,} of {whose} lines name {order[0]}."


def _detail(insight: dict[str, Any]) -> str:
    text = f"{insight.get('kind', 'finding')}, confidence {insight.get('confidence', 0)}"
    why = (insight.get("evidence") or {}).get("why")
    return f"{text}; {why}" if why else text


class _Insights:
    """Claims, events and links for the insights of one /query answer."""

    def __init__(self, link: _Linker, clock: Clock) -> None:
        self.link, self.clock = link, clock

    def claim(self, insight: dict[str, Any], *, lead: bool = False) -> Claim:
        evidence = insight.get("evidence", {})
        kind = insight.get("kind")
        first = evidence.get("first_seen")
        if kind == "root_cause":
            text, noun = _root_cause_sentence(insight), "line"
        elif kind == "error_cascade":
            text, noun = _cascade_sentence(insight), "error"
        elif lead:
            text, noun = f"It began at {self.clock.time(first)} with {_label(insight)}", "line"
            last = evidence.get("last_seen")
            until = (
                ""
                if self.clock.time(last or first) == self.clock.time(first)
                else f" until {self.clock.time(last)}"
            )
            count = evidence.get("count")
            evidence_text = (plural(int(count), noun) if count is not None else "") + until
        elif kind in OWN_PHRASES:
            text, noun = _capital(_label(insight)), "line"
        else:  # the analysis's own title: its first word may be a service name, kept as written
            text, noun = _label(insight), "line"
        if kind == "error_cascade" and evidence.get("count") is not None:
            seconds = seconds_between(first, evidence.get("last_seen"))
            evidence_text = f"{plural(int(evidence['count']), noun)} in {span(seconds)}, from {self.clock.time(first)}"
        elif not (lead and kind not in SUMMARY_KINDS):
            evidence_text = _evidence_text(insight, self.clock, noun)
        samples = evidence.get("samples") or []
        return Claim(
            text,
            evidence_text,
            samples[0] if samples else None,
            self.link(self.query(insight), first, evidence.get("last_seen")),
            then=_cascade_reason(insight) if kind == "error_cascade" else None,
            detail=_detail(insight),
            time=first,
            service=insight.get("service"),
            count=evidence.get("count"),
        )

    def query(self, insight: dict[str, Any]) -> str | None:
        evidence = insight.get("evidence", {})
        services = evidence.get("services") or (
            [insight["service"]] if insight.get("service") else []
        )
        samples = evidence.get("samples") or []
        if evidence.get("logql"):
            return str(evidence["logql"])
        if samples:
            return f"{logql.selector(sorted(services))} |= {logql.quote(samples[0][:80])}"
        return None

    def event(self, insight: dict[str, Any]) -> Event | None:
        evidence = insight.get("evidence", {})
        first = evidence.get("first_seen")
        if not first:
            return None
        kind = insight.get("kind")
        if kind == "root_cause":
            what = _root_cause_sentence(insight).split(":")[0]
        elif kind == "error_cascade":
            what = "errors spread " + " → ".join(o["service"] for o in evidence.get("order", []))
        else:
            what = _label(insight)
        samples = evidence.get("samples") or []
        if samples and kind not in SUMMARY_KINDS:
            what += f": {samples[0]}"
        return Event(
            first,
            self.clock.time(first),
            insight.get("service") or "-",
            what,
            evidence.get("count"),
            self.link(self.query(insight), first, evidence.get("last_seen")),
        )


def _fingerprint(insight: dict[str, Any]) -> tuple[Any, ...]:
    """Two insights that saw the same lines (a pattern and the anomaly of its template)."""
    evidence = insight.get("evidence", {})
    samples = evidence.get("samples") or [""]
    return (samples[0], evidence.get("count"))


def _distinct(insights: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for insight in insights:
        key = _fingerprint(insight)
        if key[0] and key in seen:
            continue
        seen.add(key)
        out.append(insight)
    return out


def _lead_of(insights: list[dict[str, Any]]) -> dict[str, Any]:
    """The first symptom: the earliest line-level finding. Bursts start on bucket bounds, so
    they lead only when nothing else does; root cause and cascade summarise rather than lead."""

    def key(pair: tuple[int, dict[str, Any]]) -> tuple[int, str, int]:
        rank, insight = pair
        kind = insight.get("kind")
        group = 2 if kind in SUMMARY_KINDS else 1 if kind == "burst" else 0
        return (group, insight["evidence"]["first_seen"], rank)

    return min(enumerate(insights), key=key)[1]


def _problem(episode: episodes_mod.Episode, words: _Insights, clock: Clock) -> Problem:
    insights = _distinct(episode.insights)
    lead = _lead_of(insights)
    rest = [i for i in insights if i is not lead]
    rest.sort(key=lambda i: (i.get("kind") not in SUMMARY_KINDS, i["evidence"]["first_seen"]))
    services = episode.services()
    first_service = lead.get("service") or (services[0] if services else "?")
    others = [s for s in services if s != first_service]
    heading = f"{clock.between(episode.start, episode.end)}  {first_service}"
    if others:
        heading += f", then {names(others)}"
    claims = _unrepeated([words.claim(lead, lead=True)] + [words.claim(i) for i in rest])
    return Problem(heading, claims[0], claims[1:], lead.get("suggestion"))


def _unrepeated(claims: list[Claim]) -> list[Claim]:
    """Each sample line quoted once: a later claim that saw the same line keeps only its figures."""
    quoted: set[str] = set()
    for claim in claims:
        if claim.sample in quoted:
            claim.sample = None
        elif claim.sample:
            quoted.add(claim.sample)
    return claims


def _mode_summary(mode: str, data: dict[str, Any], clock: Clock) -> tuple[str, list[Claim]]:
    """The sentence that opens the headline, in the terms of the mode, and facts behind it."""
    meta = data.get("metadata", {})
    summary = data.get("summary", {})
    lines = int(meta.get("total_logs", summary.get("total_records", len(data.get("logs", [])))))
    services = meta.get("services_queried") or list(summary.get("by_service", {}))
    errors = int(summary.get("error_count", 0))
    scope = f"{plural(lines, 'line')} from {plural(len(services), 'service')}"
    facts: list[Claim] = []
    if mode == "performance":
        overall = summary.get("overall") or {}
        by_service = summary.get("latency_by_service") or {}
        slow = sorted(by_service.items(), key=lambda kv: (-kv[1].get("p95_ms", 0), kv[0]))[:3]
        text = (
            f"{scope}; {plural(int(overall.get('count', 0)), 'timed operation')}: "
            f"p50 {latency(overall.get('p50_ms'))}, p95 {latency(overall.get('p95_ms'))}, "
            f"p99 {latency(overall.get('p99_ms'))}."
            if overall
            else f"{scope}; no line carried a duration."
        )
        if slow:
            text += (
                " Slowest at p95: "
                + names(f"{s} ({latency(v.get('p95_ms'))})" for s, v in slow)
                + "."
            )
        for op in summary.get("slowest_operations", [])[:5]:
            kind = op.get("request_type") or "operation"
            rid = f", request {op['correlation_id']}" if op.get("correlation_id") else ""
            facts.append(
                Claim(
                    f"{op['service']} {kind} took {latency(op.get('duration_ms'))} "
                    f"({clock.time(op.get('timestamp'))}{rid})",
                    sample=op.get("message"),
                    time=op.get("timestamp"),
                    service=op.get("service"),
                )
            )
        for name, stats in sorted(
            (summary.get("latency_by_request_type") or {}).items(),
            key=lambda kv: (-kv[1].get("p95_ms", 0), kv[0]),
        )[:3]:
            facts.append(
                Claim(
                    f"{name}: p50 {latency(stats.get('p50_ms'))}, p95 {latency(stats.get('p95_ms'))}, "
                    f"max {latency(stats.get('max_ms'))}",
                    plural(int(stats.get("count", 0)), "operation"),
                )
            )
        return text, facts
    if mode == "audit":
        outcome = summary.get("by_outcome") or {}
        actors = summary.get("by_actor") or {}
        known = [(a, n) for a, n in actors.items() if a != "unknown"]
        text = (
            f"{plural(int(summary.get('events', 0)), 'audit event')}: "
            f"{number(outcome.get('success', 0))} succeeded, {number(outcome.get('failure', 0))} failed."
        )
        if known:
            text += " Most active: " + names(f"{a} ({n})" for a, n in known[:3]) + "."
        if actors.get("unknown"):
            text += f" {plural(int(actors['unknown']), 'event')} carried no user."
        actions = summary.get("by_action") or {}
        if actions:
            text += " Actions: " + names(f"{a} ({n})" for a, n in list(actions.items())[:4]) + "."
        facts.extend(_audit_failures(data.get("logs", []), clock))
        return text, facts
    if mode == "conversation":
        conversations = summary.get("conversations") or []
        failing = [c for c in conversations if c.get("errors")]
        text = (
            f"{plural(int(summary.get('conversation_count', 0)), 'conversation')} used "
            f"{plural(int(summary.get('total_tokens', 0)), 'token')}"
        )
        text += f"; {len(failing)} of them had errors." if conversations else "."
        for conv in failing[:5]:
            facts.append(
                Claim(
                    f"{conv['conversation_id'] or 'no conversation id'} ({conv.get('workspace_id') or '?'}) "
                    f"logged {plural(conv['errors'], 'error')} over {plural(conv.get('records', 0), 'line')}, "
                    f"{plural(conv.get('tokens', 0), 'token')}",
                    clock.between(conv.get("first_seen"), conv.get("last_seen")),
                    time=conv.get("first_seen"),
                )
            )
        return text, facts
    rate = summary.get("error_rate")
    text = f"{scope}, {plural(errors, 'error')}" + (f" ({percent(rate)} of lines)" if rate else "")
    if mode == "errors":
        by_service = list((summary.get("errors_by_service") or {}).items())[:3]
        by_type = list((summary.get("errors_by_type") or {}).items())[:3]
        text += "."
        if by_service:
            text += " Most come from " + names(f"{s} ({n})" for s, n in by_service) + "."
        if by_type:
            text += " Commonest types: " + names(f"{t} ({n})" for t, n in by_type) + "."
        for top in (summary.get("top_errors") or [])[:3]:
            facts.append(
                Claim(
                    f"{plural(int(top['count']), 'time')} in {names(top.get('services', []))}",
                    sample=top.get("sample"),
                )
            )
        return text, facts
    first = summary.get("first_error")
    if first and not data.get("insights"):
        text += f"; the first at {clock.time(first.get('timestamp'))} in {first.get('service')}"
    return text + ".", facts


def _audit_failures(logs: list[dict[str, Any]], clock: Clock) -> list[Claim]:
    """Who failed at what: failures per actor, with the first failing line of each."""
    by_actor: dict[str, list[dict[str, Any]]] = {}
    for line in logs:
        failed = line.get("success") is False or str(line.get("level", "")).lower() in (
            "error",
            "fatal",
        )
        if failed:
            by_actor.setdefault(str(line.get("user_id") or "unknown"), []).append(line)
    ranked = sorted(by_actor.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:3]
    return [
        Claim(
            f"{actor} failed {plural(len(lines), 'time')}",
            clock.between(lines[0].get("timestamp"), lines[-1].get("timestamp")),
            lines[0].get("message"),
            time=lines[0].get("timestamp"),
            service=lines[0].get("service"),
            count=len(lines),
        )
        for actor, lines in ranked
    ]


def _query(data: dict[str, Any], link: _Linker) -> Story:
    meta = data.get("metadata", {})
    mode = str(meta.get("query_mode") or "troubleshoot")
    window = meta.get("time_range", {})
    clock = Clock(window.get("start") or data.get("summary", {}).get("first_timestamp"))
    words = _Insights(link, clock)
    insights = [i for i in data.get("insights", []) if isinstance(i, dict)]
    opening, facts = _mode_summary(mode, data, clock)
    problems, wide = episodes_mod.split(insights)
    story = Story(
        title=f"{MODE_TITLES.get(mode, _capital(mode))} · {clock.window(window.get('start'), window.get('end'))}",
        headline=opening,
        facts=facts,
    )
    if len(problems) > 1:
        story.gist = f"{len(problems)} separate problems"
        story.headline += (
            f" {len(problems)} separate problems in this window, each with its own start and "
            "services, in time order:"
        )
        story.problems = [_problem(e, words, clock) for e in problems]
        story.wide = [words.claim(i) for i in _distinct(wide)]
    elif problems or wide:
        told = _distinct((problems[0].insights if problems else []) + wide)
        origin = next((i for i in told if i.get("kind") == "root_cause"), None) or _lead_of(told)
        rest = [i for i in told if i is not origin]
        rest.sort(
            key=lambda i: (i.get("kind") != "error_cascade", i["evidence"].get("first_seen", ""))
        )
        claims = _unrepeated([_origin_claim(origin, words, clock)] + [words.claim(i) for i in rest])
        story.origin, story.spread = claims[0], claims[1:]
        services = problems[0].services() if problems else [origin.get("service") or "?"]
        start = problems[0].start if problems else origin["evidence"].get("first_seen")
        end = problems[0].end if problems else origin["evidence"].get("last_seen")
        first = origin.get("service") or services[0]
        reached = [s for s in services if s != first]
        story.gist = f"one problem, starting in {first} at {clock.time(start)}"
        story.headline += (
            f" One problem, {clock.between(start, end)} ({span(seconds_between(start, end))}): "
            f"it started in {first}" + (f" and reached {names(reached)}." if reached else ".")
        )
        seen: set[str] = set()
        for insight in [origin, *rest]:
            suggestion = insight.get("suggestion")
            if suggestion and suggestion not in seen:
                seen.add(suggestion)
                story.actions.append(suggestion)
    else:
        story.gist = "no problems found"
        story.headline += " Nothing in this window stands out as a problem."
    shown = [i for p in problems for i in _distinct(p.insights)] + _distinct(wide)
    for insight in shown:
        event = words.event(insight)
        if event:
            story.events.append(event)
    if not story.events:
        story.events = _error_line_events(data.get("logs", []), clock)
    if mode == "performance":
        for op in data.get("summary", {}).get("slowest_operations", [])[:5]:
            story.events.append(
                Event(
                    op["timestamp"],
                    clock.time(op["timestamp"]),
                    op["service"],
                    f"{op.get('request_type') or 'operation'} took {latency(op.get('duration_ms'))}: {op.get('message', '')}",
                )
            )
    return story


def _origin_claim(insight: dict[str, Any], words: _Insights, clock: Clock) -> Claim:
    """Where a single problem started: the root-cause service and its own first failure."""
    if insight.get("kind") != "root_cause":
        return words.claim(insight, lead=True)
    claim = words.claim(insight)
    service = insight.get("service") or "?"
    claim.then = _root_cause_sentence(insight, "It") + "."
    claim.text = f"{service} failed first ({clock.time(claim.time)})"
    return claim


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


# ----- conversation ----------------------------------------------------------------------


def _conversation(data: dict[str, Any], link: _Linker) -> Story:
    cid = str(data.get("conversation_id", ""))
    meta = data.get("metadata", {})
    metrics = data.get("metrics", {})
    timeline = data.get("timeline", [])
    services = meta.get("services", [])
    first, last = meta.get("first_activity"), meta.get("last_activity")
    clock = Clock(first)
    query = _id_query(services, "conversation_id", cid)
    errors = [e for e in timeline if e.get("level") in ("error", "fatal")]
    failed_turns = len({e.get("correlation_id") for e in errors if e.get("correlation_id")})
    models = names(meta.get("models", [])) or "no recorded model"
    headline = (
        f"Conversation {cid} ({names(meta.get('workspace_ids', [])) or 'no workspace'}, user "
        f"{names(meta.get('user_ids', [])) or 'unknown'}): {plural(meta.get('turns', 0), 'turn')} "
        f"with {models} over {span(seconds_between(first, last))}"
    )
    if metrics:
        headline += (
            f", {plural(int(metrics.get('total_tokens', 0)), 'token')} costing "
            f"{money(metrics.get('total_cost'))}"
            + ("" if metrics.get("cost_complete", True) else " or more (some models unpriced)")
        )
    headline += f"; {plural(failed_turns, 'turn')} failed." if failed_turns else "; no turn failed."
    story = Story(
        title=f"Conversation {cid} · {clock.window(first, last)}",
        headline=headline,
        gist=f"{plural(meta.get('turns', 0), 'turn')}, {plural(failed_turns, 'failed turn')}",
    )
    if errors:
        first_error = errors[0]
        story.origin = Claim(
            f"{first_error['service']} failed first ({clock.time(first_error['timestamp'])})",
            plural(sum(1 for e in errors if e["service"] == first_error["service"]), "error line"),
            first_error["message"],
            link(query, first_error["timestamp"]),
            time=first_error["timestamp"],
            service=first_error["service"],
        )
        by_service: dict[str, list[dict[str, Any]]] = {}
        for event in errors:
            by_service.setdefault(event["service"], []).append(event)
        for service in sorted(by_service, key=lambda s: (by_service[s][0]["timestamp"], s)):
            if service == first_error["service"]:
                continue
            events = by_service[service]
            story.spread.append(
                Claim(
                    f"{service} failed after it ({clock.time(events[0]['timestamp'])})",
                    plural(len(events), "error line"),
                    events[0]["message"],
                    link(query, events[0]["timestamp"]),
                    time=events[0]["timestamp"],
                    service=service,
                )
            )
    if metrics:
        story.facts.append(
            Claim(
                f"{plural(int(metrics.get('total_requests', 0)), 'model request')} used "
                f"{number(metrics.get('prompt_tokens', 0))} prompt and "
                f"{number(metrics.get('completion_tokens', 0))} completion tokens; responses took "
                f"{latency((metrics.get('average_response_time') or 0) * 1000)} on average, "
                f"{latency((metrics.get('p95_response_time') or 0) * 1000)} at p95; "
                f"{percent(metrics.get('error_rate', 0))} of requests failed",
                clock.between(first, last),
                link=link(query, first, last),
                time=first,
            )
        )
        for item in metrics.get("unpriced_models", []):
            story.actions.append(
                f"Add a price for {item['model']} ({plural(int(item['tokens']), 'token')} "
                "unpriced) to the price table."
            )
    if errors:
        story.actions.insert(
            0,
            f"Open the first failed turn ({errors[0].get('correlation_id')}) "
            "with /api/v1/ai_logs/correlate to see which hop failed.",
        )
    for event in timeline:
        if event.get("level") in ("error", "fatal", "warn") or event.get("tokens") is not None:
            text = event["message"]
            if event.get("tokens") is not None:
                text += f" ({plural(int(event['tokens']), 'token')}, {event.get('model', '?')})"
            story.events.append(
                Event(event["timestamp"], clock.time(event["timestamp"]), event["service"], text)
            )
    return story


# ----- workspace -------------------------------------------------------------------------


def _workspace(data: dict[str, Any], link: _Linker) -> Story:
    ws = str(data.get("workspace_id", ""))
    first, last = data.get("first_activity"), data.get("last_activity")
    clock = Clock(first)
    costs = data.get("cost_breakdown") or {}
    headline = (
        f"Workspace {ws}: {plural(int(data.get('total_requests', 0)), 'request')} in "
        f"{plural(int(data.get('total_conversations', 0)), 'conversation')} by "
        f"{plural(int(data.get('total_users', 0)), 'user')}, "
        f"{plural(int(data.get('total_tokens', 0)), 'token')}"
        + (f" costing {money(costs.get('total_cost'))}" if costs else "")
        + f"; {plural(int(data.get('failed_requests', 0)), 'request')} failed"
        f" ({plural(int(data.get('error_count', 0)), 'error line')})."
    )
    story = Story(
        title=f"Workspace {ws} · {clock.window(first, last)}",
        headline=headline,
        gist=f"{plural(int(data.get('error_count', 0)), 'error line')}",
    )
    patterns = data.get("top_error_patterns", [])
    claims = []
    for pattern in patterns:
        services = pattern.get("services", [])
        claims.append(
            Claim(
                f"“{pattern.get('pattern')}” from {names(services) or '?'}",
                f"{plural(int(pattern['count']), 'line')}, "
                f"{clock.between(pattern.get('first_seen'), pattern.get('last_seen'))}",
                pattern.get("sample"),
                link(
                    _id_query(services, "workspace_id", ws),
                    pattern.get("first_seen"),
                    pattern.get("last_seen"),
                ),
                time=pattern.get("first_seen"),
                service=services[0] if services else None,
                count=pattern["count"],
            )
        )
    if claims:
        story.origin, story.spread = claims[0], claims[1:]
    if data.get("average_response_time") is not None:
        story.facts.append(
            Claim(
                f"Responses took {latency(data['average_response_time'] * 1000)} on average, "
                f"{latency((data.get('p95_response_time') or 0) * 1000)} at p95",
            )
        )
    for hour in data.get("peak_usage_times", []):
        story.facts.append(
            Claim(
                f"Busiest hour from {clock.time(hour['hour'])}: {plural(int(hour['requests']), 'request')}",
                time=hour["hour"],
            )
        )
    if costs:
        by_model = names(f"{m} {money(v)}" for m, v in costs.get("by_model", {}).items())
        story.facts.append(Claim(f"Cost by model: {by_model or 'none'}"))
        for item in costs.get("unpriced_models", []):
            story.actions.append(
                f"Add a price for {item['model']} ({plural(int(item['tokens']), 'token')} "
                "unpriced) to the price table."
            )
    if patterns:
        story.actions.insert(
            0,
            f'Start with "{patterns[0].get("pattern")}" '
            f"({plural(int(patterns[0]['count']), 'line')}); it is the most frequent error.",
        )
    for claim in claims:
        if claim.time:
            story.events.append(
                Event(
                    claim.time,
                    clock.time(claim.time),
                    claim.service or "-",
                    claim.text,
                    claim.count,
                    claim.link,
                )
            )
    return story


_BUILDERS: dict[str, Callable[[dict[str, Any], _Linker], Story]] = {
    "query": _query,
    "correlation": _correlation,
    "conversation": _conversation,
    "workspace": _workspace,
}
KINDS = tuple(_BUILDERS)


def build_story(
    kind: str, data: dict[str, Any], *, grafana_url: str | None = None, loki_uid: str | None = None
) -> Story:
    story = _BUILDERS[kind](data, _Linker(grafana_url, loki_uid))
    story.events.sort(key=lambda e: (_order(e.time), e.service, e.text))
    return story


def _order(stamp: str) -> int:
    try:
        return instant_ns(stamp)
    except ValueError:
        return 0
