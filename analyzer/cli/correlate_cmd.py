"""`ai-logs correlate ID`: one request's hops in order, the failing hop marked, the critical path.

Over files the whole file set is searched (ids do not depend on time); over Loki, the last
`--time-window`.
"""

from __future__ import annotations

import argparse
from typing import Any

from analyzer.cli.common import add_source_options, note_sample, print_json, settings_from
from analyzer.cli.logcli import lookback
from analyzer.narrate.phrasing import plural

FILE_WINDOW = "3650d"
FAILED = "✗"
OK = "✓"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "correlate",
        help="follow one correlation id across services",
        description="Follow one request across services: hops in order, failing hop, critical path.",
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
    lines = [
        f"request {body['correlation_id']}: {body['total_duration_ms']:.1f} ms, "
        + (f"failed at {body['failing_hop']}" if body["failing_hop"] else "ok")
    ]
    for span in body["service_timeline"]:
        failing = span["service"] == body["failing_hop"]
        mark = FAILED if failing else (OK if span["status"] == "ok" else "!")
        detail = f"{plural(span['lines'], 'line')}, {plural(span['errors'], 'error')}, {span['status']}"
        lines.append(
            f"  {mark} +{span['offset_ms']:>10.1f} ms  {span['service']:<14} "
            f"{span['duration_ms']:>10.1f} ms  ({detail})"
        )
        if failing:
            node = next(n for n in body["request_flow"]["nodes"] if n["service"] == span["service"])
            if node.get("first_error"):
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
    return "\n".join(lines) + "\n"
