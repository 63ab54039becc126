"""Local log files as a `LogSource`: the embedded default when no Loki is configured.

A path is a file, a directory (searched recursively) or a glob. Each line is a JSON object, a
Docker json-file entry, logfmt, or plain text with a timestamp prefix (redis, RFC 3339, syslog,
`[timestamp] [level]`); a plain line without a timestamp continues the record before it (a stack
trace). Lines that fit none of these are counted as malformed, never fatal.

Files are streamed line by line. The first read of a file builds its index entry (keyed by size
and mtime, so an unchanged file is never re-parsed whole):
- the time span, services and a few label value sets, so files outside a query's window or
  services are skipped and `now_ns`/`services`/`label_values` need no scan;
- small files keep their parsed records (bounded by `max_cached_records` across all files), so
  repeated queries over the bundled sample or a typical dump are served from memory;
- larger files keep byte offsets of blocks of `BLOCK_RECORDS` records with each block's time
  span, so a query seeks straight to the blocks that overlap its window (gzip files, which
  cannot seek, are re-streamed instead).
Matches are kept in a heap of the newest `limit`, so memory is bounded by `limit`, not file size.
`malformed_lines` counts the malformed lines of every file whose time span meets the window.
"""

from __future__ import annotations

import glob
import gzip
import heapq
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from analyzer.analysis.filters import record_filter
from analyzer.errors import SourceUnavailable
from analyzer.model import LogRecord, Query, Severity, TimeRange, instant_ns
from analyzer.model import now_ns as wall_clock_ns
from analyzer.sources.base import FetchResult
from analyzer.sources.records import (
    TIME_KEYS,
    parse_logfmt,
    record_from_mapping,
)

LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt")
SKIPPED_FILES = {"ground_truth.json"}
BLOCK_RECORDS = 4096
MAX_MESSAGE_CHARS = 65_536  # a runaway continuation stops growing here
LABEL_FIELDS = ("service", "level", "workspace_id", "model", "request_type", "job", "env")
MAX_LABEL_VALUES = 1000
DAY_NS = 86_400 * 1_000_000_000
_ROTATION = re.compile(r"\.\d+$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}

# ----- plain-text prefixes ---------------------------------------------------------------------

_REDIS = re.compile(
    r"^(?P<pid>\d+):(?P<role>[XCSM]) (?P<day>\d{1,2}) (?P<mon>[A-Za-z]{3}) (?P<year>\d{4}) "
    r"(?P<clock>\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<char>[.\-*#]) (?P<msg>.*)$"
)
_REDIS_LEVELS = {".": Severity.DEBUG, "-": Severity.DEBUG, "*": Severity.INFO, "#": Severity.WARN}
_ISO = re.compile(
    r"^\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?"
    r"(?:\s+|$)(?P<rest>.*)$"
)
_SYSLOG = re.compile(
    r"^(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<clock>\d{2}:\d{2}:\d{2}) (?P<host>\S+) "
    r"(?P<prog>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)
# Apache-style `[Sun Nov 24 08:00:01.123456 2026] [core:error] message`
_CTIME = re.compile(
    r"^\[(?:[A-Z][a-z]{2} )?(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) "
    r"(?P<clock>\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<year>\d{4})\]\s*(?P<rest>.*)$"
)
_LEVEL_WORDS = (
    r"trace|debug|dbug|verbose|info|information|notice|warn|warning|wrn|error|err|eror|"
    r"fatal|critical|crit|panic|severe|emerg|alert"
)
# `[error]`, `ERROR:`, `<warn>`, `[core:error]`, `- ERROR -`, `level=error`, at the start
_LEVEL_PREFIX = re.compile(
    rf"^(?:-\s+)?[\[(<]?(?:[\w.-]+:)?(?P<level>{_LEVEL_WORDS})[\])>]?(?::|\s+-)?(?:\s+|$)"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Python logging's `name - LEVEL - message` after the time
_NAMED_LEVEL = re.compile(rf"^(?P<name>\S+) - (?P<level>{_LEVEL_WORDS}) - (?P<rest>.*)$", re.I)


# `key=value` pairs inside a plain message (ids such as correlation_id=req-1)
_PAIR = re.compile(r'\b([A-Za-z_][\w.]*)=("[^"]*"|[^\s,;]+)')


class _Continuation:
    """Marker: the line belongs to the previous record."""


CONTINUATION = _Continuation()


@dataclass(slots=True)
class _LineContext:
    """What parsing one line needs to know about its file and the line before it."""

    stem: str
    origin_name: str
    year: int  # syslog lines have none: the file's mtime gives it
    mtime_ns: int
    previous_ts: int | None = None
    previous_plain: bool = False  # only plain-text records take continuation lines


def service_from_filename(path: Path) -> str:
    """`api.jsonl` -> api, `api.log.1` -> api, `worker.jsonl.gz` -> worker."""
    name = path.name
    if name.endswith(".gz"):
        name = name[:-3]
    name = _ROTATION.sub("", name)
    for suffix in LOG_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith("-json"):  # Docker's <container-id>-json.log
        name = name[:-5]
    return name or path.name


def _utc_ns(year: int, month: int, day: int, clock: str) -> int:
    whole, _, fraction = clock.partition(".")
    hour, minute, second = (int(p) for p in whole.split(":"))
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + int(fraction[:9].ljust(9, "0") or 0)


def _split_level(text: str) -> tuple[Severity | None, str]:
    if text.startswith("- "):
        text = text[2:]
    named = _NAMED_LEVEL.match(text)
    if named:
        return Severity.parse(named["level"]), named["rest"]
    match = _LEVEL_PREFIX.match(text)
    if match:
        return Severity.parse(match["level"]), match["rest"]
    return None, text


def _plain_record(
    ts: int,
    level: Severity | None,
    message: str,
    ctx: _LineContext,
    raw: str,
    origin: str,
    extra: dict[str, Any] | None = None,
) -> LogRecord:
    """A plain-text line; trailing `key=value` pairs become fields (ids included)."""
    pairs = dict(_PAIR.findall(message)) if "=" in message else {}
    data: dict[str, Any] = {k: v.strip('"') for k, v in pairs.items()}
    data.update(extra or {})
    data["message"] = message
    if level is not None:
        data["level"] = level.label
    return record_from_mapping(
        data, timestamp_ns=ts, default_service=ctx.stem, raw=raw, origin=origin
    )


def _parse_plain(text: str, ctx: _LineContext, origin: str) -> LogRecord | None:
    match = _REDIS.match(text)
    if match:
        month = _MONTHS.get(match["mon"].lower())
        if month:
            ts = _utc_ns(int(match["year"]), month, int(match["day"]), match["clock"])
            return _redis_record(match, ts, ctx, text, origin)
    match = _ISO.match(text)
    if match:
        try:
            ts = instant_ns(match["ts"].replace(",", ".").replace(" ", "T", 1))
        except ValueError:
            return None
        level, rest = _split_level(match["rest"])
        return _plain_record(ts, level, rest, ctx, text, origin)
    match = _SYSLOG.match(text)
    if match:
        month = _MONTHS.get(match["mon"].lower())
        if month:
            ts = _utc_ns(ctx.year, month, int(match["day"]), match["clock"])
            if ts > ctx.mtime_ns + DAY_NS:
                # syslog has no year: a date after the file was last written is from last year
                ts = _utc_ns(ctx.year - 1, month, int(match["day"]), match["clock"])
            level, rest = _split_level(match["msg"])
            extra = {"app": match["prog"], "host": match["host"]}
            if match["pid"]:
                extra["pid"] = match["pid"]
            return _plain_record(ts, level, rest, ctx, text, origin, extra)
    match = _CTIME.match(text)
    if match:
        month = _MONTHS.get(match["mon"].lower())
        if month:
            ts = _utc_ns(int(match["year"]), month, int(match["day"]), match["clock"])
            level, rest = _split_level(match["rest"])
            return _plain_record(ts, level, rest, ctx, text, origin)
    return None


def _redis_record(
    match: re.Match[str], ts: int, ctx: _LineContext, text: str, origin: str
) -> LogRecord:
    return LogRecord(
        timestamp_ns=ts,
        service=ctx.stem,
        level=_REDIS_LEVELS[match["char"]],
        message=match["msg"],
        fields={"pid": match["pid"], "role": match["role"]},
        raw=text,
        origin=origin,
    )


def _has_time(data: dict[str, Any]) -> bool:
    return any(data.get(key) not in (None, "") for key in TIME_KEYS)


def _from_mapping(
    data: dict[str, Any], ctx: _LineContext, raw: str, origin: str, fallback_ts: int | None
) -> LogRecord | None:
    """A JSON or logfmt mapping; without a time of its own it takes `fallback_ts`, if any."""
    try:
        if _has_time(data):
            return record_from_mapping(data, default_service=ctx.stem, raw=raw, origin=origin)
    except (ValueError, OverflowError):
        return None
    if fallback_ts is None:
        return None
    return record_from_mapping(
        data, timestamp_ns=fallback_ts, default_service=ctx.stem, raw=raw, origin=origin
    )


def _parse_docker(
    entry: dict[str, Any], ctx: _LineContext, raw: str, origin: str
) -> LogRecord | None:
    """Docker json-file: `{"log": "<the app's line>\\n", "stream": ..., "time": ...}`."""
    try:
        docker_ts = instant_ns(entry["time"])
    except (ValueError, OverflowError):
        return None
    inner = str(entry["log"]).rstrip("\r\n")
    attrs = entry.get("attrs") if isinstance(entry.get("attrs"), dict) else {}
    record: LogRecord | None = None
    stripped = inner.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            record = _from_mapping(data, ctx, raw, origin, docker_ts)
    if record is None and "=" in inner and not _ISO.match(inner):
        pairs = parse_logfmt(inner)
        if pairs and (_has_time(pairs) or "msg" in pairs or "level" in pairs):
            record = _from_mapping(pairs, ctx, raw, origin, docker_ts)
    if record is None:
        record = _parse_plain(inner, ctx, origin)
        if record is not None:
            record.raw = raw
    if record is None:
        level, rest = _split_level(inner)
        record = _plain_record(docker_ts, level, rest, ctx, raw, origin)
    record.fields.setdefault("stream", entry.get("stream"))
    name = attrs.get("tag") or attrs.get("name")
    if name and record.service == ctx.stem:
        record.service = str(name)
    return record


def parse_line(text: str, ctx: _LineContext, origin: str) -> LogRecord | _Continuation | None:
    """One line: a record, `CONTINUATION` of the previous record, or None when malformed."""
    result, plain = _parse_line(text, ctx, origin)
    if isinstance(result, LogRecord):
        ctx.previous_ts = result.timestamp_ns
        ctx.previous_plain = plain
    return result


def _parse_line(
    text: str, ctx: _LineContext, origin: str
) -> tuple[LogRecord | _Continuation | None, bool]:
    """The parsed line, and whether it was a plain-text record (which takes continuations)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("log"), str) and "time" in data:
                return _parse_docker(data, ctx, text, origin), False
            return _from_mapping(data, ctx, text, origin, ctx.previous_ts), False
        return (CONTINUATION if ctx.previous_plain else None), False
    record = _parse_plain(text, ctx, origin)
    if record is not None:
        return record, True
    if "=" in stripped:
        pairs = parse_logfmt(stripped)
        if pairs and (_has_time(pairs) or "msg" in pairs or "level" in pairs):
            record = _from_mapping(pairs, ctx, text, origin, ctx.previous_ts)
            if record is not None:
                return record, False
    return (CONTINUATION if ctx.previous_plain else None), False


# ----- reading files ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    offset: int  # byte offset of the block's first line
    line: int  # its line number (1-based)
    min_ts: int
    max_ts: int
    end_offset: int = 0


@dataclass
class _FileIndex:
    path: Path
    size: int
    mtime_ns: int
    first_ts: int | None = None
    last_ts: int | None = None
    records: int = 0
    malformed: int = 0
    services: set[str] = field(default_factory=set)
    label_values: dict[str, set[str]] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)
    cached: list[LogRecord] | None = None

    def overlaps(self, window: TimeRange) -> bool:
        if self.first_ts is None or self.last_ts is None:
            return False
        return self.first_ts <= window.end_ns and self.last_ts >= window.start_ns

    def note(self, record: LogRecord) -> None:
        ts = record.timestamp_ns
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.records += 1
        self.services.add(record.service)
        for label in LABEL_FIELDS:
            value = record.level.label if label == "level" else getattr(record, label, None)
            if value is None:
                value = record.labels.get(label) or record.fields.get(label)
            if value not in (None, ""):
                values = self.label_values.setdefault(label, set())
                if len(values) < MAX_LABEL_VALUES:
                    values.add(str(value))


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _is_log_file(path: Path) -> bool:
    name = path.name
    if name in SKIPPED_FILES or name.startswith("."):
        return False
    if name.endswith(".gz"):
        name = name[:-3]
    name = _ROTATION.sub("", name)
    return name.endswith(LOG_SUFFIXES)


class FileSource:
    """Log files on disk behind the `LogSource` seam; `tenant` is ignored (files have none)."""

    name = "files"

    def __init__(
        self, path: str, *, clock: str = "latest", max_cached_records: int = 50_000
    ) -> None:
        if clock not in ("latest", "wall"):
            raise ValueError("clock must be 'latest' or 'wall'")
        self.path = path
        self.clock = clock
        self.max_cached_records = max_cached_records
        self._index: dict[Path, _FileIndex] = {}
        self._lock = threading.Lock()

    # ----- discovery and index ------------------------------------------------------------

    def files(self) -> list[Path]:
        """The log files the path names today (a directory or glob may gain files)."""
        root = Path(self.path).expanduser()
        if root.is_file():
            return [root]
        if root.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                found.extend(Path(dirpath) / f for f in filenames)
            return sorted(p for p in found if _is_log_file(p))
        matches = glob.glob(os.path.expanduser(self.path), recursive=True)
        return sorted(
            Path(p) for p in matches if Path(p).is_file() and Path(p).name not in SKIPPED_FILES
        )

    def _origin_name(self, path: Path) -> str:
        root = Path(self.path).expanduser()
        if root.is_dir():
            try:
                return str(path.relative_to(root))
            except ValueError:
                return path.name
        return path.name

    def _current_index(self, path: Path) -> _FileIndex | None:
        """The index entry if the file is unchanged since it was built."""
        try:
            stat = path.stat()
        except OSError:
            return None
        entry = self._index.get(path)
        if entry is not None and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
            return entry
        return None

    def _cached_total(self, excluding: Path) -> int:
        return sum(
            len(e.cached) for p, e in self._index.items() if e.cached is not None and p != excluding
        )

    def _build(self, path: Path, on_record: Callable[[LogRecord], None] | None) -> _FileIndex:
        """One full pass over a file: the index entry, and each record to `on_record`."""
        stat = path.stat()
        entry = _FileIndex(path, stat.st_size, stat.st_mtime_ns)
        budget = self.max_cached_records - self._cached_total(path)
        cached: list[LogRecord] | None = [] if budget > 0 else None
        seekable = not path.name.endswith(".gz")
        block: _Block | None = None
        in_block = 0
        for offset, line_no, record, malformed in self._stream(path):
            if malformed:
                entry.malformed += 1
                continue
            assert record is not None
            entry.note(record)
            if seekable:
                if block is None or in_block >= BLOCK_RECORDS:
                    if block is not None:
                        block.end_offset = offset
                    block = _Block(offset, line_no, record.timestamp_ns, record.timestamp_ns)
                    entry.blocks.append(block)
                    in_block = 0
                in_block += 1
                block.min_ts = min(block.min_ts, record.timestamp_ns)
                block.max_ts = max(block.max_ts, record.timestamp_ns)
            if cached is not None:
                cached.append(record)
                if len(cached) > budget:
                    cached = None
            if on_record is not None:
                on_record(record)
        if block is not None:
            block.end_offset = entry.size
        entry.cached = cached
        with self._lock:
            self._index[path] = entry
        return entry

    def _stream(
        self, path: Path, start: int = 0, end: int | None = None, first_line: int = 1
    ) -> Iterator[tuple[int, int, LogRecord | None, bool]]:
        """(offset, line number, record, malformed) per record, with continuations folded in.

        A record is yielded when the next one starts, so the offset is that of its first line.
        """
        stat = path.stat()
        year = datetime.fromtimestamp(stat.st_mtime, tz=UTC).year
        ctx = _LineContext(
            service_from_filename(path), self._origin_name(path), year, stat.st_mtime_ns
        )
        pending: tuple[int, int, LogRecord] | None = None
        offset = start
        line_no = first_line - 1
        with _open_binary(path) as handle:
            if start:
                handle.seek(start)
            for raw in handle:
                line_no += 1
                line_start = offset
                offset += len(raw)
                if end is not None and line_start >= end:
                    break
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not text.strip():
                    continue
                parsed = parse_line(text, ctx, f"{ctx.origin_name}:{line_no}")
                if parsed is CONTINUATION and pending is not None:
                    record = pending[2]
                    if len(record.message) < MAX_MESSAGE_CHARS:
                        record.message = f"{record.message}\n{text}"[:MAX_MESSAGE_CHARS]
                    continue
                if parsed is None or parsed is CONTINUATION:
                    yield line_start, line_no, None, True
                    continue
                assert isinstance(parsed, LogRecord)
                if pending is not None:
                    yield pending[0], pending[1], pending[2], False
                pending = (line_start, line_no, parsed)
        if pending is not None:
            yield pending[0], pending[1], pending[2], False

    def _entries(self) -> list[_FileIndex]:
        """Index entries for every file, building those that are new or changed."""
        out = []
        for path in self.files():
            entry = self._current_index(path) or self._build(path, None)
            out.append(entry)
        return out

    # ----- LogSource ----------------------------------------------------------------------

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult:
        window = (
            query.window(now=self.now_ns()) if not (query.start and query.end) else query.window()
        )
        paths = self.files()
        if not paths:
            raise SourceUnavailable(
                f"no log files found at {self.path}",
                code="NO_LOG_FILES",
                suggestion="Point --source (or AI_LOGS_SOURCE) at a file, directory or glob of "
                "*.log / *.jsonl files.",
                status=404,
            )
        matches = record_filter(query)
        wanted = set(query.services)
        kept: list[tuple[int, int, LogRecord]] = []
        seq = 0
        matched = 0
        malformed = 0
        read_files = 0
        parsed_lines = 0

        def offer(record: LogRecord) -> None:
            nonlocal seq, matched
            if not window.contains(record.timestamp_ns) or not matches(record):
                return
            matched += 1
            seq += 1
            item = (record.timestamp_ns, seq, record)
            if limit is None:
                kept.append(item)
            elif len(kept) < limit:
                heapq.heappush(kept, item)
            elif item[:2] > kept[0][:2]:
                heapq.heapreplace(kept, item)

        for path in paths:
            entry = self._current_index(path)
            if entry is None:
                read_files += 1
                counter = _Counter(offer)
                entry = self._build(path, counter)
                parsed_lines += counter.count
                if entry.overlaps(window):
                    malformed += entry.malformed
                continue
            if not entry.overlaps(window) or (wanted and not wanted & entry.services):
                continue
            malformed += entry.malformed
            if entry.cached is not None:
                for record in entry.cached:
                    offer(record)
                continue
            read_files += 1
            for start, end, line in self._block_ranges(entry, window):
                for _, _, record, bad in self._stream(path, start, end, line):
                    parsed_lines += 1
                    if not bad and record is not None:
                        offer(record)

        records = [item[2] for item in sorted(kept, key=lambda item: item[:2])]
        return FetchResult(
            records=records,
            window=window,
            truncated=limit is not None and matched > limit,
            malformed_lines=malformed,
            stats={
                "files": len(paths),
                "files_read": read_files,
                "records_parsed": parsed_lines,
                "matched": matched,
            },
        )

    @staticmethod
    def _block_ranges(entry: _FileIndex, window: TimeRange) -> list[tuple[int, int | None, int]]:
        """Byte ranges of the blocks that may hold lines in the window (adjacent ones merged)."""
        if not entry.blocks:
            return [(0, None, 1)]
        ranges: list[tuple[int, int | None, int]] = []
        for block in entry.blocks:
            if block.max_ts < window.start_ns or block.min_ts > window.end_ns:
                continue
            if ranges and ranges[-1][1] == block.offset:
                ranges[-1] = (ranges[-1][0], block.end_offset, ranges[-1][2])
            else:
                ranges.append((block.offset, block.end_offset, block.line))
        return ranges

    def services(self, *, tenant: str | None = None) -> list[str]:
        found: set[str] = set()
        for entry in self._entries():
            found |= entry.services
        return sorted(found)

    def label_values(self, label: str, *, tenant: str | None = None) -> list[str]:
        found: set[str] = set()
        for entry in self._entries():
            found |= entry.label_values.get(label, set())
        return sorted(found)

    def now_ns(self) -> int:
        """`latest`: the newest line, so "last 2h" over a dump means its last two hours."""
        if self.clock == "wall":
            return wall_clock_ns()
        newest = [e.last_ts for e in self._entries() if e.last_ts is not None]
        return max(newest) if newest else wall_clock_ns()

    def check(self) -> dict[str, Any]:
        paths = self.files()
        if not paths:
            return {"ok": False, "detail": f"no log files at {self.path}"}
        unreadable = [p.name for p in paths if not os.access(p, os.R_OK)]
        if unreadable:
            return {"ok": False, "detail": f"cannot read {', '.join(unreadable[:5])}"}
        return {"ok": True, "detail": f"{len(paths)} log file(s) at {self.path}"}


class _Counter:
    """Counts what passes through to `target` (records parsed on a building pass)."""

    def __init__(self, target: Callable[[LogRecord], None]) -> None:
        self.target = target
        self.count = 0

    def __call__(self, record: LogRecord) -> None:
        self.count += 1
        self.target(record)
