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
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def settings_from(args: argparse.Namespace) -> Settings:
    source = getattr(args, "source", None)
    settings = load_settings(loki_url=getattr(args, "loki", None), source_path=source)
    if source:
        settings = replace(settings, loki_url=None)  # an explicit --source wins over LOKI_URL
    return settings


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
