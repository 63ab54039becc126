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
A JSON line becomes a LogRecord only when a query keeps it: its time, service and level (all
the index and the usual filters need) are read from the parsed mapping first. A relative query
over new files reads them once, building the index and the answer together for the window their
last lines suggest (read again from the index only if a newer line turns up elsewhere).
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
from collections.abc import Iterator
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
    mapping_id,
    mapping_summary,
    parse_logfmt,
    record_from_mapping,
)

try:  # several times faster than json on the lines of a large dump
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - an environment installed before the dependency
    _loads = json.loads

LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt")
SKIPPED_FILES = {"ground_truth.json"}
BLOCK_RECORDS = 1024
MAX_MESSAGE_CHARS = 65_536  # a runaway continuation stops growing here
LABEL_FIELDS = ("service", "level", "workspace_id", "model", "request_type", "job", "env")
MAX_LABEL_VALUES = 1000
DAY_NS = 86_400 * 1_000_000_000
TAIL_PROBE_BYTES = 65_536  # read from the end of a new file to guess the newest line's time
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


# ----- lines read ahead of their records --------------------------------------------------------
#
# Most lines of a large dump fall outside the query's window or below its threshold. A JSON line
# is therefore parsed to a mapping, and only its time, service and level are read from it (what
# the index and the query's filters need); the LogRecord is built only for lines a query keeps.


def _load_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, None when it is not one (the line-by-line path decides then)."""
    try:
        data = _loads(line)
    except ValueError:  # orjson's and json's decode errors, and invalid UTF-8
        return None
    return data if type(data) is dict else None


@dataclass(frozen=True, slots=True)
class _FileNames:
    stem: str  # the service of records that name none
    origin_name: str  # "api.jsonl" in a record's origin "api.jsonl:12"


class _Lazy:
    """A JSON line parsed to its mapping; `record()` builds (once) the LogRecord it stands for."""

    __slots__ = ("_record", "data", "line_no", "names", "raw", "ts")

    def __init__(
        self, data: dict[str, Any], raw: bytes, ts: int, line_no: int, names: _FileNames
    ) -> None:
        self.data = data
        self.raw = raw
        self.ts = ts
        self.line_no = line_no
        self.names = names
        self._record: LogRecord | None = None

    def record(self) -> LogRecord:
        if self._record is None:
            self._record = record_from_mapping(
                self.data,
                timestamp_ns=self.ts,
                default_service=self.names.stem,
                raw=self.raw.decode("utf-8", errors="replace").rstrip("\r\n"),
                origin=f"{self.names.origin_name}:{self.line_no}",
            )
        return self._record


# One record as a scan yields it: the offset and number of its first line, its time (None for a
# malformed line), service and level, and the record itself or the mapping it will be built from
# with the raw line.
_Scanned = tuple[
    int, int, int | None, str, Severity | None, LogRecord | dict[str, Any] | None, bytes
]
# A record kept in memory for a small file: time, service, level, and the record or its stand-in.
_Cached = tuple[int, str, Severity, LogRecord | _Lazy]


def _as_record(item: LogRecord | _Lazy) -> LogRecord:
    return item if type(item) is LogRecord else item.record()  # type: ignore[union-attr]


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
    cached: list[_Cached] | None = None

    def overlaps(self, window: TimeRange) -> bool:
        if self.first_ts is None or self.last_ts is None:
            return False
        return self.first_ts <= window.end_ns and self.last_ts >= window.start_ns

    def note_labels(self, values: tuple[str | None, ...]) -> None:
        """Add one record's label values (`_label_values`) to the sets, each kept bounded."""
        label_values = self.label_values
        for label, text in zip(LABEL_FIELDS, values):  # noqa: B905 - both are LABEL_FIELDS long
            if not text:
                continue
            found = label_values.get(label)
            if found is None:
                found = label_values[label] = set()
            if text not in found and len(found) < MAX_LABEL_VALUES:
                found.add(text)


