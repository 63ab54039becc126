"""From a structured answer to a story: headline, origin, spread, actions and events.

Each kind has one builder. Claims are ordered the way a responder reads: where it started first
(the failing hop, or the top-ranked insight), then how it spread, then the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import instant_ns
from analyzer.narrate.explore import explore_url
from analyzer.sources import logql

MINUTE_NS = 60 * 1_000_000_000


@dataclass(slots=True)
class Claim:
    text: str
    count: int | None = None
    time: str | None = None
    sample: str | None = None
    link: str | None = None
    service: str | None = None


@dataclass(slots=True)
class Event:
    time: str
    service: str
    text: str
    count: int | None = None
    link: str | None = None


@dataclass(slots=True)
class Story:
    title: str
    headline: str
    origin: Claim | None = None
    spread: list[Claim] = field(default_factory=list)
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


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


# ----- correlation -----------------------------------------------------------------------


def _correlation(data: dict[str, Any], link: _Linker) -> Story:
    cid = str(data.get("correlation_id", ""))
    nodes = {n["service"]: n for n in data.get("request_flow", {}).get("nodes", [])}
    order = [s["service"] for s in data.get("service_timeline", [])]
    total = data.get("total_duration_ms", 0)
    failing = data.get("failing_hop")

    def query_for(service: str) -> str:
        node = nodes.get(service, {})
        logged_by = node.get("blamed_by", [service]) if node.get("inferred") else [service]
        return _id_query(logged_by, "correlation_id", cid)

    path = " → ".join(n["service"] for n in data.get("critical_path", [])) or "none"
    if failing:
        headline = (
            f"Request {cid} failed at {failing}. It passed through "
            f"{' → '.join(order)} in {_num(total)} ms (critical path {path})."
        )
    else:
        headline = (
            f"Request {cid} completed in {_num(total)} ms across {len(order)} services "
            f"({' → '.join(order)}); critical path {path}."
        )
    story = Story(title=f"Request {cid}", headline=headline)
    if failing and failing in nodes:
        node = nodes[failing]
        if node.get("inferred"):
            callers = ", ".join(node.get("blamed_by", [])) or "its caller"
            text = (
                f"It started at {failing}, which wrote no line for this request: {callers} "
                f"could not get an answer from it."
            )
        else:
            text = (
                f"It started at {failing}: {node.get('errors', 0)} error line(s), the first "
                f"at {node.get('first_error_at')}."
            )
        story.origin = Claim(
            text,
            node.get("errors") or len(node.get("blamed_by", [])) or 1,
            node.get("first_error_at"),
            node.get("first_error"),
            link(query_for(failing), node.get("first_error_at")),
            failing,
        )
    failed_after = sorted(
        (n for n in nodes.values() if n["status"] != "ok" and n["service"] != failing),
        key=lambda n: (n.get("first_error_at", ""), n["service"]),
    )
    for node in failed_after:
        story.spread.append(
            Claim(
                f"{node['service']} then reported the failure ({node['errors']} error line(s), "
                f"status {node['status']}).",
                node["errors"],
                node.get("first_error_at"),
                node.get("first_error"),
                link(query_for(node["service"]), node.get("first_error_at")),
                node["service"],
            )
        )
    for item in data.get("bottlenecks", []):
        node = nodes.get(item["service"], {})
        story.facts.append(
            Claim(
                f"{item['service']} spent {_num(item['self_ms'])} ms of {_num(total)} ms in its own "
                f"work ({round(item['share'] * 100)}%).",
                node.get("lines"),
                node.get("start"),
                None,
                link(query_for(item["service"]), node.get("start")),
                item["service"],
            )
        )
    story.actions = list(data.get("recommendations", []))
    for span in data.get("service_timeline", []):
        story.events.append(
            Event(
                span["start"],
                span["service"],
                f"{span['service']} starts ({span['lines']} lines, "
                f"{_num(span['duration_ms'])} ms, {span['status']})",
                None,
            )
        )
    for error in data.get("errors", []):
        story.events.append(
            Event(
                error["timestamp"],
                error["service"],
                f"{error['level']}: {error['message']}",
                1,
                link(query_for(error["service"]), error["timestamp"]),
            )
        )
    return story


# ----- query (/query body) ---------------------------------------------------------------


def _insight_claim(insight: dict[str, Any], link: _Linker) -> Claim:
    evidence = insight.get("evidence", {})
    services = evidence.get("services") or ([insight["service"]] if insight.get("service") else [])
    samples = evidence.get("samples") or []
    query = evidence.get("logql")
    if not query and samples:
        query = f"{logql.selector(sorted(services))} |= {logql.quote(samples[0][:80])}"
    where = f" in {insight['service']}" if insight.get("service") else ""
    return Claim(
        f"{insight.get('title', insight.get('kind', 'finding'))}{where} "
        f"({insight.get('severity', 'info')}, confidence {insight.get('confidence', 0)}).",
        evidence.get("count"),
        evidence.get("first_seen"),
        samples[0] if samples else None,
        link(query, evidence.get("first_seen"), evidence.get("last_seen")),
        insight.get("service"),
    )


def _query(data: dict[str, Any], link: _Linker) -> Story:
    meta = data.get("metadata", {})
    insights = data.get("insights", [])
    window = meta.get("time_range", {})
    services = meta.get("services_queried", [])
    headline = (
        f"{str(meta.get('query_mode', 'troubleshoot')).capitalize()} analysis of "
        f"{_num(meta.get('total_logs', len(data.get('logs', []))))} lines from "
        f"{len(services)} service(s) between {window.get('start', '?')} and "
        f"{window.get('end', '?')}: {len(insights)} finding(s)."
    )
    story = Story(title="Log analysis", headline=headline)
    claims = [_insight_claim(i, link) for i in insights]
    if claims:
        story.origin, story.spread = claims[0], claims[1:]
    seen: set[str] = set()
    for insight in insights:
        suggestion = insight.get("suggestion")
        if suggestion and suggestion not in seen:
            seen.add(suggestion)
            story.actions.append(suggestion)
    for claim in claims:
        if claim.time:
            story.events.append(
                Event(claim.time, claim.service or "-", claim.text, claim.count, claim.link)
            )
    for line in data.get("logs", []):
        if str(line.get("level", "")).lower() in ("error", "fatal") and line.get("timestamp"):
            story.events.append(
                Event(
                    line["timestamp"],
                    line.get("service", "-"),
                    f"{line['level']}: {line.get('message', '')}",
                    line.get("count"),
                )
            )
    return story


# ----- conversation ----------------------------------------------------------------------


def _conversation(data: dict[str, Any], link: _Linker) -> Story:
    cid = str(data.get("conversation_id", ""))
    meta = data.get("metadata", {})
    metrics = data.get("metrics", {})
    timeline = data.get("timeline", [])
    services = meta.get("services", [])
    first, last = meta.get("first_activity"), meta.get("last_activity")
    query = _id_query(services, "conversation_id", cid)
    headline = (
        f"Conversation {cid} in {', '.join(meta.get('workspace_ids', [])) or '?'} by "
        f"{', '.join(meta.get('user_ids', [])) or '?'}: {meta.get('turns', 0)} turn(s) "
        f"with {', '.join(meta.get('models', [])) or 'no model'} from {first} to {last}."
    )
    story = Story(title=f"Conversation {cid}", headline=headline)
    errors = [e for e in timeline if e.get("level") in ("error", "fatal")]
    if errors:
        first_error = errors[0]
        story.origin = Claim(
            f"Its first failure came from {first_error['service']} at {first_error['timestamp']}.",
            sum(1 for e in errors if e["service"] == first_error["service"]),
            first_error["timestamp"],
            first_error["message"],
            link(query, first_error["timestamp"]),
            first_error["service"],
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
                    f"{service} then logged {len(events)} error line(s).",
                    len(events),
                    events[0]["timestamp"],
                    events[0]["message"],
                    link(query, events[0]["timestamp"]),
                    service,
                )
            )
    if metrics:
        sample = timeline[0]["message"] if timeline else None
        story.facts.append(
            Claim(
                f"{_num(metrics.get('total_tokens', 0))} tokens over {metrics.get('total_requests', 0)}"
                f" request(s) cost {metrics.get('total_cost', 0)} USD"
                + (
                    ""
                    if metrics.get("cost_complete", True)
                    else " (incomplete: some models unpriced)"
                )
                + f"; error rate {round(metrics.get('error_rate', 0) * 100, 1)}%, average response "
                f"{metrics.get('average_response_time')} s, p95 {metrics.get('p95_response_time')} s.",
                metrics.get("total_requests"),
                first,
                sample,
                link(query, first, last),
                None,
            )
        )
        for item in metrics.get("unpriced_models", []):
            story.actions.append(
                f"Add a price for {item['model']} ({_num(item['tokens'])} tokens "
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
                text += f" ({_num(event['tokens'])} tokens, {event.get('model', '?')})"
            story.events.append(Event(event["timestamp"], event["service"], text, None))
    return story


# ----- workspace -------------------------------------------------------------------------


def _workspace(data: dict[str, Any], link: _Linker) -> Story:
    ws = str(data.get("workspace_id", ""))
    first, last = data.get("first_activity"), data.get("last_activity")
    models = data.get("models_used", {})
    headline = (
        f"Workspace {ws}: {_num(data.get('total_requests', 0))} request(s) in "
        f"{data.get('total_conversations', 0)} conversation(s), "
        f"{_num(data.get('total_tokens', 0))} tokens, {data.get('error_count', 0)} error "
        f"line(s) between {first} and {last}."
    )
    story = Story(title=f"Workspace {ws}", headline=headline)
    patterns = data.get("top_error_patterns", [])
    claims = []
    for pattern in patterns:
        services = pattern.get("services", [])
        claims.append(
            Claim(
                f"{pattern['count']} error line(s) from {', '.join(services) or '?'} match "
                f'"{pattern.get("pattern")}".',
                pattern["count"],
                pattern.get("first_seen"),
                pattern.get("sample"),
                link(
                    _id_query(services, "workspace_id", ws),
                    pattern.get("first_seen"),
                    pattern.get("last_seen"),
                ),
                services[0] if services else None,
            )
        )
    if claims:
        story.origin, story.spread = claims[0], claims[1:]
    for hour in data.get("peak_usage_times", []):
        story.facts.append(
            Claim(
                f"Busy hour {hour['hour']}: {hour['requests']} request(s).",
                hour["requests"],
                hour["hour"],
                None,
                None,
                None,
            )
        )
    costs = data.get("cost_breakdown")
    if costs:
        by_model = ", ".join(f"{m} {v}" for m, v in costs.get("by_model", {}).items())
        story.facts.append(
            Claim(
                f"Cost {costs.get('total_cost')} USD ({by_model or 'none'}).",
                sum(models.values()) if models else 0,
                first,
                None,
                None,
                None,
            )
        )
        for item in costs.get("unpriced_models", []):
            story.actions.append(
                f"Add a price for {item['model']} ({_num(item['tokens'])} tokens "
                "unpriced) to the price table."
            )
    if patterns:
        story.actions.insert(
            0,
            f'Start with "{patterns[0].get("pattern")}" '
            f"({patterns[0]['count']} lines); it is the most frequent error.",
        )
    for claim in claims:
        if claim.time:
            story.events.append(
                Event(claim.time, claim.service or "-", claim.text, claim.count, claim.link)
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
    story.events.sort(key=lambda e: (e.time, e.service, e.text))
    return story
