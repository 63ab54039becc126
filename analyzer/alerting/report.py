"""What the report page of an alert analysis shows, computed once by the worker and stored:
the error timeline of every service over the window, the request flow of the first failing
request (or which services' errors co-occur), and the narrative told for the alert.

Small and already aggregated, because the records themselves are not kept. Findings marked
`after_alert` (they began after the alert fired, see `scope.focus_on_alert`) are never its root
cause here: the narrative tells them last, as later events.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from analyzer.analysis.profile import TimeCounts, WindowProfile
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, format_timestamp, instant_ns

TIMELINE_MAX_BUCKETS = 60
TIMELINE_SERVICES = 10  # lanes; the quietest services beyond this are summed as "other"
# Bucket and tick widths a person reads without arithmetic.
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                43200, 86400)


def report_data(
    insights: Sequence[dict[str, Any]],
    profile: WindowProfile,
    evidence: list[LogRecord],
    *,
    start_ns: int,
    end_ns: int,
    alert_services: Sequence[str],
    flow_records: list[LogRecord] | None = None,
    known_services: Sequence[str] = (),
) -> dict[str, Any]:
    """`insights`: the stored answer's, in the alert's order; `profile`: the window's exact
    counts of every service (the alerting services' alone would hide the service an insight
    blames), drawn as the timeline; `evidence`: the lines the analysis kept, where the first
    failing request is found; `flow_records`: every service's lines of that request;
    `known_services` lets a peer that logged nothing for the request (a crashed cache) appear
    when a caller names it."""
    failing = first_failing_request(insights, alert_services, evidence)
    noisy = [Severity.WARN, Severity.ERROR, Severity.FATAL]
    firsts = {s: t for s in profile.services() if (t := profile.first(noisy, s)) is not None}
    return {
        "timeline": counts_timeline(
            profile.counts,
            start_ns,
            end_ns,
            firsts=firsts,
            root_cause=root_cause_service(insights),
            suspects=suspected_services(insights),
            alert_services=alert_services,
        ),
        "graph": correlation_graph(failing, flow_records, evidence, known_services=known_services),
    }


def _before_alert(insights: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in insights if not i.get("after_alert")]


def root_cause_service(insights: Sequence[dict[str, Any]]) -> str | None:
    """The service a root-cause insight names, else the top insight's service."""
    told = _before_alert(insights)
    for insight in told:
        if insight.get("kind") == "root_cause" and insight.get("service"):
            return str(insight["service"])
    return told[0].get("service") if told else None


def suspected_services(insights: Sequence[dict[str, Any]]) -> list[str]:
    """Every service a root-cause insight names, best first: a long window may hold several
    separate problems, each with its own cause."""
    named = [str(i["service"]) for i in _before_alert(insights) if i.get("kind") == "root_cause" and i.get("service")]
    return list(dict.fromkeys(named))


def nice_step(span_seconds: float, most: int) -> int:
    """The smallest readable width that cuts the span into at most `most` pieces."""
    for step in NICE_SECONDS:
        if span_seconds / step <= most:
            return step
    return math.ceil(span_seconds / most / 86400) * 86400


def error_timeline(
    records: Iterable[LogRecord],
    start_ns: int,
    end_ns: int,
    *,
    root_cause: str | None = None,
    suspects: Sequence[str] = (),
    alert_services: Sequence[str] = (),
    truncated: bool = False,
) -> dict[str, Any]:
    """`counts_timeline` of records at hand (each counted once, to the second)."""
    counts = TimeCounts(NS_PER_SECOND, 0)
    firsts: dict[str, int] = {}
    for r in records:
        if r.level >= Severity.WARN and start_ns <= r.timestamp_ns <= end_ns:
            counts.add(r.service, r.level, r.timestamp_ns)
            firsts[r.service] = min(r.timestamp_ns, firsts.get(r.service, r.timestamp_ns))
    return counts_timeline(
        counts, start_ns, end_ns, firsts=firsts, root_cause=root_cause, suspects=suspects,
        alert_services=alert_services, truncated=truncated,
    )


