"""What services that produce AI logs import: the correlation context, `AIOperationLogger`,
JSON logging with the id on every record, and one adapter per framework (`wsgi`, `asgi`,
`httpx_hooks`), imported only by the services that use that framework."""

from __future__ import annotations

from analyzer.instrument.ai_logger import AIOperationLogger, prompt_hash
from analyzer.instrument.context import (
    HEADER,
    correlation_scope,
    get_correlation_id,
    new_correlation_id,
    valid_correlation_id,
)
from analyzer.instrument.json_logging import CorrelationIdFilter, JsonFormatter, configure

__all__ = [
    "HEADER",
    "AIOperationLogger",
    "CorrelationIdFilter",
    "JsonFormatter",
    "configure",
    "correlation_scope",
    "get_correlation_id",
    "new_correlation_id",
    "prompt_hash",
    "valid_correlation_id",
]
