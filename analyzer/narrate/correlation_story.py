"""One request across services: where it failed, how the failure travelled back, where time went.

The origin is the failing hop; a hop that wrote no line of its own (managed Redis, a database, a
SaaS API) is told as such, with the callers that named it. The services that failed after it are
told in the order of their first error, each with the call that failed it.
"""

from __future__ import annotations

from typing import Any

from analyzer.narrate.phrasing import Clock, latency, names, percent, plural
from analyzer.narrate.story import Claim, Event, Linker, Story, id_query


def correlation_story(data: dict[str, Any], link: Linker) -> Story:
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
        return id_query(logged_by, "correlation_id", cid)

    path = " → ".join(n["service"] for n in data.get("critical_path", [])) or "none"
    route = " → ".join(order) or "no service"
    when = clock.window(timeline[0]["start"], max(s["end"] for s in timeline)) if timeline else "?"
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
        story.origin = _origin(nodes[failing], clock, link(query_for(failing), nodes[failing].get("first_error_at")))
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
        node = nodes.get(hop["service"], {})
        lines = (
            "no logs of its own" if node.get("silent")
            else "no line for this request" if node.get("inferred")
            else plural(hop["lines"], "line")
        )
        story.events.append(
            Event(
                hop["start"],
                clock.time(hop["start"]),
                hop["service"],
                f"starts; {latency(hop['duration_ms'])}, {lines}{status}",
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


def _origin(node: dict[str, Any], clock: Clock, link: str | None) -> Claim:
    failing = node["service"]
    at = node.get("first_error_at")
    if node.get("inferred"):
        callers = names(node.get("blamed_by", [])) or "its caller"
        named = int(node.get("named_by_errors") or len(node.get("blamed_by", [])) or 1)
        wrote = "has no logs of its own" if node.get("silent") else "wrote no line for this request"
        return Claim(
            f"It started at {failing}, which {wrote}: {callers} "
            f"could not get an answer from it ({clock.time(at)})",
            f"named by {plural(named, 'error line')}",
            node.get("first_error"),
            link,
            time=at,
            service=failing,
        )
    return Claim(
        f"It started at {failing} ({clock.time(at)})",
        plural(node.get("errors", 0), "error line"),
        node.get("first_error"),
        link,
        time=at,
        service=failing,
    )
