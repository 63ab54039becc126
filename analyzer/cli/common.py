"""Options every log-reading command shares, and turning them into a source."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from analyzer.config import Settings, load_settings


def add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("log source")
    group.add_argument("--source", metavar="PATH", help="file, directory or glob of log files")
    group.add_argument("--loki", metavar="URL", help="Loki base URL (default: $LOKI_URL)")
    group.add_argument("--tenant", help="Loki tenant (X-Scope-OrgID)")
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
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def settings_from(args: argparse.Namespace) -> Settings:
    source = getattr(args, "source", None)
    settings = load_settings(loki_url=getattr(args, "loki", None), source_path=source)
    if source:
        settings = replace(settings, loki_url=None)  # an explicit --source wins over LOKI_URL
    log_format, layout = getattr(args, "log_format", None), getattr(args, "time_layout", None)
    if log_format or layout:
        settings = replace(settings, formats=_with_declared(settings.formats, log_format, layout))
    return settings


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
