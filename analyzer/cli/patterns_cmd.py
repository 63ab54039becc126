"""`ai-logs patterns`: ranked insights and named patterns for a window, the catalog, rule export."""

from __future__ import annotations

import argparse
from typing import Any

from analyzer.cli.common import add_source_options, note_sample, print_json, settings_from
from analyzer.cli.logcli import add_window_options, lookback


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "patterns",
        help="root cause, named patterns, bursts and new messages in a window",
        description="Detect patterns in a window of logs (bundled sample logs by default).",
    )
    add_source_options(p)
    add_window_options(p)
    p.add_argument("--services", help="comma-separated service names")
    p.add_argument(
        "--top", type=int, metavar="N",
        help="findings shown per section (default 5); with --json, the first N of the ranked list",
    )
    p.add_argument(
        "--verbose", "-v", action="store_true",
        help="confidence figures, suggestions and the LogQL that reopens each finding",
    )
    p.add_argument("--catalog", action="store_true", help="list the named pattern catalog and exit")
    p.add_argument("--rule", metavar="PATTERN", help="print a Loki ruler rule group for a catalog pattern")
    p.add_argument("--threshold", type=float, default=5, help="lines per --interval that alert")
    p.add_argument("--interval", default="5m", help="rule range, e.g. 5m")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.analysis.catalog import load_catalog

    settings = settings_from(args)
    if not settings.pattern_detection:
        from analyzer.errors import AnalyzerError

        raise AnalyzerError(
            "pattern detection is switched off (AI_LOGS_PATTERN_DETECTION=false)",
            code="PATTERN_DETECTION_DISABLED",
            status=503,
            suggestion="Use `ai-logs query` for analyses.",
        )
    catalog = load_catalog(settings.patterns_file)
    if args.catalog:
        return _print_catalog(args, [p.to_dict() for p in catalog])
    if args.rule:
        return _print_rule(args, catalog)
    from analyzer.infra.privacy import mask
    from analyzer.model import Query
    from analyzer.querying import fetch_and_analyze, resolve_window
    from analyzer.services import build_services
    from analyzer.sources.known import require_known_services
    from analyzer.web.params import validate

    query = validate(Query, {
        "time_range": lookback(args), "start": args.start, "end": args.end,
        "services": args.services or [], "limit": 10000,
    })  # fmt: skip
    if args.json:
        note_sample(settings)
    services = build_services(settings)
    tenant = getattr(args, "tenant", None) or settings.default_tenant
    require_known_services(
        services.source, query.services, tenant=tenant, window=resolve_window(services, query)
    )
    analysis = fetch_and_analyze(services, query, tenant=tenant)
    insights = mask([i.to_dict() for i in analysis.insights])
    if args.json:
        print_json({"time_range": analysis.window.to_dict(), "insights": insights[: args.top or None]})
        return 0
    from analyzer.cli.common import source_description
    from analyzer.cli.patterns_text import render_patterns

    print(
        render_patterns(
            insights, analysis.window.to_dict(), analysis.summary,
            source=source_description(settings), top=args.top or 5, verbose=args.verbose,
            asked_for=list(query.services),
        ),
        end="",
    )
    return 0


def _print_catalog(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(f"{row['name']:<24} {row['category']:<12} {row['severity']:<6} {row['blame']:<8} {row['suggestion']}")
    return 0


def _print_rule(args: argparse.Namespace, catalog: Any) -> int:
    from analyzer.analysis.rule_export import RuleSpec, rule_group, rule_group_yaml
    from analyzer.errors import NotFound

    pattern = catalog.get(args.rule)
    if pattern is None:
        raise NotFound(f"no catalog pattern {args.rule!r}", suggestion="List them with `ai-logs patterns --catalog`.")
    services = [s.strip() for s in (args.services or "").split(",") if s.strip()]
    spec = RuleSpec(
        pattern_id=pattern.name, pattern_type=pattern.name, regex=pattern.regex, exclude=pattern.exclude,
        severity="critical" if pattern.severity.label in ("error", "fatal") else "warning",
        suggestion=pattern.suggestion, services=services,
    )
    group = rule_group(spec, threshold=args.threshold, interval=args.interval)
    print(rule_group_yaml(group), end="")
    return 0
