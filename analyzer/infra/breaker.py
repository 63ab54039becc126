"""A circuit breaker for an upstream (Loki): stop queueing work on a server that is down.

Closed: calls go through; `failures` consecutive failures open it. Open: calls are refused at
once (503 with Retry-After) for `reset_seconds`. Then half-open: one call is let through as a
probe; its success closes the circuit, its failure opens it again for another period. State is
per process, like the connection pool it protects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from analyzer.errors import SourceUnavailable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = max(1, failures)
        self.reset_seconds = max(0.0, reset_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.last_error = ""

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.reset_seconds:
            return HALF_OPEN
        return OPEN

    def retry_after(self) -> int:
        with self._lock:
            if self._opened_at is None:
                return 0
            left = self.reset_seconds - (self._clock() - self._opened_at)
        return max(1, int(left + 0.999))

    def before_call(self) -> None:
        """Raise 503 CIRCUIT_OPEN while open; in half-open let exactly one probe through."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._probing:
                self._probing = True
                return
        wait = self.retry_after()
        raise SourceUnavailable(
            f"{self.name} failed {self.threshold} times in a row ({self.last_error}); "
            f"not calling it again for {wait}s",
            code="LOKI_CIRCUIT_OPEN",
            suggestion=f"Retry after {wait}s; check that {self.name} is up (GET /readyz).",
            headers={"Retry-After": str(wait)},
        )

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self, detail: str = "") -> None:
        with self._lock:
            self.last_error = detail[:200]
            self._failures += 1
            if self._probing or self._failures >= self.threshold:
                self._opened_at = self._clock()
            self._probing = False

    def release_probe(self) -> None:
        """A probe that ended neither in success nor in an upstream failure (a caller's bad
        query, our own deadline): let the next call probe instead."""
        with self._lock:
            self._probing = False

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            state = self._state()
            out: dict[str, Any] = {"state": state, "consecutive_failures": self._failures}
        if state != CLOSED:
            out["retry_after"] = self.retry_after()
            out["last_error"] = self.last_error
        return out
