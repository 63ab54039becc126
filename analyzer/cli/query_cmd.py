"""`ai-logs query`: the same analysis as GET /api/v1/ai_logs/query, in a terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.cli.common import (
    add_source_options,
    note_sample,
    print_json,
    settings_from,
    source_description,
)
from analyzer.cli.logcli import add_window_options, lookback
from analyzer.model import Aggregation, Mode, OutputFormat, Verbosity

# CLI flag -> Query field, for the flags that map one to one
_FIELDS = (
    "mode",
    "services",
    "time_range",
    "start",
    "end",
    "correlation_id",
    "conversation_id",
    "session_id",
    "workspace_id",
    "user_id",
    "severity_threshold",
    "include_context",
    "aggregation",
    "format",
    "deduplicate",
    "highlight",
    "context_window",
    "exclude_patterns",
    "verbosity",
    "limit",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "query",
        help="analyse logs (troubleshoot, performance, errors, audit, conversation)",
        description="Analyse logs. Without --source, --loki/--addr, LOKI_URL or LOKI_ADDR, reads "
        "the bundled sample logs (and says so).",
    )
    add_source_options(p)
    p.add_argument("--mode", choices=[m.value for m in Mode], default="troubleshoot")
    p.add_argument("--services", help="comma-separated service names")
    add_window_options(p)
    for name in ("correlation-id", "conversation-id", "session-id", "workspace-id", "user-id"):
        p.add_argument(f"--{name}", dest=name.replace("-", "_"))
    p.add_argument("--severity", dest="severity_threshold", help="debug|info|warn|error|fatal")
    p.add_argument("--include-context", dest="include_context", type=int, default=0)
    p.add_argument("--context-window", dest="context_window")
    p.add_argument("--aggregation", choices=[a.value for a in Aggregation], default="none")
    p.add_argument("--format", choices=[f.value for f in OutputFormat], default="narrative")
    p.add_argument("--verbosity", choices=[v.value for v in Verbosity], default="standard")
    p.add_argument("--deduplicate", action="store_true")
    p.add_argument("--highlight", action="append", default=[])
    p.add_argument("--exclude", dest="exclude_patterns", action="append", default=[])
    p.add_argument("--limit", type=int, default=1000, help="most log lines returned, 1-10000")
    p.add_argument(
        "--lines", type=int, default=10, metavar="N",
        help="matching lines printed under the text, newest last (default 10; 0: none)",
    )
    p.set_defaults(handler=run)


def build_query(args: argparse.Namespace) -> Any:
    from analyzer.model import Query
    from analyzer.web.params import validate

    values = {
        name: value
        for name in _FIELDS
        if (value := getattr(args, name, None)) is not None and value is not False and value != []
    }
    values["time_range"] = lookback(args)
    if args.json and "format" in values and args.format == "narrative":
        values["format"] = "structured"  # --json alone means the HTTP response object
    return validate(Query, values)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.progress import TerminalProgress, attach
    from analyzer.querying import resolve_window, respond
    from analyzer.services import build_services
    from analyzer.sources.known import require_known_services

    query = build_query(args)
    settings = settings_from(args)
    if args.json:
        note_sample(settings)
    with TerminalProgress(enabled=not args.json) as progress:
        progress.say(f"reading logs from {source_description(settings)}")
        services = build_services(settings)
        attach(services.source, progress)
        tenant = getattr(args, "tenant", None) or settings.default_tenant
        require_known_services(
            services.source, query.services, tenant=tenant, window=resolve_window(services, query)
        )
        body = respond(services, query, tenant=tenant)
        account = _input_account(services.source)
    if args.json:
        print_json(body)
        return 0
    header = account.header(detailed=query.verbosity.value == "detailed") if account else []
    sys.stdout.write(
        render_terminal(
            body, query.format.value, header, source=source_description(settings), lines=args.lines
        )
    )
    return 0


def _input_account(source: Any) -> Any:
    """What a file source read and skipped (None for Loki, which has no such account)."""
    account = getattr(source, "input_account", None)
    return account() if callable(account) else None


def render_terminal(
    body: dict[str, Any],
    fmt: str,
    account: list[str] | None = None,
    *,
    source: str | None = None,
    lines: int = 10,
) -> str:
    """The header (window, source, exact counts, what a file source read and skipped), the
    narrative or timeline, the aggregation asked for, then the newest matching lines."""
    from analyzer.cli.text import log_lines, window_header
    from analyzer.narrate.phrasing import Clock, names, plural

    meta, summary = body["metadata"], body["summary"]
    window = meta["time_range"]
    queried = meta["services_queried"]
    out = window_header(meta["query_mode"], window, source)
    out.append(
        plural(int(meta["total_logs"]), "line")
        + (" from " + (names(queried) if len(queried) <= 3 else plural(len(queried), "service")) if queried else "")
        + f" · {plural(int(summary.get('error_count', 0)), 'error')}"
        f" · {plural(int(summary.get('warning_count', 0)), 'warning')}"
        + (f" · {plural(int(meta['malformed_lines']), 'malformed line')}" if meta.get("malformed_lines") else "")
    )
    out += account or []
    out.append("")
    if fmt in body:
        text = body[fmt].rstrip()
        out += [text.split("\n", 2)[2] if text.count("\n") >= 2 else text, ""]  # its title is the header
    else:
        out += [f"{len(body['insights'])} insights; --format narrative tells them.", ""]
    out += _aggregations(body.get("aggregations") or {})
    clock = Clock(window.get("start"))
    shown = log_lines(body.get("logs") or [], clock, shown=lines, matched=int(meta.get("matching_logs", 0)))
    if shown:
        out += shown
        if meta.get("truncated"):
            out.append("  (a sample of the window; counts above are exact. --limit, --json or the API give more)")
        out.append("")
    elif lines and not body.get("logs"):
        out += ["No line matches this query in the window.", ""]
    return "\n".join(out) + "\n"


def _aggregations(aggregations: dict[str, Any]) -> list[str]:
    """`--aggregation` in words: most lines first, exact counts."""
    from analyzer.cli.text import clip
    from analyzer.narrate.phrasing import names

    out: list[str] = []
    if "by_pattern" in aggregations or "by_error" in aggregations:
        rows = aggregations.get("by_pattern") or aggregations.get("by_error") or []
        title = "By pattern" if "by_pattern" in aggregations else "By error message"
        out.append(f"{title}, most lines first ({len(rows)}):" if rows else f"{title}: no warning or error lines.")
        width = max((len(f"{r['count']:,}") for r in rows[:20]), default=1)
        for row in rows[:20]:
            text = row.get("template") or row.get("pattern") or ""
            out.append(f"  {row['count']:>{width},}  {clip(text, 100)}  ({names(row.get('services', []))})")
        if len(rows) > 20:
            out.append(f"  ... and {len(rows) - 20} more (--json lists them all)")
        out.append("")
    if "by_service" in aggregations:
        rows = sorted(aggregations["by_service"].items(), key=lambda kv: (-kv[1]["count"], kv[0]))
        out.append("By service, most lines first:")
        width = max((len(s) for s, _ in rows), default=1)
        for service, row in rows:
            levels = ", ".join(f"{level} {n:,}" for level, n in sorted(row["by_level"].items()))
            out.append(f"  {service:<{width}}  {row['count']:>8,}  ({levels})")
        out.append("")
    return out
