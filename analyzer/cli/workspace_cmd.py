"""`ai-logs workspace ID`: a workspace's AI usage over a window."""

from __future__ import annotations

import argparse

from analyzer.cli.common import add_source_options, print_json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "workspace",
        help="a workspace's AI usage, errors and costs",
        description="Summarise a workspace's AI usage (PII masked).",
        epilog="Exit status: 0 the workspace was found, 2 no line carries the id or the input is bad.",
    )
    parser.add_argument("workspace_id", metavar="ID")
    add_source_options(parser)
    parser.add_argument(
        "--time-range",
        default="24h",
        help="window ending now (or at the newest line of a file source)",
    )
    parser.add_argument("--since", help="the same as a Go duration, e.g. 1h30m (logcli's --since)")
    parser.add_argument("--format", choices=("narrative", "timeline"), default="narrative")
    parser.add_argument(
        "--verbosity", choices=("minimal", "standard", "detailed"), default="standard"
    )
    parser.add_argument("--prices", help="price overrides (YAML), default $AI_LOGS_PRICES_FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.analysis.pricing import load_prices
    from analyzer.analysis.templates import group_by_template
    from analyzer.analysis.workspace import workspace_summary
    from analyzer.cli.common import note_sample, settings_from
    from analyzer.cli.logcli import lookback
    from analyzer.infra.privacy import mask
    from analyzer.model import Query
    from analyzer.sources import open_source

    settings = settings_from(args)
    note_sample(settings)
    source = open_source(settings)
    query = Query(workspace_id=args.workspace_id, time_range=lookback(args), limit=10000)
    records = source.fetch(query, tenant=settings.default_tenant).records
    if not any(r.workspace_id == args.workspace_id for r in records):
        from analyzer.errors import NotFound

        raise NotFound(
            f"no log line carries workspace_id {args.workspace_id!r} in the last {lookback(args)}",
            code="WORKSPACE_NOT_FOUND",
            suggestion="Check the id, or widen --time-range.",
        )
    prices = load_prices(args.prices or settings.prices_file)
    body = mask(
        workspace_summary(
            records, args.workspace_id, prices=prices, error_patterns=group_by_template
        )
    )
    if args.json:
        print_json(body)
    else:
        from analyzer.narrate import render

        print(render("workspace", body, fmt=args.format, verbosity=args.verbosity), end="")
    return 0
