"""`ai-logs patterns` for a person: findings grouped by what they are, each group ranked.

Root causes first, in time order (each with the services its failures reached); then the named
catalog patterns, the bursts, the messages new to the window and the errors no pattern names,
each most lines first. Times are short (the date is in the header), one finding takes a line or
two, and the LogQL that reopens a finding, its confidence figure and its suggestion come only
with `--verbose`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.cli.text import clip, window_header
from analyzer.narrate.insight_claims import label, onsets
from analyzer.narrate.phrasing import Clock, humanize, likelihood, names, plural

Item = dict[str, Any]
SECTIONS: tuple[tuple[str, str, Callable[[Item], Any]], ...] = (
    # (kind, heading, order within the section)
    ("root_cause", "Root causes, in time order", lambda i: i["evidence"]["first_seen"]),
    ("pattern", "Named patterns, most lines first", lambda i: -i["evidence"]["count"]),
    ("burst", "Bursts, most lines first", lambda i: -i["evidence"]["count"]),
    ("anomaly", "Messages new to this window, most lines first", lambda i: -i["evidence"]["count"]),
    ("error_summary", "Errors no pattern names, most lines first", lambda i: -i["evidence"]["count"]),
)


def render_patterns(
    insights: list[Item],
    window: dict[str, Any],
    summary: dict[str, Any],
    *,
    source: str | None = None,
    top: int = 5,
    verbose: bool = False,
    asked_for: list[str] | None = None,
) -> str:
    """`asked_for`: the services the command was limited to."""
    clock = Clock(window.get("start"))
    services = list(summary.get("by_service") or {})
    scope = (
        f"{plural(int(summary.get('total_records', 0)), 'line')} from "
        f"{plural(len(services), 'service')}, {plural(int(summary.get('error_count', 0)), 'error')}"
    )
    out = [*window_header("patterns", window, source), scope, ""]
    shown = 0
    for kind, heading, order in SECTIONS:
        members = sorted((i for i in insights if i.get("kind") == kind), key=order)
        if not members:
            continue
        more = f", {top} of {len(members)}" if len(members) > top else ""
        out.append(f"{heading} ({len(members)}{more}):" if not more else f"{heading} ({more[2:]}):")
        for item in members[:top]:
            out += _finding(item, clock, verbose)
            shown += 1
        out.append("")
    if not shown and not int(summary.get("total_records", 0)):
        asked = f" from {names(asked_for)}" if asked_for else ""
        out[-2:] = [f"No line{asked} in this window.", ""]
    elif not shown:
        out += ["Nothing stands out: no root cause, named pattern, burst or new message.", ""]
    elif not verbose:
        out.append("--verbose adds confidence figures, suggestions and the LogQL of each finding.")
    return "\n".join(out) + "\n"


def _finding(item: Item, clock: Clock, verbose: bool) -> list[str]:
    evidence = item.get("evidence") or {}
    when = clock.between(evidence.get("first_seen"), evidence.get("last_seen"))
    kind = item.get("kind")
    service = item.get("service") or "-"
    count = plural(int(evidence.get("count") or 0), "line")
    samples = evidence.get("samples") or []
    if kind == "root_cause":
        lines = [f"  {when}  {service}  {_cause_words(item)}"]
        reached = [s for s, _ in onsets(item) if s != service]
        if reached:
            lines.append(f"      failures reached {names(reached)}")
    elif kind == "pattern":
        lines = [f"  {humanize(str(evidence.get('pattern_type')))}: {count}, {when}, in {names(evidence.get('services') or [])}"]
    elif kind == "burst":
        lines = [f"  {when}  {label(item).removeprefix('a burst of ')}, {count}"]
    elif kind == "anomaly":
        template = evidence.get("template") or (samples[0] if samples else "")
        lines = [f"  {clip(template, 110)}: {count} in {names(evidence.get('services') or [])}, from {clock.time(evidence.get('first_seen'))}"]
        samples = []
    else:
        lines = [f"  {service}: {count}, {when}"]
    if samples:
        lines.append(f"      e.g. {clip(samples[0])}")
    if verbose:
        lines.append(f"      confidence {item.get('confidence')}; {item.get('suggestion') or ''}".rstrip("; "))
        if evidence.get("logql"):
            lines.append(f"      logql: {evidence['logql']}")
    return lines


def _cause_words(item: Item) -> str:
    evidence = item.get("evidence") or {}
    if evidence.get("cannot_tell"):
        return "the only service failing: its logs alone cannot tell a cause from a symptom"
    accused = evidence.get("accused_by") or {}
    who = names(f"{s} ({n:,})" for s, n in sorted(accused.items(), key=lambda kv: -kv[1]))
    told = likelihood(float(item.get("confidence") or 0))
    if evidence.get("silent"):
        named = int(evidence.get("named_by_errors") or 0)
        callers = names(sorted(evidence.get("named_by") or accused))
        return f"{told}; no logs of its own, named by {plural(named, 'error')}" + (f" from {callers}" if callers else "")
    own = int(evidence.get("own_failures") or 0)
    text = f"{told}; {plural(own, 'error')} of its own"
    return text + (f"; {who} {'names' if len(accused) == 1 else 'name'} it" if who else "")
