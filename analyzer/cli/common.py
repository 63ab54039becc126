"""Options every log-reading command shares, and turning them into a source."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from analyzer.cli.logcli import add_connection_options, connection_overrides
from analyzer.config import Settings, load_settings


def add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("log source")
    group.add_argument("--source", metavar="PATH", help="file, directory or glob of log files")
    group.add_argument(
        "--loki", "--addr", dest="loki", metavar="URL",
        help="Loki base URL (default: $LOKI_URL, else logcli's $LOKI_ADDR)",
    )  # fmt: skip
    group.add_argument(
        "--tenant", "--org-id", dest="tenant",
        help="Loki tenant, sent as X-Scope-OrgID (default: $LOKI_ORG_ID, else fake)",
    )  # fmt: skip
    group.add_argument(
        "--log-format",
        metavar="FORMAT",
        help="the files' line format, when detection gets it wrong: a Loki pattern "
        "('[<time>] [<level>] <message>'), a regex with named groups, or a known format "
        "(syslog, klog, json, logfmt, access-log, ...)",
    )
    group.add_argument(
        "--time-layout",
        metavar="LAYOUT",
        help="how --log-format's time is written: strftime ('%%d/%%b/%%Y:%%H:%%M:%%S %%z'), "
        "Go reference time ('02/Jan/2006:15:04:05 -0700'), iso, unix, unix_ms",
    )
    add_connection_options(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def settings_from(args: argparse.Namespace) -> Settings:
    source = getattr(args, "source", None)
    settings = load_settings(
        loki_url=getattr(args, "loki", None), source_path=source, **connection_overrides(args)
    )
    if source:
        settings = replace(settings, loki_url=None)  # an explicit --source wins over LOKI_URL
    log_format, layout = getattr(args, "log_format", None), getattr(args, "time_layout", None)
    if log_format or layout:
        settings = replace(settings, formats=_with_declared(settings.formats, log_format, layout))
    return settings


SAMPLE_HINT = "give --loki/--addr, LOKI_ADDR or --source to read your own"


def source_description(settings: Settings) -> str:
    """Where the logs come from, as a header says it: the sample is never used silently."""
    if settings.loki_url:
        return f"Loki {settings.loki_url}, tenant {settings.default_tenant}"
    if settings.source_path:
        return f"files {settings.source_path}"
    return f"the bundled sample logs ({SAMPLE_HINT})"


def note_sample(settings: Settings) -> None:
    """On stderr, for output without a header (--json), when the bundled sample is read."""
    if not settings.loki_url and not settings.source_path:
        print(f"ai-logs: reading the bundled sample logs; {SAMPLE_HINT}", file=sys.stderr)


def _with_declared(formats: Any, log_format: str | None, layout: str | None) -> dict[str, Any]:
    """The settings' `formats` with the command line's format first, checked now so a bad one
    is reported before anything is read."""
    from analyzer.sources.formats import FormatError, FormatRules

    if not log_format:
        raise FormatError("--time-layout needs --log-format (the format whose time it reads)")
    merged: dict[str, Any] = (
        dict(formats) if isinstance(formats, dict) else {"files": list(formats or [])}
    )
    rule = {"match": "*", "format": log_format, **({"time_layout": layout} if layout else {})}
    merged["files"] = [rule, *(merged.get("files") or [])]
    FormatRules.from_settings(merged)
    return merged


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
