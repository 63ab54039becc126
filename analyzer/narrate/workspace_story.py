"""A workspace's AI usage over a window: volume, cost, reliability, its first and its most
frequent errors, and its busiest hour when the window holds several."""

from __future__ import annotations

from typing import Any

from analyzer.narrate.phrasing import Clock, latency, money, names, plural
from analyzer.narrate.story import Claim, Event, Linker, Section, Story, id_query


def workspace_story(data: dict[str, Any], link: Linker) -> Story:
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
    error = data.get("first_error")
    if error:
        story.facts.append(
            Claim(
                f"The first error came at {clock.time(error['timestamp'])} from {error['service']}",
                sample=error.get("message"),
                link=link(id_query([error["service"]], "workspace_id", ws), error["timestamp"]),
                time=error["timestamp"],
                service=error["service"],
            )
        )
    patterns = data.get("top_error_patterns", [])
    frequent = Section("Most frequent errors")
    for pattern in patterns:
        services = pattern.get("services", [])
        frequent.claims.append(
            Claim(
                f"“{pattern.get('pattern')}” from {names(services) or '?'}",
                f"{plural(int(pattern['count']), 'line')}, "
                f"{clock.between(pattern.get('first_seen'), pattern.get('last_seen'))}",
                pattern.get("sample"),
                link(
                    id_query(services, "workspace_id", ws),
                    pattern.get("first_seen"),
                    pattern.get("last_seen"),
                ),
                time=pattern.get("first_seen"),
                service=services[0] if services else None,
                count=pattern["count"],
            )
        )
    if frequent.claims:
        story.sections.append(frequent)
    if data.get("average_response_time") is not None:
        story.facts.append(
            Claim(
                f"Responses took {latency(data['average_response_time'] * 1000)} on average, "
                f"{latency((data.get('p95_response_time') or 0) * 1000)} at p95",
            )
        )
    busiest = _busiest_hour(data.get("peak_usage_times") or [], int(data.get("total_requests", 0)), clock)
    if busiest:
        story.facts.append(busiest)
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
    for claim in ([story.facts[0]] if error else []) + frequent.claims:
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


def _busiest_hour(hours: list[dict[str, Any]], total: int, clock: Clock) -> Claim | None:
    """The busiest clock hour, when the requests fell in more than one and one stands out."""
    if len(hours) < 2:
        return None
    top, runner_up = hours[0], hours[1]
    if int(top["requests"]) == int(runner_up["requests"]):
        return Claim(f"Requests were spread evenly: no hour was busier than {clock.time(top['hour'])}'s")
    return Claim(
        f"Busiest hour: {clock.between(top['hour'], top.get('hour_end'))}, "
        f"{int(top['requests']):,} of {plural(total, 'request')}",
        time=top["hour"],
    )
