"""The correlation id of the request being handled, in a contextvar.

A contextvar follows the request through threads started with a copied context and through
asyncio tasks, which is what WSGI workers, ASGI apps and Starlette's threadpool all do.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def get_correlation_id() -> str | None:
    return _current.get()


def new_correlation_id() -> str:
    return f"corr-{secrets.token_hex(6)}"


def valid_correlation_id(value: str | None) -> bool:
    """Only ids that are safe in a header, a log line and a LogQL filter are adopted."""
    return bool(value) and _VALID.fullmatch(value or "") is not None


def incoming_or_new(value: str | None) -> str:
    return value if value is not None and valid_correlation_id(value) else new_correlation_id()


def set_correlation_id(value: str | None) -> Token[str | None]:
    return _current.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    _current.reset(token)


@contextmanager
def correlation_scope(value: str | None = None) -> Iterator[str]:
    """Run a block (a job, a CLI command) under an id: the given one or a new one."""
    cid = incoming_or_new(value)
    token = _current.set(cid)
    try:
        yield cid
    finally:
        _current.reset(token)
