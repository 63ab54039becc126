"""One insight of a /query answer in words: a claim with its evidence, and a timeline event.

A root cause says how sure it is in words, who named it, and, when it has no logs of its own or
is the only service failing, says so. A cascade tells the order in which services failed (the
profile's onsets); nothing else here states an order. Bursts are told as rates (`40 a minute`),
whatever the bucket width.
"""

from __future__ import annotations

from typing import Any

from analyzer.narrate.phrasing import (
    Clock,
    humanize,
    likelihood,
    names,
    plural,
    rate,
    seconds_between,
    span,
)
from analyzer.narrate.story import Claim, Event, Linker, capital
from analyzer.sources import logql

# Kinds that describe a whole failure (who caused it, how it travelled) rather than one symptom.
SUMMARY_KINDS = ("root_cause", "error_cascade")
# Kinds `label` words itself (and may start a sentence with a capital).
OWN_PHRASES = ("pattern", "burst", "anomaly", "error_summary", "latency")


def label(insight: dict[str, Any]) -> str:
    """What the insight saw, as a noun phrase: `connection refused in worker and api`."""
    evidence = insight.get("evidence", {})
    kind = insight.get("kind", "")
    service = insight.get("service") or ""
    services = names(([service] if service else []) + list(evidence.get("services") or []))
    if kind == "pattern" and evidence.get("pattern_type"):
        return f"{humanize(evidence['pattern_type'])} in {services}"
    if kind == "burst":
        bucket = float(evidence.get("bucket_seconds") or 60)
        what = "errors and warnings" if evidence.get("dimension") == "service" else "one message"
        peak = float(evidence.get("peak_per_bucket") or 0)
        usual = float(evidence.get("baseline_per_bucket") or 0)
        usual_text = f"a usual {rate(usual, bucket)}" if usual else "none before"
        return f"a burst of {what} in {service or services} (up to {rate(peak, bucket)} against {usual_text})"
    if kind == "anomaly":
        return f"a kind of message new to this window in {service or services}"
    if kind == "error_summary":
        return f"errors in {service or services} that match no known pattern"
    if kind == "latency":
        return f"slow responses in {service or services}"
    return str(insight.get("title") or humanize(kind) or "a finding")


def accusers(insight: dict[str, Any]) -> list[str]:
    accused_by = (insight.get("evidence") or {}).get("accused_by") or {}
    return [name for name, _ in sorted(accused_by.items(), key=lambda kv: (-kv[1], kv[0]))]


def root_cause_sentence(insight: dict[str, Any], subject: str | None = None) -> str:
    """`redis is very likely the root cause: api (44 lines) and worker (26) name it or call it`;
    a cause with no logs of its own, or one that cannot be told from a symptom, says so."""
    evidence = insight.get("evidence", {})
    service = insight.get("service") or "?"
    who = subject or service
    if evidence.get("cannot_tell"):
        return (
            f"{who} logged every failure, and its logs alone cannot tell a cause from a symptom: "
            f"{service} may have failed on its own or been failed by something it calls"
        )
    word = likelihood(float(insight.get("confidence") or 0))
    accused_by = evidence.get("accused_by") or {}
    named = [
        f"{name} ({plural(int(accused_by[name]), 'line')})" if i == 0 else f"{name} ({int(accused_by[name]):,})"
        for i, name in enumerate(accusers(insight))
    ]
    if evidence.get("silent"):
        named_by = int(evidence.get("named_by_errors") or 0)
        verb = "names it" if len(named) == 1 else "name it"
        because = f": it has no logs of its own, and {names(named)} {verb}" if named else (
            f": it has no logs of its own, and {plural(named_by, 'error')} name it"
        )
    else:
        verb = "names it or calls it" if len(named) == 1 else "name it or call it"
        because = f": {names(named)} {verb}" if named else ""
    if word == "possibly":
        return f"{who} may be the root cause{because}"
    return f"{who} is {word} the root cause{because}"


