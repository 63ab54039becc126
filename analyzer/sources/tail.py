"""Live tailing: records as they are written, from Loki's tail websocket or from local files.

Both tails answer `next_batch(timeout)` with the records that arrived (time ordered within the
batch), or None when nothing came in time, so the caller can interleave heartbeats. A `start`
in the past replays history first, as Loki's `/loki/api/v1/tail` does: at most `limit` records
at or after `start`, then the live ones.

- `LokiTail` speaks Loki's tail protocol: one JSON object per text message,
  `{"streams": [...], "dropped_entries": [...]}`, the streams shaped like `query_range`'s.
  A query Loki refuses is a plain-text 400 before the upgrade and becomes `BadQuery` with
  Loki's message. When Loki closes a live tail (a querier restart), the tail reconnects from
  the last timestamp seen, so no line is lost and none is repeated.
- `FileFollower` polls the files a `FileSource` reads, parsing new complete lines with the
  same line parser, continuation (stack trace) folding included. A file that shrinks or is
  replaced (rotation) is read again from its start; files that appear later are read whole.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from analyzer.analysis.filters import record_filter
from analyzer.errors import AnalyzerError, BadQuery, RateLimited, SourceUnavailable
from analyzer.model import LogRecord, Query
from analyzer.model import now_ns as wall_clock_ns
from analyzer.sources import logql
from analyzer.sources.base import LogSource, sort_records
from analyzer.sources.files import FileSource
from analyzer.sources.line_formats import (
    CONTINUATION,
    MAX_MESSAGE_CHARS,
    LineContext,
    parse_line,
    service_from_filename,
)
from analyzer.sources.loki import LokiSource
from analyzer.sources.loki_answers import entries_to_records, streams_entries

TAIL_PATH = "/loki/api/v1/tail"
MAX_LOKI_TAIL_LIMIT = 5000
READ_CHUNK = 4 * 1024 * 1024  # bytes read from one file per poll, so history stays bounded


@dataclass(slots=True)
class TailBatch:
    records: list[LogRecord]
    dropped: int = 0  # lines the source itself dropped (Loki's `dropped_entries`)
    malformed: int = 0
    notice: str | None = None  # something the watcher should know (a reconnect)


class LiveTail(Protocol):
    """What the stream endpoint reads from, whichever source feeds it."""

    name: str
    description: str  # the LogQL sent, or the files followed

    def open(self) -> None: ...

    def next_batch(self, timeout: float) -> TailBatch | None: ...

    def close(self) -> None: ...


def open_tail(
    source: LogSource,
    query: Query,
    *,
    tenant: str | None,
    start_ns: int | None,
    limit: int,
    poll_interval: float = 0.25,
) -> LiveTail:
    """The tail for the configured source; raises `AnalyzerError` if it cannot be tailed.

    Loki filters with the query's LogQL; files are filtered with the same record filter the
    pipeline applies, before history's `limit` (as Loki does), and the caller filters again.
    """
    if isinstance(source, LokiSource):
        return LokiTail(
            source.url,
            logql.log_query(query, service_label=source.service_label(tenant)),
            tenant=tenant or source.default_tenant,
            start_ns=start_ns,
            limit=limit,
            open_timeout=min(source.timeout, 10.0),
            headers=source.auth_headers,
            tls=source.tls,
        )
    if isinstance(source, FileSource):
        return FileFollower(
            source, start_ns=start_ns, limit=limit, poll_interval=poll_interval,
            matches=record_filter(query),
        )
    raise AnalyzerError(
        f"the '{source.name}' source cannot be followed live",
        code="STREAM_UNSUPPORTED",
        status=501,
        suggestion="Use /api/v1/ai_logs/query for this source, or point the analyzer at Loki.",
    )


# ----- Loki ---------------------------------------------------------------------------------


def tail_url(
    base_url: str, query: str, *, start_ns: int, limit: int, delay_for: int = 0
) -> str:
    """`ws(s)://<loki>/loki/api/v1/tail?...` for an `http(s)://` Loki URL."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    params = {"query": query, "start": str(start_ns), "limit": str(limit)}
    if delay_for:
        params["delay_for"] = str(delay_for)
    return urlunsplit((scheme, parts.netloc, parts.path + TAIL_PATH, urlencode(params), ""))


