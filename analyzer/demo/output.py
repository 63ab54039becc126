"""Writing generated lines in time order with bounded memory.

Requests are simulated in start order but their lines land up to a few minutes later (timeouts,
retries), so each file keeps a heap of pending lines and writes those older than a horizon.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from analyzer.model import NS_PER_SECOND

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# order of the leading keys of every JSON line; the rest follow in insertion order
_LEADING = ("timestamp", "level", "service", "message")

LineObserver = Callable[[dict[str, Any]], None]


def rfc3339_ns(ts_ns: int) -> str:
    """`2026-11-24T08:00:01.123456789Z`: what Go and Rust services write."""
    moment = datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ts_ns % NS_PER_SECOND:09d}Z"


def redis_line(ts_ns: int, level_char: str, message: str, *, pid: int = 1, role: str = "M") -> str:
    """redis-server's own format: `1:M 24 Nov 2026 08:00:01.123 * Ready to accept connections`."""
    moment = datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=UTC)
    millis = (ts_ns % NS_PER_SECOND) // 1_000_000
    stamp = (
        f"{moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M:%S}.{millis:03d}"
    )
    return f"{pid}:{role} {stamp} {level_char} {message}"


class LineSink:
    """Per-service files fed out of order, written in order."""

    def __init__(self, out_dir: Path, observer: LineObserver | None = None) -> None:
        self.out_dir = out_dir
        self.observer = observer
        self._pending: dict[str, list[tuple[int, int, str]]] = {}
        self._files: dict[str, TextIO] = {}
        self._seq = 0
        self.lines_written = 0
        self.paths: dict[str, Path] = {}

    def json_line(self, ts_ns: int, service: str, level: str, message: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "timestamp": rfc3339_ns(ts_ns),
            "level": level,
            "service": service,
            "message": message,
        }
        record.update({k: v for k, v in fields.items() if v is not None and k not in _LEADING})
        if self.observer is not None:
            self.observer(record)
        self._push(f"{service}.jsonl", ts_ns, json.dumps(record, separators=(",", ":")))

    def redis(
        self, ts_ns: int, level_char: str, message: str, *, pid: int = 1, role: str = "M"
    ) -> None:
        self._push("redis.log", ts_ns, redis_line(ts_ns, level_char, message, pid=pid, role=role))

    def _push(self, filename: str, ts_ns: int, text: str) -> None:
        self._seq += 1
        heapq.heappush(self._pending.setdefault(filename, []), (ts_ns, self._seq, text))

    def flush(self, before_ns: int | None = None) -> None:
        """Write every pending line older than `before_ns` (all of them when None)."""
        for filename in sorted(self._pending):
            heap = self._pending[filename]
            handle = self._open(filename)
            while heap and (before_ns is None or heap[0][0] < before_ns):
                handle.write(heapq.heappop(heap)[2])
                handle.write("\n")
                self.lines_written += 1

    def _open(self, filename: str) -> TextIO:
        handle = self._files.get(filename)
        if handle is None:
            path = self.out_dir / filename
            handle = path.open("w", encoding="utf-8", newline="\n")
            self._files[filename] = handle
            self.paths[filename] = path
        return handle

    def close(self) -> None:
        self.flush()
        for handle in self._files.values():
            handle.close()
