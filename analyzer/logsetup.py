"""The analyzer's own logs: JSON lines on stderr, each with the request's correlation id."""

from __future__ import annotations

import logging
import sys

from analyzer.instrument import configure


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    configure("ai-logs-analyzer", level=level, stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
