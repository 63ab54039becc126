"""The `ai-logs` command. Each subcommand lives in its own module with `register(subparsers)`.

Command modules import heavy dependencies inside their handlers so a command imports only what
it runs (`ai-logs --version` under 0.3 s, a query of the bundled sample under 1 s:
`bench/cli_bench.py`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import NoReturn

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


# Exit codes (README, "Exit codes"): what a script or an agent can branch on.
EXIT_OK = 0
EXIT_FAILED = 1  # an unexpected failure inside the analyzer
EXIT_BAD_INPUT = 2  # usage, a parameter, a key or a limit (the HTTP API's 4xx)
EXIT_UPSTREAM = 3  # Loki or Redis unavailable, slow or answering badly (the HTTP API's 5xx)
EXIT_INTERRUPTED = 130

# commands that read logs: each run is bounded by AI_LOGS_MAX_QUERY_TIME like an HTTP request
BOUNDED = frozenset({"query", "patterns", "correlate", "conversation", "workspace"})


class UsageError(AnalyzerError):
    code = "INVALID_ARGUMENTS"
    suggestion = "Run the command with --help for its options."


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised (and so reported like every other error)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", details={"usage": self.format_usage().strip()})


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:
        print(f"ai-logs {__version__}")  # without importing every command
        return 0
    as_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(_run(args) or EXIT_OK)
    except AnalyzerError as exc:
        return report_error(exc, as_json=as_json)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line, not a traceback (AI_LOGS_DEBUG=1 shows it)
        if os.environ.get("AI_LOGS_DEBUG"):
            raise
        return report_error(
            AnalyzerError(
                f"ai-logs failed unexpectedly: {type(exc).__name__}: {exc}",
                code="INTERNAL",
                status=500,
                suggestion="Run again with AI_LOGS_DEBUG=1 for the traceback, and report it.",
            ),
            as_json=as_json,
        )


def _run(args: argparse.Namespace) -> int:
    if args.command not in BOUNDED:
        return int(args.handler(args) or EXIT_OK)
    from analyzer.config import load_settings
    from analyzer.infra.deadline import bounded

    with bounded(load_settings().max_query_time):
        return int(args.handler(args) or EXIT_OK)


def report_error(exc: AnalyzerError, *, as_json: bool) -> int:
    """With --json the error object the HTTP API would send, on stdout; else text on stderr."""
    from analyzer.infra.privacy import mask, mask_text

    code = EXIT_BAD_INPUT if exc.status < 500 else EXIT_UPSTREAM
    if exc.code == "INTERNAL":
        code = EXIT_FAILED
    if as_json:
        body = mask(exc.to_dict())
        body["error"]["exit_code"] = code
        json.dump(body, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return code
    usage = exc.details.get("usage") if isinstance(exc, UsageError) else None
    if usage:
        print(usage, file=sys.stderr)
    print(
        f"error [{exc.code}]: {mask_text(exc.message)}\nsuggestion: {exc.suggestion}",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
