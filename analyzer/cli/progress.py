"""Progress on stderr for long CLI work; silent when stderr is not a terminal or for --json."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class Progress:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\033[K{text}…")
            sys.stderr.flush()

    def count(self, what: str, done: int, total: int | None = None) -> None:
        if self.enabled:
            rate = done / max(time.monotonic() - self.started, 1e-6)
            of = f"/{total:,}" if total else ""
            self.say(f"{what}: {done:,}{of} ({rate:,.0f}/s)")

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