def onsets(insight: dict[str, Any]) -> list[tuple[str, str]]:
    """(service, first failure) in the order services failed: a root cause's or a cascade's."""
    evidence = insight.get("evidence") or {}
    if insight.get("kind") == "root_cause":
        return [(o["service"], o["first_failure"]) for o in evidence.get("onsets") or []]
    return [(o["service"], o["first_error"]) for o in evidence.get("order") or [] if o.get("first_error")]


def order_sentence(cause: dict[str, Any], clock: Clock) -> str | None:
    """The order in which services failed, told so it never contradicts the cause: the cause
    first when it failed first; otherwise who noticed first and when the cause logged its own
    first error; a cause with no logs of its own is not in the order at all."""
    order = onsets(cause)
    service = cause.get("service")
    if not order:
        return None
    at = {s: t for s, t in order}
    listed = [f"{s} ({clock.time(t)})" for s, t in order]
    if cause.get("evidence", {}).get("cannot_tell"):
        return None
    if order[0][0] == service:
        if len(order) == 1:
            return None
        return f"{service} failed first ({clock.time(order[0][1])}), then {names(listed[1:])}"
    first, first_at = order[0]
    if service not in at:  # a cause with no logs of its own
        rest = f", then {names(listed[1:])}" if len(listed) > 1 else ""
        return f"Failures began in {first} ({clock.time(first_at)}){rest}"
    noticed = f"{first} failed first ({clock.time(first_at)})"
    if first in accusers(cause):
        noticed += f" and its errors blame {service}, whose own first error came at {clock.time(at[service])}"
    else:
        noticed += f"; {service}'s own first error came at {clock.time(at[service])}"
    later = [f"{s} ({clock.time(t)})" for s, t in order[1:] if s != service]
    if later:
        noticed += f"; failures then reached {names(later)}"
    return noticed


def cascade_sentence(insight: dict[str, Any], cause: str | None = None) -> str:
    """The services a cascade reached, in the order they failed; told after its root cause."""
    evidence = insight.get("evidence", {})
    order = [o["service"] for o in evidence.get("order", [])] or list(evidence.get("services") or [])
    if len(order) < 2:
        return capital(label(insight))
    if cause and order[0] != cause:
        return f"Failures reached {names(order)}, in that order"
    first, rest = order[0], order[1:]
    return f"{names(rest)} failed after {first}"


def cascade_reason(insight: dict[str, Any]) -> str | None:
    """How the cascade knows the later services depend on the first: their lines name it."""
    evidence = insight.get("evidence", {})
    order = [o["service"] for o in evidence.get("order", [])]
    named = (evidence.get("references") or {}).get(order[0]) if order else None
    if not named:
        return None
    whose = "their" if len(order) > 2 else "its"
    return f"{named:,} of {whose} lines name {order[0]}."


def detail(insight: dict[str, Any]) -> str:
    text = f"{insight.get('kind', 'finding')}, confidence {insight.get('confidence', 0)}"
    why = (insight.get("evidence") or {}).get("why")
    return f"{text}; {why}" if why else text


def evidence_text(insight: dict[str, Any], clock: Clock, noun: str = "line") -> str:
    evidence = insight.get("evidence", {})
    parts = []
    if evidence.get("count") is not None:
        parts.append(plural(int(evidence["count"]), noun))
    when = span_text(evidence, clock)
    if when:
        parts.append(when)
    return ", ".join(parts)


def span_text(evidence: dict[str, Any], clock: Clock) -> str:
    """`08:11:15-08:19:00` (with an en dash), or `at 08:11:15` for one moment; empty without a first time."""
    first, last = evidence.get("first_seen"), evidence.get("last_seen")
    if not first:
        return ""
    between = clock.between(first, last)
    return ("at " if between == clock.time(first) else "") + between


