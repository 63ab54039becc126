"""`ai-logs conversation ID`: tokens, cost, latency and errors of one AI conversation."""

from __future__ import annotations

import argparse

from analyzer.cli.common import add_source_options, print_json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "conversation",
        help="one AI conversation: tokens, cost, errors",
        description="Report one AI conversation (PII masked).",
        epilog="Exit status: 0 the conversation was found, 2 no line carries the id or the input is bad.",
    )
    parser.add_argument("conversation_id", metavar="ID")
    add_source_options(parser)
    parser.add_argument("--time-range", default="7d", help="how far back over Loki")
    parser.add_argument("--since", help="the same as a Go duration, e.g. 36h (logcli's --since)")
    parser.add_argument("--format", choices=("narrative", "timeline"), default="narrative")
    parser.add_argument(
        "--verbosity", choices=("minimal", "standard", "detailed"), default="standard"
    )
    parser.add_argument("--prices", help="price overrides (YAML), default $AI_LOGS_PRICES_FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.analysis.conversations import conversation_report
    from analyzer.analysis.pricing import load_prices
    from analyzer.cli.common import settings_from
    from analyzer.cli.correlate_cmd import fetch_by_id
    from analyzer.errors import NotFound
    from analyzer.infra.privacy import mask

    _, records = fetch_by_id(args, "conversation_id", args.conversation_id, args.time_range)
    if not records:
        raise NotFound(
            f"no log line carries conversation_id {args.conversation_id!r}",
            code="CONVERSATION_NOT_FOUND",
            suggestion="Check the id, or widen --time-range.",
        )
    prices = load_prices(args.prices or settings_from(args).prices_file)
    body = mask(conversation_report(records, args.conversation_id, prices=prices))
    if args.json:
        print_json(body)
    else:
        from analyzer.narrate import render

        print(render("conversation", body, fmt=args.format, verbosity=args.verbosity), end="")
    return 0
