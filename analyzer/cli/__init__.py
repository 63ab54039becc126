"""The `ai-logs` command. Each subcommand lives in its own module with `register(subparsers)`.

Command modules import heavy dependencies inside their handlers so a command imports only what
it runs (`ai-logs --version` under 0.3 s, a query of the bundled sample under 1 s:
`bench/cli_bench.py`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from analyzer import __version__
from analyzer.errors import AnalyzerError

COMMANDS = (
    "query",
    "serve",
    "worker",
    "patterns",
    "templates",
    "correlate",
    "conversation",
    "workspace",
    "keys",
    "demo",
    "lint",
    "mcp",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai-logs",
        description=(
            "Analyse logs from Loki or local files: troubleshoot, patterns, correlation, AI usage."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ai-logs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"analyzer.cli.{name}_cmd")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"ai-logs {__version__}")  # without importing every command
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except AnalyzerError as exc:
        print(f"error [{exc.code}]: {exc.message}\nsuggestion: {exc.suggestion}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
