"""`ai-logs demo generate OUT`: deterministic DocAIche-like logs with incidents and ground truth."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from analyzer.demo.generator import DEFAULT_DURATION, DEFAULT_RATE, DEFAULT_SEED, DEFAULT_START

    parser = sub.add_parser("demo", help="generate demo logs with injected incidents")
    demo_sub = parser.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    gen = demo_sub.add_parser(
        "generate",
        help="write <service>.jsonl, redis.log and ground_truth.json into OUT",
        description="Same seed and options, same bytes. Incidents are spread over the duration "
        "in non-overlapping windows.",
    )
    gen.add_argument("out", metavar="OUT", help="directory to write (created if missing)")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    gen.add_argument("--start", default=DEFAULT_START, help=f"RFC 3339 (default {DEFAULT_START})")
    gen.add_argument(
        "--duration", default=DEFAULT_DURATION, help=f"e.g. 2h (default {DEFAULT_DURATION})"
    )
    gen.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"log lines per minute in healthy traffic (default {DEFAULT_RATE:g})",
    )
    gen.add_argument(
        "--incidents",
        default="all",
        help="'all', 'none' or a comma list of kinds (see `ai-logs demo kinds`)",
    )
    gen.add_argument("--json", action="store_true", help="print the ground truth summary as JSON")
    gen.set_defaults(handler=run_generate)
    window = demo_sub.add_parser(
        "window",
        help="write a production-sized window (millions of lines) with outages and exact truth",
        description="One JSON-lines file per service (redis in its own format) at RATE lines a "
        "second for HOURS: outages where the failing service logs a few lines first and its "
        "callers most errors later, background noise, and ground_truth.json with exact counts.",
    )
    window.add_argument("out", metavar="OUT", help="directory to write (created if missing)")
    window.add_argument("--hours", type=float, default=3.0, help="default 3")
    window.add_argument("--rate", type=float, default=100.0, help="lines per second (default 100)")
    window.add_argument("--outages", type=int, default=None, help="default one per 3 hours")
    window.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    window.add_argument("--json", action="store_true", help="print the ground truth as JSON")
    window.set_defaults(handler=run_window)
    kinds = demo_sub.add_parser("kinds", help="list the incident kinds")
    kinds.set_defaults(handler=run_kinds)


def run_generate(args: argparse.Namespace) -> int:
    from analyzer.cli.progress import TerminalProgress
    from analyzer.demo import generate

    with TerminalProgress(enabled=not args.json) as progress:
        truth = generate(
            args.out,
            seed=args.seed,
            start=args.start,
            duration=args.duration,
            rate=args.rate,
            incidents=args.incidents,
            progress=lambda done, total: progress(done, total, "generating minutes"),
        )
    summary = {
        "out": args.out,
        "files": truth["files"],
        "incidents": [
            {k: i[k] for k in ("id", "kind", "root_cause_service", "start", "end")}
            for i in truth["incidents"]
        ],
    }
    if args.json:
        from analyzer.cli.common import print_json

        print_json(summary)
        return 0
    print(f"wrote {args.out} (seed {args.seed}, {truth['start']} .. {truth['end']})")
    for name, lines in truth["files"].items():
        print(f"  {name:<20} {lines:>8} lines")
    print("  ground_truth.json")
    for incident in summary["incidents"]:
        window = f"{incident['start'][11:19]}..{incident['end'][11:19]}"
        root = incident["root_cause_service"]
        print(f"  {incident['id']:<6} {incident['kind']:<28} root cause {root:<12} {window}")
    return 0


def run_window(args: argparse.Namespace) -> int:
    from analyzer.cli.progress import TerminalProgress
    from analyzer.demo.window import generate_window

    with TerminalProgress(enabled=not args.json) as progress:
        truth = generate_window(
            args.out, hours=args.hours, rate=args.rate, outages=args.outages, seed=args.seed,
            progress=lambda done, total: progress(done, total, "writing seconds"),
        )
    if args.json:
        from analyzer.cli.common import print_json

        print_json(truth)
        return 0
    print(f"wrote {args.out}: {truth['total_lines']:,} lines, {truth['total_errors']:,} errors, "
          f"{truth['window_start']} .. {truth['window_end']}")
    for service, lines in truth["lines_by_service"].items():
        print(f"  {service:<12} {lines:>10,} lines")
    for incident in truth["incidents"]:
        print(f"  {incident['kind']:<24} root cause {incident['root_cause_service']:<12} "
              f"{incident['start'][11:19]}..{incident['end'][11:19]}")
    return 0


def run_kinds(args: argparse.Namespace) -> int:
    from analyzer.demo.generator import incident_catalog

    for kind, spec in incident_catalog().items():
        print(f"{kind:<28} {spec['root_cause_service']:<12} {spec['description']}")
    return 0
