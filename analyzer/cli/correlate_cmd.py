"""`ai-logs correlate ID`: one request's hops in order, the failing hop marked, the critical path.

Over files the whole file set is searched (ids do not depend on time); over Loki, the last
`--time-window`. The exit status says how the request ended, so scripts can branch on it.
"""

from __future__ import annotations

import argparse
from typing import Any

from analyzer.cli.common import add_source_options, note_sample, print_json, settings_from
from analyzer.cli.logcli import lookback
from analyzer.narrate.phrasing import plural

FILE_WINDOW = "3650d"
FAILED = "✗"  # the failing hop
ALSO_FAILED = "!"  # failed too, because of the failing hop
OK = "✓"
EXIT_STATUS = (
    "exit status: 0 the request completed, 1 it failed (its failing hop is marked), "
    "2 no line carries the id or the input is bad"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "correlate",
        help="follow one correlation id across services",
        description="Follow one request across services: hops in order, failing hop, critical path.",
        epilog=EXIT_STATUS.capitalize() + ".",
    )
    parser.add_argument("correlation_id", metavar="ID")
    add_source_options(parser)
    parser.add_argument("--time-window", default="15m", help="how far back over Loki (e.g. 1h)")
    parser.add_argument("--since", help="the same as a Go duration, e.g. 1h30m (logcli's --since)")
    parser.add_argument("--format", choices=("text", "narrative", "timeline"), default="text")
    parser.add_argument(
        "--verbosity", choices=("minimal", "standard", "detailed"), default="standard"
    )
    parser.set_defaults(handler=run)


def fetch_by_id(args: argparse.Namespace, field: str, value: str, window: str) -> tuple[Any, Any]:
    """One fetch filtered on the id; returns (settings, source, records)."""
    from analyzer.model import Query
    from analyzer.sources import open_source

    settings = settings_from(args)
    note_sample(settings)
    source = open_source(settings)
    window = lookback(args, window)
    query = Query(
        **{field: value}, time_range=FILE_WINDOW if source.name == "files" else window, limit=5000
    )
    fetched = source.fetch(query, tenant=settings.default_tenant)
    return source, fetched.records


def run(args: argparse.Namespace) -> int:
    from analyzer.analysis.correlate import request_flow
    from analyzer.errors import NotFound
    from analyzer.infra.privacy import mask

    source, records = fetch_by_id(args, "correlation_id", args.correlation_id, args.time_window)
    try:
        services = source.services(tenant=settings_from(args).default_tenant)
    except Exception:  # the service list only adds silent peers; never fatal
        services = []
    result = request_flow(records, args.correlation_id, known_services=services)
    if not result.hops:
        raise NotFound(
            f"no log line carries correlation_id {args.correlation_id!r}",
            code="CORRELATION_NOT_FOUND",
            suggestion="Check the id, or widen --time-window.",
        )
    body = mask(result.to_dict())
    if args.json:
        print_json(body)
    elif args.format != "text":
        from analyzer.narrate import render

        print(render("correlation", body, fmt=args.format, verbosity=args.verbosity), end="")
    else:
        print(format_hops(body), end="")
    return 1 if body["failing_hop"] else 0


def format_hops(body: dict[str, Any]) -> str:
    from analyzer.narrate.phrasing import Clock, latency

    timeline = body["service_timeline"]
    nodes = {n["service"]: n for n in body["request_flow"]["nodes"]}
    clock = Clock(body.get("start"), precise=True)
    day = (body.get("start") or "")[:10]
    lines = [
        f"request {body['correlation_id']} at {clock.time(body.get('start'))} UTC on {day}: "
        f"{latency(body['total_duration_ms'])}, "
        + (f"failed at {body['failing_hop']}" if body["failing_hop"] else "completed")
    ]
    width = max((len(span["service"]) for span in timeline), default=8)
    for span in timeline:
        node = nodes.get(span["service"], {})
        failing = span["service"] == body["failing_hop"]
        mark = FAILED if failing else (OK if span["status"] == "ok" else ALSO_FAILED)
        if node.get("silent"):
            named = int(node.get("named_by_errors") or 0)
            detail = f"no logs of its own; named by {plural(named, 'error')} of {', '.join(node.get('blamed_by', []))}"
        elif node.get("inferred"):
            detail = f"no line for this request; {span['status']}"
        else:
            detail = f"{plural(span['lines'], 'line')}, {plural(span['errors'], 'error')}, {span['status']}"
        lines.append(
            f"  {mark} +{span['offset_ms']:>9.1f} ms  {span['service']:<{width}}  "
            f"{span['duration_ms']:>9.1f} ms  ({detail})"
        )
        if failing and node.get("first_error"):
            lines.append(f"      first error: {node['first_error']}")
    path = " -> ".join(f"{p['service']} ({p['duration_ms']:.1f} ms)" for p in body["critical_path"])
    lines.append(f"critical path: {path}")
    if body["bottlenecks"]:
        lines.append(
            "bottlenecks: "
            + ", ".join(
                f"{b['service']} {b['self_ms']:.1f} ms own time ({round(b['share'] * 100)}%)"
                for b in body["bottlenecks"]
            )
        )
    lines.extend(f"- {text}" for text in body["recommendations"])
    marks = [f"{FAILED} failing hop"] if body["failing_hop"] else []
    if any(s["status"] != "ok" and s["service"] != body["failing_hop"] for s in timeline):
        marks.append(f"{ALSO_FAILED} failed too")
    marks.append(f"{OK} ok")
    ended = "1: the request failed" if body["failing_hop"] else "0: the request completed"
    lines.append(f"({', '.join(marks)}; + is the time from the request's first line; exit status {ended})")
    return "\n".join(lines) + "\n"
