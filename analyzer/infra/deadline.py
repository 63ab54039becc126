"""One deadline per request, shared by every upstream call the request makes.

Per-call timeouts do not bound a request: retries, pages and a server that trickles one byte
at a time each restart them. So the request sets one absolute deadline (a context variable,
so threads serving other requests never see it) and every call asks `remaining()` how long
it may still take. Nested `bounded()` blocks only ever shorten the deadline in force.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from analyzer.errors import QueryTimeout

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("ai_logs_deadline", default=None)


@contextmanager
def bounded(seconds: float | None) -> Iterator[None]:
    """Everything inside must finish within `seconds` (None or <= 0: no new bound)."""
    if not seconds or seconds <= 0:
        yield
        return
    at = time.monotonic() + seconds
    current = _DEADLINE.get()
    if current is not None and current[0] <= at:
        yield
        return
    token = _DEADLINE.set((at, seconds))
    try:
        yield
    finally:
        try:
            _DEADLINE.reset(token)
        except ValueError:  # left from another context (a framework's teardown): restore
            _DEADLINE.set(current)


def remaining() -> float | None:
    """Seconds left before the deadline in force (may be <= 0), or None when there is none."""
    current = _DEADLINE.get()
    return None if current is None else current[0] - time.monotonic()


def budget() -> float | None:
    """The length of the deadline in force, for messages."""
    current = _DEADLINE.get()
    return None if current is None else current[1]


def expired_error(what: str) -> QueryTimeout:
    limit = budget()
    within = f" within the {limit:g}s query time limit" if limit else ""
    return QueryTimeout(
        f"{what} did not finish{within} (AI_LOGS_MAX_QUERY_TIME)",
        suggestion="Narrow the time range or add service filters, then retry.",
    )


def check(what: str) -> None:
    """Raise QUERY_TIMEOUT when the deadline in force has passed."""
    left = remaining()
    if left is not None and left <= 0:
        raise expired_error(what)