class LokiTail:
    """One tail websocket to Loki for one tenant and one LogQL query."""

    name = "loki"

    def __init__(
        self,
        base_url: str,
        query: str,
        *,
        tenant: str,
        start_ns: int | None = None,
        limit: int = 100,
        delay_for: int = 0,
        open_timeout: float = 10.0,
        max_reconnects: int = 3,
        backoff: float = 0.5,
        headers: dict[str, str] | None = None,
        tls: Any = None,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers or {})  # a gateway's auth, as the source sends it
        self.tls = tls  # the source's ssl.SSLContext (CA, client certificate), for wss://
        self.query = query
        self.tenant = tenant
        # Loki replays the last hour when no start is sent; "from now" must be explicit
        self.start_ns = start_ns
        self.limit = max(1, min(limit, MAX_LOKI_TAIL_LIMIT))
        self.delay_for = delay_for
        self.open_timeout = open_timeout
        self.max_reconnects = max_reconnects
        self.backoff = backoff
        self.description = query
        self.last_ts: int | None = None
        self.reconnects = 0
        self._ws: Any = None
        self._connections = contextlib.ExitStack()

    def open(self) -> None:
        start = self.start_ns if self.start_ns is not None else wall_clock_ns()
        self._ws = self._connect(start)

    def _connect(self, start_ns: int) -> Any:
        from websockets.exceptions import InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        url = tail_url(
            self.base_url, self.query, start_ns=start_ns, limit=self.limit,
            delay_for=self.delay_for,
        )
        try:
            # entered as a context manager: websockets 17 deprecates bare connections
            return self._connections.enter_context(connect(
                url,
                additional_headers={**self.headers, "X-Scope-OrgID": self.tenant},
                user_agent_header="ai-logs-analyzer",
                **({"ssl": self.tls} if self.tls is not None and url.startswith("wss") else {}),
                open_timeout=self.open_timeout,
                max_size=16 * 1024 * 1024,
                compression=None,
            ))
        except InvalidStatus as exc:
            raise _refusal(exc.response.status_code, exc.response.body, self.query) from None
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            raise SourceUnavailable(
                f"cannot open Loki's tail at {self.base_url}: {exc}"
            ) from None

    def next_batch(self, timeout: float) -> TailBatch | None:
        from websockets.exceptions import ConnectionClosed

        if self._ws is None:
            raise RuntimeError("open() the tail first")
        try:
            text = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            return self._reconnect(exc)
        return self._batch(text)

    def _batch(self, text: str | bytes) -> TailBatch:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return TailBatch([], malformed=1)
        if not isinstance(data, dict):
            return TailBatch([], malformed=1)
        entries, bad_values = streams_entries({"result": data.get("streams") or []})
        records, bad_lines = entries_to_records(entries)
        records = sort_records(records)
        if records:
            newest = records[-1].timestamp_ns
            self.last_ts = newest if self.last_ts is None else max(self.last_ts, newest)
        dropped = data.get("dropped_entries") or []
        return TailBatch(
            records, dropped=len(dropped) if isinstance(dropped, list) else 0,
            malformed=bad_values + bad_lines,
        )

    def _reconnect(self, closed: Exception) -> TailBatch:
        """Resume after the last line seen; Loki replays from there, so nothing is lost."""
        if self.reconnects >= self.max_reconnects:
            raise SourceUnavailable(
                f"Loki closed the tail {self.reconnects + 1} times; last: {closed}",
                suggestion="Check Loki's health (GET /readyz), then reconnect.",
            )
        time.sleep(self.backoff * (2**self.reconnects))
        self.reconnects += 1
        resume = self.last_ts + 1 if self.last_ts is not None else wall_clock_ns()
        self._ws = self._connect(resume)
        return TailBatch([], notice=f"Loki closed the tail; resumed after the last line seen "
                                    f"(reconnect {self.reconnects} of {self.max_reconnects})")

    def close(self) -> None:
        if self._ws is not None:
            # closing a broken socket must not hide the real error
            with contextlib.suppress(Exception):
                self._connections.close()
            self._ws = None