def _label_values(
    service: str, level: Severity, item: LogRecord | dict[str, Any]
) -> tuple[str | None, ...]:
    """The `LABEL_FIELDS` of a record, or of the record a mapping will make, as text (so that
    equal tuples mean equal labels: 1 == 1.0 == True, but not as text)."""
    if isinstance(item, LogRecord):
        return tuple(_label_text(_record_label(item, label)) for label in LABEL_FIELDS)
    get = item.get
    workspace, model, request_type, job, env = (
        get("workspace_id"),
        get("model"),
        get("request_type"),
        get("job"),
        get("env"),
    )
    return (
        service,
        _LEVEL_LABELS[level],
        workspace if type(workspace) is str else mapping_id(item, "workspace_id"),
        model if model is None or type(model) is str else str(model),
        request_type if request_type is None or type(request_type) is str else str(request_type),
        job if job is None or type(job) is str else str(job),
        env if env is None or type(env) is str else str(env),
    )


def _label_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


_LEVEL_LABELS = {level: level.label for level in Severity}


def _record_label(record: LogRecord, label: str) -> Any:
    value = record.level.label if label == "level" else getattr(record, label, None)
    if value is None:
        value = record.labels.get(label) or record.fields.get(label)
    return value


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


class _Collector:
    """The newest `limit` records in the window that the query keeps (all of them without one).

    The query's service, severity and id filters are checked on a line's mapping, so a LogRecord
    is built only for a line that is kept (and, with exclude patterns, for each candidate).
    """

    def __init__(self, query: Query, window: TimeRange, limit: int | None) -> None:
        self.start = window.start_ns
        self.end = window.end_ns
        self.limit = limit
        self.services = set(query.services)
        self.threshold = query.severity_threshold
        self.ids = query.ids()
        self.excludes = bool(query.exclude_patterns)
        self.matches = record_filter(query)
        self.kept: list[tuple[int, int, LogRecord | _Lazy]] = []
        self.seq = 0
        self.matched = 0

    def _mapping_kept(self, service: str, level: Severity, data: dict[str, Any]) -> bool:
        if self.services and service not in self.services:
            return False
        if self.threshold is not None and level < self.threshold:
            return False
        return all(mapping_id(data, name) == wanted for name, wanted in self.ids.items())

    def offer_line(self, scanned: _Scanned, names: _FileNames) -> None:
        """A record straight from a scan (see `_Scanned`)."""
        _, line_no, ts, service, level, obj, raw = scanned
        if ts is None or ts < self.start or ts > self.end:
            return
        item: LogRecord | _Lazy | None = None
        if type(obj) is dict:
            assert level is not None
            if not self._mapping_kept(service, level, obj):
                return
            if self.excludes:
                item = _Lazy(obj, raw, ts, line_no, names)
                if not self.matches(item.record()):
                    return
        else:
            assert isinstance(obj, LogRecord)
            if not self.matches(obj):
                return
            item = obj
        if self._room_for(ts):
            self._push(ts, item or _Lazy(obj, raw, ts, line_no, names))  # type: ignore[arg-type]

    def offer_cached(self, cached: _Cached) -> None:
        ts, service, level, item = cached
        if ts < self.start or ts > self.end:
            return
        if type(item) is _Lazy:
            if not self._mapping_kept(service, level, item.data):
                return
            if self.excludes and not self.matches(item.record()):
                return
        elif not self.matches(item):  # type: ignore[arg-type]
            return
        if self._room_for(ts):
            self._push(ts, item)

    def _room_for(self, ts: int) -> bool:
        """Count a match; False when the heap is full of records at least as new."""
        self.matched += 1
        kept = self.kept
        # later offers win ties (their sequence number is higher), hence `<` and not `<=`
        return self.limit is None or len(kept) < self.limit or ts >= kept[0][0]

    def _push(self, ts: int, item: LogRecord | _Lazy) -> None:
        self.seq += 1
        entry = (ts, self.seq, item)
        if self.limit is None:
            self.kept.append(entry)
        elif len(self.kept) < self.limit:
            heapq.heappush(self.kept, entry)
        else:
            heapq.heapreplace(self.kept, entry)

    def records(self) -> list[LogRecord]:
        return [_as_record(item) for _, _, item in sorted(self.kept, key=lambda e: e[:2])]


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

    def _context(self, path: Path) -> _LineContext:
        stat = path.stat()
        year = datetime.fromtimestamp(stat.st_mtime, tz=UTC).year
        return _LineContext(
            service_from_filename(path), self._origin_name(path), year, stat.st_mtime_ns
        )

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

    def _build(self, path: Path, collector: _Collector | None) -> tuple[_FileIndex, int]:
        """One full pass over a file: its index entry, each record offered to `collector`, and
        the number of records read. Runs once per line of every new file: kept lean."""
        stat = path.stat()
        entry = _FileIndex(path, stat.st_size, stat.st_mtime_ns)
        budget = self.max_cached_records - self._cached_total(path)
        cached: list[_Cached] | None = [] if budget > 0 else None
        seekable = not path.name.endswith(".gz")
        names = self._names(path)
        first_ts = last_ts = None
        records = malformed = 0
        services = entry.services
        seen_labels: set[tuple[str | None, ...]] = set()  # most lines repeat a combination
        block: _Block | None = None
        in_block = 0
        for scanned in self._scan(path):
            offset, line_no, ts, service, level, obj, raw = scanned
            if ts is None:
                malformed += 1
                continue
            assert level is not None and obj is not None
            records += 1
            if first_ts is None:
                first_ts = last_ts = ts
            elif ts > last_ts:  # type: ignore[operator]
                last_ts = ts
            elif ts < first_ts:
                first_ts = ts
            services.add(service)
            labels = _label_values(service, level, obj)
            if labels not in seen_labels:
                if len(seen_labels) < MAX_LABEL_VALUES:
                    seen_labels.add(labels)
                entry.note_labels(labels)
            if seekable:
                if in_block == 0 or in_block >= BLOCK_RECORDS:
                    if block is not None:
                        block.end_offset = offset
                    block = _Block(offset, line_no, ts, ts)
                    entry.blocks.append(block)
                    in_block = 0
                in_block += 1
                if ts > block.max_ts:  # type: ignore[union-attr]
                    block.max_ts = ts  # type: ignore[union-attr]
                elif ts < block.min_ts:  # type: ignore[union-attr]
                    block.min_ts = ts  # type: ignore[union-attr]
            if cached is not None:
                if records == BLOCK_RECORDS and offset * budget < BLOCK_RECORDS * entry.size:
                    cached = None  # at this many bytes a record, the file will not fit
                else:
                    item = _Lazy(obj, raw, ts, line_no, names) if type(obj) is dict else obj
                    cached.append((ts, service, level, item))  # type: ignore[arg-type]
                    if len(cached) > budget:
                        cached = None
            if collector is not None:
                collector.offer_line(scanned, names)
        if block is not None:
            block.end_offset = entry.size
        entry.first_ts, entry.last_ts = first_ts, last_ts
        entry.records, entry.malformed = records, malformed
        entry.cached = cached
        with self._lock:
            self._index[path] = entry
        return entry, records

    def _names(self, path: Path) -> _FileNames:
        return _FileNames(service_from_filename(path), self._origin_name(path))

    def _scan(
        self, path: Path, start: int = 0, end: int | None = None, first_line: int = 1
    ) -> Iterator[_Scanned]:
        """Each record of the file (or of the byte range), continuations folded in, and each
        malformed line (time None). A plain-text record is yielded once the next line shows it
        has no more continuation lines; the offset is always that of the record's first line."""
        ctx = self._context(path)
        stem = ctx.stem
        # a plain-text record that may take continuation lines, and the record itself
        pending: _Scanned | None = None
        pending_record = LogRecord(0, "", Severity.INFO, "")
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
                stripped = raw.strip()
                data = _load_object(stripped) if stripped.startswith(b"{") else None
                if data is not None and not (type(data.get("log")) is str and "time" in data):
                    try:
                        ts, service, level = mapping_summary(data, stem)
                    except (ValueError, OverflowError):
                        yield line_start, line_no, None, stem, None, None, raw
                        continue
                    if ts is None:
                        ts = ctx.previous_ts  # a line without a time of its own
                        if ts is None:
                            yield line_start, line_no, None, stem, None, None, raw
                            continue
                    ctx.previous_ts = ts
                    ctx.previous_plain = False
                    if pending is not None:
                        yield pending
                        pending = None
                    yield line_start, line_no, ts, service, level, data, raw
                    continue
                # everything else (plain text, logfmt, Docker entries) line by line
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not text.strip():
                    continue
                origin = f"{ctx.origin_name}:{line_no}"
                if data is not None:  # a Docker json-file entry, already parsed
                    parsed: LogRecord | _Continuation | None = _parse_docker(
                        data, ctx, text, origin
                    )
                    if parsed is not None:
                        ctx.previous_ts = parsed.timestamp_ns
                        ctx.previous_plain = False
                else:
                    parsed = parse_line(text, ctx, origin)
                if parsed is CONTINUATION and pending is not None:
                    message = pending_record.message
                    if len(message) < MAX_MESSAGE_CHARS:
                        pending_record.message = f"{message}\n{text}"[:MAX_MESSAGE_CHARS]
                    continue
                if not isinstance(parsed, LogRecord):
                    yield line_start, line_no, None, stem, None, None, raw
                    continue
                if pending is not None:
                    yield pending
                    pending = None
                scanned = (
                    line_start,
                    line_no,
                    parsed.timestamp_ns,
                    parsed.service,
                    parsed.level,
                    parsed,
                    raw,
                )
                if ctx.previous_plain:
                    pending, pending_record = scanned, parsed
                else:
                    yield scanned
        if pending is not None:
            yield pending

    def _entries(self) -> list[_FileIndex]:
        """Index entries for every file, building those that are new or changed."""
        return [self._current_index(path) or self._build(path, None)[0] for path in self.files()]

    def _newest_in_tail(self, path: Path) -> int | None:
        """The newest time among a file's last lines: what `now_ns` will most likely say once the
        whole file is read, found without reading it (None for gzip files, which cannot seek)."""
        if path.name.endswith(".gz"):
            return None
        ctx = self._context(path)
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_PROBE_BYTES))
            chunk = handle.read(TAIL_PROBE_BYTES)
        lines = chunk.splitlines()
        if size > TAIL_PROBE_BYTES:
            lines = lines[1:]  # the first is cut
        newest = None
        for line in lines:
            parsed = parse_line(line.decode("utf-8", errors="replace"), ctx, "")
            if isinstance(parsed, LogRecord):
                newest = parsed.timestamp_ns if newest is None else max(newest, parsed.timestamp_ns)
        return newest

    def _likely_now(self, paths: list[Path]) -> int:
        """`now_ns` without a first read of new files: indexed files say, new ones are probed."""
        newest = []
        for path in paths:
            entry = self._current_index(path)
            stamp = entry.last_ts if entry is not None else self._newest_in_tail(path)
            if stamp is not None:
                newest.append(stamp)
        return max(newest) if newest else wall_clock_ns()

    # ----- LogSource ----------------------------------------------------------------------

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult:
        paths = self.files()
        if not paths:
            raise SourceUnavailable(
                f"no log files found at {self.path}",
                code="NO_LOG_FILES",
                suggestion="Point --source (or AI_LOGS_SOURCE) at a file, directory or glob of "
                "*.log / *.jsonl files.",
                status=404,
            )
        if query.start and query.end:
            return self._collect(paths, query, query.window(), limit)
        if self.clock == "wall":
            return self._collect(paths, query, query.window(now=wall_clock_ns()), limit)
        # A relative window ends at the newest line. New files are read once, building their
        # index and answering together, for the window their last lines suggest; should a line
        # elsewhere be newer, the answer is read again from the now complete index.
        guessed = query.window(now=self._likely_now(paths))
        result = self._collect(paths, query, guessed, limit)
        exact = query.window(now=self.now_ns())
        if exact == guessed:
            return result
        again = self._collect(self.files(), query, exact, limit)
        again.stats["records_parsed"] += result.stats["records_parsed"]
        again.stats["files_read"] += result.stats["files_read"]
        return again

    def _collect(
        self, paths: list[Path], query: Query, window: TimeRange, limit: int | None
    ) -> FetchResult:
        collector = _Collector(query, window, limit)
        wanted = set(query.services)
        malformed = 0
        read_files = 0
        parsed_lines = 0
        for path in paths:
            entry = self._current_index(path)
            if entry is None:
                read_files += 1
                entry, parsed = self._build(path, collector)
                parsed_lines += parsed
                if entry.overlaps(window):
                    malformed += entry.malformed
                continue
            if not entry.overlaps(window) or (wanted and not wanted & entry.services):
                continue
            malformed += entry.malformed
            if entry.cached is not None:
                for cached in entry.cached:
                    collector.offer_cached(cached)
                continue
            read_files += 1
            names = self._names(path)
            for start, end, line in self._block_ranges(entry, window):
                for scanned in self._scan(path, start, end, line):
                    parsed_lines += 1
                    collector.offer_line(scanned, names)
        return FetchResult(
            records=collector.records(),
            window=window,
            truncated=limit is not None and collector.matched > limit,
            malformed_lines=malformed,
            stats={
                "files": len(paths),
                "files_read": read_files,
                "records_parsed": parsed_lines,
                "matched": collector.matched,
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
