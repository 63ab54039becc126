"""`ai-logs mcp`: the MCP server over stdio, for a desktop or IDE agent on this machine.

The agent starts this command and speaks MCP on its stdin and stdout; logs go to stderr. It
reads logs like every other command (`--loki`, `--source`, or the bundled sample) and acts for
`--tenant`: a local process has the rights of the user who runs it, as the CLI does. Remote
agents use the service's `POST /mcp` instead, with an API key.
"""

from __future__ import annotations

import argparse
import logging

from analyzer.cli.common import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mcp",
        help="MCP server over stdio for AI agents (the service serves it at POST /mcp)",
        description="Serve analyses to an AI agent over the Model Context Protocol (stdio).",
    )
    group = p.add_argument_group("log source")
    group.add_argument("--source", metavar="PATH", help="file, directory or glob of log files")
    group.add_argument("--loki", metavar="URL", help="Loki base URL (default: $LOKI_URL)")
    group.add_argument("--tenant", help="Loki tenant (X-Scope-OrgID) the tools read")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.logsetup import configure_logging
    from analyzer.mcp import serve_stdio
    from analyzer.services import build_services

    configure_logging(logging.WARNING)  # stderr; stdout carries the protocol
    settings = settings_from(args)
    serve_stdio(build_services(settings), args.tenant or settings.default_tenant)
    return 0