def _refusal(status: int, body: bytes | None, query: str) -> AnalyzerError:
    """Loki's plain-text refusal of the upgrade as the error a watcher can act on."""
    message = (body or b"").decode("utf-8", errors="replace").strip()[:1000] or f"HTTP {status}"
    if status == 400:
        return BadQuery(f"Loki refused the tail query: {message}", details={"logql": query})
    if status == 429:
        return RateLimited(
            f"Loki refused the tail: {message}",
            suggestion="Loki limits concurrent tails per tenant (max_concurrent_tail_requests); "
            "close another stream or retry later.",
        )
    return SourceUnavailable(f"Loki answered {status} to the tail request: {message}")


# ----- files --------------------------------------------------------------------------------


@dataclass
class _Cursor:
    """Where reading of one file stands, and the record still open to continuation lines."""

    path: Path
    origin_name: str
    inode: int
    offset: int
    line_no: int
    ctx: LineContext
    pending: LogRecord | None = None
    malformed: int = 0
    gone: bool = False
    mid_line: bool = False  # the offset splits one overlong line
    # the file's context with its format, declared or detected, as the source reads it
    make_context: Callable[[Path], LineContext] | None = None

    @classmethod
    def at(
        cls,
        path: Path,
        origin_name: str,
        *,
        from_end: bool,
        make_context: Callable[[Path], LineContext] | None = None,
    ) -> _Cursor:
        stat = path.stat()
        offset, line_no = _last_line_end(path, stat.st_size) if from_end else (0, 0)
        ctx = make_context(path) if make_context is not None else _context(path, origin_name)
        return cls(path, origin_name, stat.st_ino, offset, line_no, ctx, make_context=make_context)

    def poll(self, *, flush_when_idle: bool = True) -> list[LogRecord]:
        """Records completed since the last poll; the last one waits for continuation lines
        until a poll finds nothing new."""
        try:
            stat = self.path.stat()
        except OSError:
            self.gone = True
            return self._flush()
        if stat.st_ino != self.inode or stat.st_size < self.offset or self._rewritten():
            done = self._flush()
            self.inode, self.offset, self.line_no, self.mid_line = stat.st_ino, 0, 0, False
            self.ctx = (
                self.make_context(self.path)
                if self.make_context is not None
                else _context(self.path, self.origin_name)
            )
            return done + self.poll(flush_when_idle=flush_when_idle)
        if stat.st_size == self.offset:
            return self._flush() if flush_when_idle else []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(min(stat.st_size - self.offset, READ_CHUNK))
        complete = chunk.rfind(b"\n") + 1
        if complete == 0:
            # a partial line: wait for its end, unless it alone fills a whole chunk
            if len(chunk) < READ_CHUNK:
                return self._flush() if flush_when_idle else []
            complete = len(chunk)
        self.mid_line = chunk[complete - 1 : complete] != b"\n"
        self.offset += complete
        out: list[LogRecord] = []
        for raw in chunk[:complete].splitlines():
            self.line_no += 1
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if text.strip():
                self._take(text, out)
        return out

    def _rewritten(self) -> bool:
        """Truncated and written past where we were (copytruncate rotation): the byte before
        the offset is no longer the newline that ended the last line read."""
        if self.offset == 0 or self.mid_line:
            return False
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset - 1)
                return handle.read(1) != b"\n"
        except OSError:
            return False

    def _take(self, text: str, out: list[LogRecord]) -> None:
        parsed = parse_line(text, self.ctx, f"{self.origin_name}:{self.line_no}")
        if parsed is CONTINUATION and self.pending is not None:
            if len(self.pending.message) < MAX_MESSAGE_CHARS:
                self.pending.message = f"{self.pending.message}\n{text}"[:MAX_MESSAGE_CHARS]
            return
        if not isinstance(parsed, LogRecord):
            self.malformed += 1
            return
        if self.pending is not None:
            out.append(self.pending)
        self.pending = parsed

    def _flush(self) -> list[LogRecord]:
        if self.pending is None:
            return []
        done, self.pending = self.pending, None
        return [done]


def _context(path: Path, origin_name: str) -> LineContext:
    """A fresh line context, as FileSource makes one per file (parse_line keeps it current)."""
    stat = path.stat()
    return LineContext(
        stem=service_from_filename(path),
        origin_name=origin_name,
        year=datetime.fromtimestamp(stat.st_mtime, tz=UTC).year,
        mtime_ns=stat.st_mtime_ns,
    )


