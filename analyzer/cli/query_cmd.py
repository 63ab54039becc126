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
        render_terminal(body, query.format.value, header, source=source_description(settings))
    )
    return 0


def _input_account(source: Any) -> Any:
    """What a file source read and skipped (None for Loki, which has no such account)."""
    account = getattr(source, "input_account", None)
    return account() if callable(account) else None


def render_terminal(
    body: dict[str, Any], fmt: str, account: list[str] | None = None, *, source: str | None = None
) -> str:
    """The answer for a terminal; `account` (what a file source read and skipped) goes under
    the counts."""
    meta, summary = body["metadata"], body["summary"]
    start, end = meta["time_range"]["start"], meta["time_range"]["end"]
    shown_end = end[11:19] if start[:10] == end[:10] else f"{end[:10]} {end[11:19]}"
    lines = [
        f"{meta['query_mode']} · {start[:10]} {start[11:19]} → {shown_end} UTC",
        *([f"source: {source}"] if source else []),
        f"{meta['total_logs']} records from {', '.join(meta['services_queried']) or 'no services'}"
        f" · {summary.get('error_count', 0)} errors · {summary.get('warning_count', 0)} warnings"
        + (f" · {meta['malformed_lines']} malformed lines" if meta.get("malformed_lines") else "")
        + (" · truncated" if meta.get("truncated") else ""),
        *(account or []),
        "",
    ]
    if fmt in body:
        lines += [body[fmt].rstrip(), ""]
    else:
        for i, insight in enumerate(body["insights"][:5], 1):
            ev = insight["evidence"]
            lines.append(f"{i}. [{insight['severity']}] {insight['title']}")
            lines.append(f"   {ev['count']}x {ev['first_seen']} … {ev['last_seen']}")
            for sample in ev.get("samples", [])[:1]:
                lines.append(f"   e.g. {sample[:160]}")
            lines.append(f"   → {insight['suggestion']}")
        lines.append("")
    return "\n".join(lines) + "\n"
