"""One AI conversation: its turns, what they cost, which failed and where.

Each failed turn is told on its own (a conversation that spans two outages failed twice, for
two reasons): when it failed, which service failed first in it and which followed.
"""

from __future__ import annotations

from typing import Any

from analyzer.narrate.phrasing import (
    Clock,
    latency,
    money,
    names,
    number,
    percent,
    plural,
    seconds_between,
    span,
)
from analyzer.narrate.story import Claim, Event, Linker, Section, Story, id_query


def conversation_story(data: dict[str, Any], link: Linker) -> Story:
    cid = str(data.get("conversation_id", ""))
    meta = data.get("metadata", {})
    metrics = data.get("metrics", {})
    timeline = data.get("timeline", [])
    services = meta.get("services", [])
    first, last = meta.get("first_activity"), meta.get("last_activity")
    clock = Clock(first)
    query = id_query(services, "conversation_id", cid)
    errors = [e for e in timeline if e.get("level") in ("error", "fatal")]
    failed_turns = len({e.get("correlation_id") for e in errors if e.get("correlation_id")})
    models = names(meta.get("models", [])) or "no recorded model"
    headline = (
        f"Conversation {cid} ({names(meta.get('workspace_ids', [])) or 'no workspace'}, user "
        f"{names(meta.get('user_ids', [])) or 'unknown'}): {plural(meta.get('turns', 0), 'turn')} "
        f"with {models} over {span(seconds_between(first, last))}"
    )
    if metrics:
        headline += f", {plural(int(metrics.get('total_tokens', 0)), 'token')} costing {money(metrics.get('total_cost'))}"
        if not metrics.get("cost_complete", True):
            unpriced = names(item["model"] for item in metrics.get("unpriced_models", []))
            headline += f" for the priced models ({unpriced or 'some models'} unpriced)"
    headline += f"; {plural(failed_turns, 'turn')} failed." if failed_turns else "; no turn failed."
    story = Story(
        title=f"Conversation {cid} · {clock.window(first, last)}",
        headline=headline,
        gist=f"{plural(meta.get('turns', 0), 'turn')}, {plural(failed_turns, 'failed turn')}",
    )
    turns: dict[str, list[dict[str, Any]]] = {}
    for event in errors:
        turns.setdefault(str(event.get("correlation_id") or event["timestamp"]), []).append(event)
    failed = Section("Failed turns, in time order")
    for turn, events in sorted(turns.items(), key=lambda kv: kv[1][0]["timestamp"]):
        first_error = events[0]
        later = names(e["service"] for e in events if e["service"] != first_error["service"])
        failed.claims.append(
            Claim(
                f"{clock.time(first_error['timestamp'])} turn {turn}: {first_error['service']} failed first"
                + (f", then {later}" if later else ""),
                plural(len(events), "error line"),
                first_error["message"],
                link(query, first_error["timestamp"]),
                time=first_error["timestamp"],
                service=first_error["service"],
            )
        )
    if failed.claims:
        story.sections.append(failed)
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