def _last_line_end(path: Path, size: int) -> tuple[int, int]:
    """(offset just after the last complete line, lines before it): a live reader starts there,
    so a line being written as it connects is read whole once it ends."""
    lines = 0
    last_end = 0
    position = 0
    with path.open("rb") as handle:
        while position < size:
            block = handle.read(min(1024 * 1024, size - position))
            if not block:
                break
            count = block.count(b"\n")
            if count:
                lines += count
                last_end = position + block.rfind(b"\n") + 1
            position += len(block)
    return last_end, lines


class FileFollower:
    """Follows the files of a `FileSource` by polling them for new complete lines."""

    name = "files"

    def __init__(
        self,
        source: FileSource,
        *,
        start_ns: int | None = None,
        limit: int = 100,
        poll_interval: float = 0.25,
        matches: Callable[[LogRecord], bool] | None = None,
    ) -> None:
        self.source = source
        self.matches = matches or (lambda record: True)
        self.start_ns = start_ns
        self.limit = max(1, limit)
        self.poll_interval = poll_interval
        self.description = f"files at {source.path}"
        self._cursors: dict[Path, _Cursor] = {}
        self._history: list[LogRecord] | None = None
        self._reported_malformed = 0

    def open(self) -> None:
        paths = self._followable()
        if not paths:
            raise SourceUnavailable(
                f"no log files to follow at {self.source.path}",
                code="NO_LOG_FILES",
                status=404,
                suggestion="Point --source (or AI_LOGS_SOURCE) at a directory or glob of "
                "*.log / *.jsonl files.",
            )
        replay = self.start_ns is not None
        for path in paths:
            self._cursors[path] = _Cursor.at(
                path, self._origin(path), from_end=not replay, make_context=self.source.line_context
            )
        if replay:
            self._history = self._read_history()

    def _followable(self) -> list[Path]:
        # compressed files are rotated archives: they never grow
        return [p for p in self.source.files() if not p.name.endswith(".gz")]

    def _origin(self, path: Path) -> str:
        root = Path(self.source.path).expanduser()
        if root.is_dir():
            try:
                return str(path.relative_to(root))
            except ValueError:
                return path.name
        return path.name

    def _read_history(self) -> list[LogRecord]:
        """The newest `limit` records at or after `start` in what the files hold now."""
        assert self.start_ns is not None
        kept: list[tuple[int, int, LogRecord]] = []
        seq = 0
        for cursor in self._cursors.values():
            while True:
                before = cursor.offset
                batch = cursor.poll()
                for record in batch:
                    if record.timestamp_ns < self.start_ns or not self.matches(record):
                        continue
                    seq += 1
                    item = (record.timestamp_ns, seq, record)
                    if len(kept) < self.limit:
                        heapq.heappush(kept, item)
                    elif item[:2] > kept[0][:2]:
                        heapq.heapreplace(kept, item)
                if cursor.offset == before and cursor.pending is None:
                    break  # caught up (a partial last line waits for the live phase)
        return [item[2] for item in sorted(kept, key=lambda item: item[:2])]

    def next_batch(self, timeout: float) -> TailBatch | None:
        if self._history is not None:
            history, self._history = self._history, None
            return TailBatch(history, malformed=self._new_malformed())
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            records = list(self._poll_all())
            if records:
                return TailBatch(sort_records(records), malformed=self._new_malformed())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self.poll_interval, remaining))

    def _poll_all(self) -> Iterator[LogRecord]:
        for path in self._followable():
            if path not in self._cursors:
                try:
                    # a file created after connecting is new content from its first line
                    self._cursors[path] = _Cursor.at(
                        path, self._origin(path), from_end=False, make_context=self.source.line_context
                    )
                except OSError:
                    continue
        for path, cursor in list(self._cursors.items()):
            yield from cursor.poll()
            if cursor.gone and not os.path.exists(path):
                del self._cursors[path]

    def _new_malformed(self) -> int:
        total = sum(c.malformed for c in self._cursors.values())
        new, self._reported_malformed = total - self._reported_malformed, total
        return max(0, new)

    def close(self) -> None:
        self._cursors.clear()
