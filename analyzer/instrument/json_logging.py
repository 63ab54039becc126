"""JSON log lines that carry the correlation id, in the shape the analyzer and Promtail read."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from analyzer.instrument.context import get_correlation_id

# attributes every LogRecord has; anything else was passed with `extra=` and becomes a field
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class CorrelationIdFilter(logging.Filter):
    """Stamps the current correlation id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = get_correlation_id()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        nanos = int((record.created - seconds) * 1e9)
        data: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            + f".{nanos:09d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "message": record.getMessage(),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None and key not in data:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, separators=(",", ":"))


def configure(
    service: str,
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    logger: logging.Logger | None = None,
) -> logging.Handler:
    """One JSON handler with the id filter on `logger` (the root logger by default)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(CorrelationIdFilter())
    target = logger or logging.getLogger()
    target.addHandler(handler)
    target.setLevel(level)
    return handler