def counts_timeline(
    counts: TimeCounts,
    start_ns: int,
    end_ns: int,
    *,
    firsts: dict[str, int],
    root_cause: str | None = None,
    suspects: Sequence[str] = (),
    alert_services: Sequence[str] = (),
    truncated: bool = False,
) -> dict[str, Any]:
    """Error and warning counts per service in buckets of a round width aligned on the clock,
    from the window's counts (exact for the whole window, whatever its size).

    A lane per service that logged errors, plus the root-cause service and the other suspects
    whatever they logged (a cache that runs out of memory says so in a warning, then goes
    silent). Services in the order their first warning or error came (`firsts`), so where it
    started reads first."""
    step = nice_step(max(1, end_ns - start_ns) / NS_PER_SECOND, TIMELINE_MAX_BUCKETS)
    step_ns = step * NS_PER_SECOND
    first_ns = start_ns - start_ns % step_ns
    buckets = max(1, math.ceil((end_ns - first_ns) / step_ns))
    cells: list[tuple[str, Severity, int, int]] = []
    for (service, level), row in counts.cells.items():
        if level < Severity.WARN:
            continue
        for i, n in row.items():
            at = counts.bucket_start(i)
            if n and start_ns - counts.step_ns < at <= end_ns:
                cells.append((service, level, min(buckets - 1, max(0, (at - first_ns) // step_ns)), n))
    errors: Counter[str] = Counter()
    for service, level, _, n in cells:
        if level >= Severity.ERROR:
            errors[service] += n
    noisy = {service for service, _, _, _ in cells}
    causes = [s for s in dict.fromkeys([root_cause or "", *suspects]) if s]
    lanes = set(errors) | (noisy & set(causes))
    pinned = [s for s in dict.fromkeys([*causes, *alert_services]) if s in lanes]
    busiest = [s for s, _ in sorted(errors.items(), key=lambda item: (-item[1], item[0]))]
    shown = set(pinned + [s for s in busiest if s not in pinned][: max(0, TIMELINE_SERVICES - len(pinned))])
    series: dict[str, list[int]] = defaultdict(lambda: [0] * buckets)
    warnings: dict[str, list[int]] = defaultdict(lambda: [0] * buckets)
    lane_firsts: dict[str, int] = {}
    for service, level, index, n in cells:
        if service not in lanes:
            continue
        name = service if service in shown else "other"
        (series if level >= Severity.ERROR else warnings)[name][index] += n
        at = firsts.get(service, first_ns + index * step_ns)
        lane_firsts[name] = min(at, lane_firsts.get(name, at))
    order = sorted(lane_firsts, key=lambda s: (s == "other", lane_firsts[s], s))
    return {
        "start": format_timestamp(start_ns),
        "end": format_timestamp(end_ns),
        "bucket_start": format_timestamp(first_ns),
        "bucket_seconds": step,
        "buckets": buckets,
        "services": order,
        "series": {s: series[s] for s in order},
        "warnings": {s: warnings[s] for s in order},
        "first_line": {s: format_timestamp(lane_firsts[s]) for s in order},
        "root_cause": root_cause,
        "suspects": [s for s in causes if s != root_cause],
        "alert_services": list(alert_services),
        "total_errors": sum(errors.values()),
        "warning_only": sorted(noisy - lanes),
        "truncated": truncated,
    }


def correlation_graph(
    failing: str | None,
    flow_records: list[LogRecord] | None,
    errors: list[LogRecord],
    *,
    known_services: Sequence[str] = (),
) -> dict[str, Any]:
    """The request flow of the failing request when one carries a correlation id, else which
    services' errors co-occur (same minute), directed from the one that failed first."""
    from analyzer.analysis.correlate import request_flow

    if failing:
        records = flow_records if flow_records else [r for r in errors if r.correlation_id == failing]
        result = request_flow(records, failing, known_services=list(known_services)).to_dict()
        flow = result["request_flow"]
        if len(flow["nodes"]) > 1:
            return {
                "kind": "request_flow",
                "correlation_id": failing,
                "failing_hop": result.get("failing_hop"),
                "nodes": [
                    {"id": n["id"], "errors": n["errors"], "lines": n["lines"], "status": n["status"],
                     "inferred": n.get("inferred", False), "blamed_by": n.get("blamed_by", []),
                     **({"silent": True, "named_by_errors": n.get("named_by_errors", 0)}
                        if n.get("silent") else {})}
                    for n in flow["nodes"]
                ],
                "edges": [
                    {"source": e["source"], "target": e["target"], "failed": e["failed"],
                     "weight": e["calls"], "inferred_from": e.get("inferred_from")}
                    for e in flow["edges"]
                ],
            }
    return co_occurrence_graph(errors)


def first_failing_request(
    insights: Sequence[dict[str, Any]], alert_services: Sequence[str], errors: Sequence[LogRecord]
) -> str | None:
    """The correlation id of the first error line of the top insight's own span (the alert's
    incident, not an earlier one in the window), preferring the top insight's service or a line
    that names it (a cause with no logs of its own), then the alerting services, then any."""
    told = _before_alert(insights)
    top = told[0] if told else {}
    top_service = top.get("service")
    candidates = [r for r in errors if r.is_error and r.correlation_id]
    evidence = top.get("evidence") or {}
    try:
        lo = instant_ns(evidence["first_seen"]) - 60 * NS_PER_SECOND
        hi = instant_ns(evidence.get("last_seen") or evidence["first_seen"])
        during = [r for r in candidates if lo <= r.timestamp_ns <= hi]
        candidates = during or candidates
    except (KeyError, ValueError):
        pass
    alerting = set(alert_services)

    def names_top(r: LogRecord) -> bool:
        return bool(top_service) and (r.service == top_service or str(top_service) in r.message)

    for keep in (names_top, lambda r: r.service in alerting, lambda r: True):
        preferred = [r for r in candidates if keep(r)]
        if preferred:
            return min(preferred, key=lambda r: r.timestamp_ns).correlation_id
    return None


def co_occurrence_graph(records: list[LogRecord], bucket_seconds: int = 60) -> dict[str, Any]:
    """Services whose errors fall in the same minute, from the first to fail to the later ones,
    plus the dependencies with no logs of their own that the error lines name (`redis:6379`),
    each drawn from the services that name it."""
    from analyzer.analysis.dependencies import named_services

    errors = [r for r in records if r.is_error]
    first_error: dict[str, int] = {}
    buckets: dict[int, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    logging = {r.service for r in records}
    named: dict[str, Counter[str]] = defaultdict(Counter)  # silent dependency -> callers' lines
    for r in errors:
        first_error[r.service] = min(r.timestamp_ns, first_error.get(r.service, r.timestamp_ns))
        buckets[r.timestamp_ns // (bucket_seconds * NS_PER_SECOND)].add(r.service)
        counts[r.service] += 1
        for peer in named_services(r.message, r.fields, logging):
            if peer not in logging:
                named[peer][r.service] += 1
                first_error[peer] = min(r.timestamp_ns, first_error.get(peer, r.timestamp_ns))
    pairs: Counter[tuple[str, str]] = Counter()
    for names in buckets.values():
        ordered = sorted(names, key=lambda s: (first_error[s], s))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[(a, b)] += 1
    nodes = sorted(counts, key=lambda s: (first_error[s], s))
    silent = sorted(named, key=lambda s: (first_error[s], s))
    graph_nodes = [{"id": s, "errors": counts[s], "lines": counts[s], "status": "error"} for s in nodes]
    graph_nodes += [
        {"id": s, "errors": 0, "lines": 0, "status": "unreachable", "inferred": True, "silent": True,
         "named_by_errors": sum(named[s].values()), "blamed_by": sorted(named[s])}
        for s in silent
    ]
    edges = [{"source": a, "target": b, "failed": True, "weight": n} for (a, b), n in sorted(pairs.items())]
    edges += [
        {"source": caller, "target": s, "failed": True, "weight": n}
        for s in silent for caller, n in sorted(named[s].items())
    ]
    return {
        "kind": "co_occurrence",
        "correlation_id": None,
        "failing_hop": (silent or nodes)[0] if nodes or silent else None,  # what failed first
        "nodes": graph_nodes,
        "edges": edges,
    }


def alert_narrative(
    result: dict[str, Any],
    *,
    verbosity: str = "minimal",
    grafana_url: str | None = None,
    loki_uid: str | None = None,
) -> str:
    """The narrative of the alert's own incident, then what began after it fired and whether the
    window was cut: told from the stored answer, by the annotation and the report page alike."""
    from analyzer import narrate

    insights = [i for i in result.get("insights") or [] if isinstance(i, dict)]
    told = {**result, "insights": _before_alert(insights)}
    text = narrate.render("query", told, fmt="narrative", verbosity=verbosity,
                          grafana_url=grafana_url, loki_uid=loki_uid).strip()
    later = [i for i in insights if i.get("after_alert")]
    if later:
        # one line per later incident (its root cause), the rest counted
        named = [i for i in later if i.get("kind") == "root_cause"] or later[:3]
        lines = [f"- {_later_line(i)}" for i in named]
        if len(later) > len(named):
            rest = len(later) - len(named)
            lines.append(f"- ... and {rest} more finding{'' if rest == 1 else 's'} from after it fired.")
        text += "\n\nAfter the alert fired, not its cause:\n" + "\n".join(lines)
    window = (result.get("metadata") or {}).get("alert_window") or {}
    if window.get("capped"):
        text += (
            f"\n\nNote: the window was cut to {window.get('max_window')} from "
            f"{_clock(window.get('start'))} UTC; the alert had been firing until "
            f"{_clock(window.get('uncapped_end'))} UTC."
        )
    return text


def _later_line(insight: dict[str, Any]) -> str:
    title = str(insight.get("title") or insight.get("kind") or "a finding").rstrip(".")
    first = (insight.get("evidence") or {}).get("first_seen")
    return f"{title} (from {_clock(first)} UTC)." if first else f"{title}."


def _clock(text: str | None) -> str:
    if not text:
        return "?"
    try:
        moment = datetime.fromtimestamp(instant_ns(text) / NS_PER_SECOND, tz=UTC)
    except ValueError:
        return text
    return moment.strftime("%d %b %Y %H:%M:%S")