class InsightWords:
    """Claims, events and links for the insights of one /query answer."""

    def __init__(self, link: Linker, clock: Clock) -> None:
        self.link, self.clock = link, clock

    def claim(self, insight: dict[str, Any], *, lead: bool = False, cause: str | None = None) -> Claim:
        """`lead`: the claim opens a problem with no root cause (`It began at ...`); `cause`:
        the problem's root cause, which a cascade's words must agree with."""
        evidence = insight.get("evidence", {})
        kind = insight.get("kind")
        first = evidence.get("first_seen")
        then = None
        if kind == "root_cause":
            text, noun = root_cause_sentence(insight), "line"  # a service name keeps its case
        elif kind == "error_cascade":
            text, noun = cascade_sentence(insight, cause), "error"
            then = cascade_reason(insight)
        elif lead:
            text, noun = f"It began at {self.clock.time(first)} with {label(insight)}", "line"
        elif kind in OWN_PHRASES:
            text, noun = capital(label(insight)), "line"
        else:  # the analysis's own title: its first word may be a service name, kept as written
            text, noun = label(insight), "line"
        if kind == "error_cascade" and evidence.get("count") is not None:
            seconds = seconds_between(first, evidence.get("last_seen"))
            told = f"{plural(int(evidence['count']), noun)} in {span(seconds)}, from {self.clock.time(first)}"
        elif lead and kind not in SUMMARY_KINDS:
            last = evidence.get("last_seen")
            until = "" if self.clock.time(last or first) == self.clock.time(first) else f" until {self.clock.time(last)}"
            count = evidence.get("count")
            told = (plural(int(count), noun) if count is not None else "") + until
        elif (
            kind == "root_cause" and evidence.get("accused_by") and not evidence.get("silent")
            and evidence.get("own_failures") is not None
        ):
            # the quoted sample is the cause's own line: its own count beside it, the callers'
            # lines (already named in the text) in the total
            told = plural(int(evidence["own_failures"]), "line") + " of its own"
            if evidence.get("count") is not None:
                told += f"; {int(evidence['count']):,} in all"
            when = span_text(evidence, self.clock)
            told += f", {when}" if when else ""
        else:
            told = evidence_text(insight, self.clock, noun)
        samples = evidence.get("samples") or []
        return Claim(
            text,
            told,
            samples[0] if samples else None,
            self.link(self.query(insight), first, evidence.get("last_seen")),
            then=then,
            detail=detail(insight),
            time=first,
            service=insight.get("service"),
            count=evidence.get("count"),
        )

    def query(self, insight: dict[str, Any]) -> str | None:
        evidence = insight.get("evidence", {})
        if evidence.get("silent"):  # no lines of its own: the lines that name it
            callers = sorted(evidence.get("named_by") or evidence.get("accused_by") or {})
            if callers:
                return f"{logql.selector(callers)} |= {logql.quote(str(insight.get('service')))}"
        if evidence.get("logql"):
            return str(evidence["logql"])
        services = evidence.get("services") or ([insight["service"]] if insight.get("service") else [])
        samples = evidence.get("samples") or []
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
            what = root_cause_sentence(insight).split(":")[0]
        elif kind == "error_cascade":
            what = "errors spread " + " → ".join(o["service"] for o in evidence.get("order", []))
        else:
            what = label(insight)
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


def distinct(insights: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding once: two insights that saw the same lines (a pattern and the anomaly of
    its template) are told once."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for insight in insights:
        evidence = insight.get("evidence", {})
        key = ((evidence.get("samples") or [""])[0], evidence.get("count"))
        if key[0] and key in seen:
            continue
        seen.add(key)
        out.append(insight)
    return out


def unrepeated(claims: list[Claim]) -> list[Claim]:
    """Each sample line quoted once: a later claim that saw the same line keeps only its figures."""
    quoted: set[str] = set()
    for claim in claims:
        if claim.sample in quoted:
            claim.sample = None
        elif claim.sample:
            quoted.add(claim.sample)
    return claims
