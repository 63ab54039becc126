"""Progress of long CLI work on a terminal: a big file read, a long Loki window, `demo generate`.

The API other code calls is one callback, `progress(done, total, label)` (bytes read of a file,
nanoseconds of a window covered, minutes generated: any unit, `total` 0 when unknown). Code
that does long work takes such a callable and knows nothing of terminals; a log source that has
a `progress` attribute reports through it (`attach`).

`TerminalProgress` is the CLI's callback: one line on stderr, rewritten in place, only when
stderr is a terminal, never with `--json`, and only once the work has lasted `delay` seconds,
so short work never flickers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

ProgressCallback = Callable[[int, int, str], None]


def _compact(number: int) -> str:
    for limit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return str(number)


class TerminalProgress:
    """`progress(done, total, label)` as one line on a terminal's stderr."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        delay: float = 0.5,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.delay = delay
        self.interval = interval
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = total > 0 and done >= total
        if now - self._started < self.delay or (now - self._last < self.interval and not finished):
            return
        self._last = now
        if total > 0:
            share = min(done / total, 1.0)
            text = f"{label} {share:4.0%} ({_compact(done)}/{_compact(total)})"
        else:
            text = f"{label} {_compact(done)}"
        self._write(text)

    def say(self, text: str) -> None:
        """A line about what is happening now (no figures), shown at once."""
        if self.enabled:
            self._write(f"{text}…")

    def _write(self, text: str) -> None:
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Erase the line, so what the command prints next starts clean."""
        if self.enabled and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def attach(source: Any, progress: ProgressCallback) -> None:
    """Have a log source report long reads through `progress`, if it reports at all."""
    if hasattr(source, "progress"):
        source.progress = progress
