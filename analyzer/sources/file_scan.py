"""Reading a log file as entries: each record's time, service and level, and what builds it.

Most lines of a large dump are never shown to anyone: they are only counted. So a JSON line
goes through a fast path first that finds its time, level and service by the byte patterns of
their keys (learned from the file's first JSON object, see `JsonLayout`) without parsing the
object; it is parsed only when someone asks for its fields or its record. Plain text, logfmt
and Docker lines go through `line_formats` one by one, continuation lines folded into the
record before them.

An entry is `(offset, line_no, ts, service, level, item, raw)`: the byte offset and number of
the record's first line, its time (None for a line that could not be read: malformed), service
and level, and `item`, the record itself (plain text), the parsed mapping (JSON), or None (a
JSON line read by the fast path, parsed on demand by `entry_mapping`).
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from analyzer.model import LogRecord, Severity
from analyzer.sources.line_formats import (
    CONTINUATION,
    MAX_MESSAGE_CHARS,
    LineContext,
    _Continuation,
    _parse_docker,
    parse_line,
)
from analyzer.sources.records import (
    LEVEL_KEYS,
    SERVICE_KEYS,
    TIME_KEYS,
    _second_epoch,
    mapping_summary,
    record_from_mapping,
    severity_of,
)

try:  # several times faster than json on the lines of a large dump
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - an environment installed before the dependency
    import json

    _loads = json.loads

READ_CHUNK = 1 << 20

Item = LogRecord | dict[str, Any] | None
Entry = tuple[int, int, int | None, str, Severity | None, Item, bytes]


def load_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, None when it is not one."""
    try:
        data = _loads(line)
    except ValueError:  # orjson's and json's decode errors, and invalid UTF-8
        return None
    return data if type(data) is dict else None


def open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


@dataclass(frozen=True, slots=True)
class FileNames:
    stem: str  # the service of records that name none
    origin_name: str  # "api.jsonl" in a record's origin "api.jsonl:12"


class JsonLayout:
    """Where a file's JSON lines keep their time, level and service, as byte patterns.

    Learned from one parsed line: the first time, level and service keys `mapping_summary`
    would read, each holding a string. A line is read by the fast path only when it holds the
    time and level patterns and its values read cleanly; otherwise it is parsed whole, so a
    line that differs from the first (other keys, a number as time) is still read right. A
    file whose lines name no service must also not name one under another key on the line.
    """

    __slots__ = ("columns", "level", "regex", "service", "service_keys", "time")

    def __init__(
        self, stamp: bytes, level: bytes, service: bytes | None, order: tuple[str, ...] = ()
    ) -> None:
        self.time = stamp
        self.level = level
        self.service = service
        self.service_keys = tuple(f'"{k}"'.encode() for k in SERVICE_KEYS)
        # columnar reads: the three fields in the order the lines write them, one match a line
        self.regex: re.Pattern[bytes] | None = None
        self.columns = (0, 1, 2)
        if service is not None and sorted(order) == ["level", "service", "time"]:
            needles = {"time": stamp, "level": level, "service": service}
            parts = []
            for role in order:
                value = _TIME_VALUE if role == "time" else _TEXT_VALUE
                parts.append(re.escape(needles[role]) + value)
            # starts with the first key, a literal the engine searches for fast; a line that
            # held the fields twice would be caught by the count of matches against lines
            self.regex = re.compile(rb"[^\n]*?".join(parts))
            self.columns = (order.index("time"), order.index("level"), order.index("service"))

    @classmethod
    def learn(cls, data: dict[str, Any], raw: bytes) -> JsonLayout | None:
        stamp = _needle(data, raw, TIME_KEYS)
        level = _needle(data, raw, LEVEL_KEYS)
        if stamp is None or level is None:
            return None
        if any(data.get(k) not in (None, "") for k in TIME_KEYS[: TIME_KEYS.index(stamp[0])]):
            return None
        service = _needle(data, raw, SERVICE_KEYS)
        found = {"time": raw.find(stamp[1]), "level": raw.find(level[1])}
        if service is not None:
            found["service"] = raw.find(service[1])
        order = tuple(sorted(found, key=found.__getitem__))
        return cls(stamp[1], level[1], service[1] if service else None, order)


# a time the columnar read takes (UTC, `Z`): its second is captured, its fraction checked
_TIME_VALUE = rb'([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,9})?(?:Z|\+00:00)"'
_TEXT_VALUE = rb'([^"\\\n]*)"'


def _needle(data: dict[str, Any], raw: bytes, keys: tuple[str, ...]) -> tuple[str, bytes] | None:
    """The first of `keys` that holds a non-empty string: its name and the bytes that open its
    value as the line writes them, `"key":"` or `"key": "` (Python's json.dumps)."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        if type(value) is not str:
            return None
        for needle in (f'"{key}":"'.encode(), f'"{key}": "'.encode()):
            if needle in raw:
                return key, needle
        return None
    return None


_SERVICES: dict[bytes, str] = {}
_LEVELS: dict[bytes, Severity] = {}
_SECONDS: dict[bytes, int] = {}  # b"YYYY-MM-DDTHH:MM:SS" -> epoch second
_FRACTION_SCALE = tuple(10 ** (9 - n) for n in range(10))


def _bytes_time_ns(value: bytes) -> int | None:
    """`YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (or `+00:00`) as bytes, by fixed positions; None
    otherwise."""
    if value[-6:] == b"+00:00":  # UTC written as an offset: the same instant as `Z`
        value = value[:-6] + b"Z"
    size = len(value)
    if size < 20 or size > 30 or value[-1] != 90:  # "Z"
        return None
    prefix = value[:19]
    second = _SECONDS.get(prefix)
    if second is None:
        try:
            second = _second_epoch(prefix.decode("ascii"))
        except UnicodeDecodeError:
            return None
        if second is None:
            return None
        if len(_SECONDS) >= 65_536:
            _SECONDS.clear()
        _SECONDS[prefix] = second
    if size == 20:
        return second * 1_000_000_000
    digits = value[20:-1]
    if value[19] != 46 or not digits.isdigit():  # "."
        return None
    return second * 1_000_000_000 + int(digits) * _FRACTION_SCALE[size - 21]


def _value(raw: bytes, needle: bytes) -> bytes | None:
    """The string value after `needle` (`"key":"`), up to its closing quote."""
    i = raw.find(needle)
    if i < 0:
        return None
    i += len(needle)
    j = raw.find(b'"', i)
    return None if j < 0 else raw[i:j]


def fast_summary(layout: JsonLayout, raw: bytes, stem: str) -> tuple[int, str, Severity] | None:
    """Time, service and level of a JSON line from its bytes, None when the line needs a parse
    (a line cut short, which does not end its object, is parsed and found malformed)."""
    if raw[-1:] != b"}" and not raw.rstrip().endswith(b"}"):
        return None
    value = _value(raw, layout.time)
    ts = None if value is None else _bytes_time_ns(value)
    if ts is None:
        return None
    value = _value(raw, layout.level)
    if value is None:
        return None
    level = _LEVELS.get(value)
    if level is None:
        if b"\\" in value:
            return None
        level = severity_of(value.decode("utf-8", errors="replace"))
        if len(_LEVELS) < 1024:
            _LEVELS[value] = level
    if layout.service is None:
        for key in layout.service_keys:
            if key in raw:
                return None
        return ts, stem, level
    value = _value(raw, layout.service)
    if not value:
        return None
    service = _SERVICES.get(value)
    if service is None:
        if b"\\" in value:
            return None
        service = value.decode("utf-8", errors="replace")
        if len(_SERVICES) < 4096:
            _SERVICES[value] = service
    return ts, service, level


def entry_mapping(entry: Entry) -> dict[str, Any] | None:
    """The parsed mapping of a JSON entry (parsing it now if the fast path skipped it)."""
    item = entry[5]
    if type(item) is dict:
        return item
    if item is None:
        return load_object(entry[6].strip())
    return None


def entry_record(entry: Entry, names: FileNames) -> LogRecord:
    """The LogRecord an entry stands for."""
    _, line_no, ts, service, level, item, raw = entry
    if isinstance(item, LogRecord):
        return item
    data = item if type(item) is dict else load_object(raw.strip())
    assert ts is not None
    if data is None:  # cannot happen for an entry with a time; keep the raw text
        return LogRecord(ts, service, level or Severity.INFO, raw.decode("utf-8", "replace"))
    return record_from_mapping(
        data,
        timestamp_ns=ts,
        default_service=names.stem,
        raw=raw.decode("utf-8", errors="replace").rstrip("\r\n"),
        origin=f"{names.origin_name}:{line_no}",
    )


def _chunks(handle: IO[bytes], start: int, end: int | None) -> Iterator[tuple[int, bytes]]:
    """(offset, whole lines) from `start` up to the line that starts at `end`, about
    READ_CHUNK bytes at a time; the last line may lack its newline."""
    if start:
        handle.seek(start)
    offset = start
    rest = b""
    while True:
        chunk = handle.read(READ_CHUNK)
        if not chunk:
            break
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        body, rest = data[:cut], data[cut:]
        if end is not None and offset + len(body) > end:
            body = body[: max(0, end - offset)]
            if body:
                yield offset, body
            return
        yield offset, body
        offset += len(body)
    if rest and (end is None or offset < end):
        yield offset, rest


class LineScanner:
    """The per-line reader of one file: JSON lines by the fast path or a parse, plain text
    through `line_formats`, continuation lines folded into the record before them. State (the
    record that may still take continuation lines, the learned JSON layout) carries over from
    one call of `feed` to the next."""

    def __init__(self, ctx: LineContext) -> None:
        self.ctx = ctx
        self.layout: JsonLayout | None = None
        self.learned = False
        self.pending: Entry | None = None
        self.pending_record = LogRecord(0, "", Severity.INFO, "")

    def feed(self, offset: int, lines: list[bytes], line_no: int, out: list[Entry]) -> int:
        """Append the entries of `lines` (the first starts at `offset` and is line
        `line_no + 1`) to `out`; answers the number of the last line read."""
        ctx = self.ctx
        stem = ctx.stem
        layout = self.layout
        add = out.append
        for raw in lines:
            line_no += 1
            here = offset
            offset += len(raw) + 1
            if raw[:1] == b"{":
                if layout is not None:
                    fast = fast_summary(layout, raw, stem)
                    if fast is not None:
                        if self.pending is not None:
                            add(self.pending)
                            self.pending = None
                        ctx.previous_ts = fast[0]
                        ctx.previous_plain = False
                        add((here, line_no, fast[0], fast[1], fast[2], None, raw))
                        continue
                data = load_object(raw.rstrip(b"\r"))
            else:
                stripped = raw.strip()
                data = load_object(stripped) if stripped[:1] == b"{" else None
            if data is not None and not (type(data.get("log")) is str and "time" in data):
                self._mapping(here, line_no, data, raw, add)
                layout = self.layout
                continue
            self._plain(here, line_no, data, raw, add)
        return line_no

    def _mapping(self, offset: int, line_no: int, data: dict[str, Any], raw: bytes, add: Any) -> None:
        ctx = self.ctx
        try:
            ts, service, level = mapping_summary(data, ctx.stem)
        except (ValueError, OverflowError):
            add((offset, line_no, None, ctx.stem, None, None, raw))
            return
        if ts is None:
            ts = ctx.previous_ts  # a line without a time of its own
            if ts is None:
                add((offset, line_no, None, ctx.stem, None, None, raw))
                return
        elif not self.learned:
            self.learned = True
            self.layout = JsonLayout.learn(data, raw)
        ctx.previous_ts = ts
        ctx.previous_plain = False
        if self.pending is not None:
            add(self.pending)
            self.pending = None
        add((offset, line_no, ts, service, level, data, raw))

    def _plain(
        self, offset: int, line_no: int, data: dict[str, Any] | None, raw: bytes, add: Any
    ) -> None:
        """Plain text, logfmt and Docker entries, line by line."""
        ctx = self.ctx
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not text.strip():
            return
        origin = f"{ctx.origin_name}:{line_no}"
        parsed: LogRecord | _Continuation | None
        if data is not None:  # a Docker json-file entry, already parsed
            parsed = _parse_docker(data, ctx, text, origin)
            if parsed is not None:
                ctx.previous_ts = parsed.timestamp_ns
                ctx.previous_plain = False
        else:
            parsed = parse_line(text, ctx, origin)
        if parsed is CONTINUATION and self.pending is not None:
            message = self.pending_record.message
            if len(message) < MAX_MESSAGE_CHARS:
                self.pending_record.message = f"{message}\n{text}"[:MAX_MESSAGE_CHARS]
            return
        if not isinstance(parsed, LogRecord):
            add((offset, line_no, None, ctx.stem, None, None, raw))
            return
        if self.pending is not None:
            add(self.pending)
            self.pending = None
        entry: Entry = (
            offset, line_no, parsed.timestamp_ns, parsed.service, parsed.level, parsed, raw
        )
        if ctx.previous_plain:
            self.pending, self.pending_record = entry, parsed
        else:
            add(entry)

    def flush(self, out: list[Entry]) -> None:
        if self.pending is not None:
            out.append(self.pending)
            self.pending = None


@dataclass(slots=True)
class Block:
    """A run of a file's records: where it lies, its entries and what was counted.

    `counted` is set when the block was read by columns (`ColumnarRead`): it counts every
    record of the block by (epoch second, service, level), and `entries` then holds only the
    records of the levels asked for; otherwise `entries` holds every record and malformed line.
    """

    offset: int
    end_offset: int
    first_line: int
    entries: list[Entry]
    records: int = 0  # lines with a time
    malformed: int = 0
    min_ts: int | None = None
    max_ts: int | None = None
    counted: dict[tuple[int, str, Severity], int] | None = None
    services: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class ColumnarRead:
    """Read JSON lines of one layout by columns: one regex over a chunk finds every line's
    second, level and service (counted in C), and only lines of `materialize` levels become
    entries. Lines in `exact_seconds` (a window's first and last second) must each be compared
    to the nanosecond, so a chunk holding them is read line by line."""

    exact_seconds: frozenset[int]
    materialize: frozenset[Severity]


def scan(
    path: Path,
    ctx: LineContext,
    *,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
    batch: int = 1024,
    columnar: ColumnarRead | None = None,
) -> Iterator[Block]:
    """The file (or the byte range) as blocks of about `batch` records, each record with its
    time, service and level, and each malformed line (time None).

    A plain-text record is added once the next line shows it has no more continuation lines;
    the offset is always that of the record's first line.
    """
    scanner = LineScanner(ctx)
    line_no = first_line - 1
    misses = 0
    out: list[Entry] = []
    block_offset, block_line = start, first_line
    with open_binary(path) as handle:
        for offset, body in _chunks(handle, start, end):
            layout = scanner.layout
            if (
                columnar is not None
                and layout is not None
                and layout.regex is not None
                and scanner.pending is None
                and not out
                and misses < 8
            ):
                block = _columnar_block(scanner, layout, columnar, offset, body, line_no)
                if block is not None:
                    misses = 0
                    line_no = block.first_line - 1 + body.count(b"\n") + (not body.endswith(b"\n"))
                    block_offset, block_line = offset + len(body), line_no + 1
                    yield block
                    continue
                misses += 1
            lines = body.split(b"\n")
            if body.endswith(b"\n"):
                lines.pop()
            position = offset
            for i in range(0, len(lines), batch):
                part = lines[i : i + batch]
                line_no = scanner.feed(position, part, line_no, out)
                position += sum(len(x) for x in part) + len(part)
                if len(out) >= batch and scanner.pending is None:
                    yield _block(block_offset, position, block_line, out)
                    out = []
                    block_offset, block_line = position, line_no + 1
            if out and columnar is not None and scanner.pending is None:
                # end the block with the chunk, so the next chunk may be read by columns
                yield _block(block_offset, position, block_line, out)
                out = []
                block_offset, block_line = position, line_no + 1
    scanner.flush(out)
    if out:
        yield _block(block_offset, out[-1][0] + len(out[-1][6]) + 1, block_line, out)


def _block(offset: int, end_offset: int, first_line: int, entries: list[Entry]) -> Block:
    stamps = [e[2] for e in entries if e[2] is not None]
    return Block(
        offset=offset,
        end_offset=end_offset,
        first_line=first_line,
        entries=entries,
        records=len(stamps),
        malformed=len(entries) - len(stamps),
        min_ts=min(stamps) if stamps else None,
        max_ts=max(stamps) if stamps else None,
        services={e[3] for e in entries if e[2] is not None},
    )


def _columnar_block(
    scanner: LineScanner,
    layout: JsonLayout,
    read: ColumnarRead,
    offset: int,
    body: bytes,
    line_no: int,
) -> Block | None:
    """The chunk read by columns, or None when some line does not fit the layout (or falls in
    an exact second): the caller then reads it line by line."""
    assert layout.regex is not None
    found = layout.regex.findall(body)
    lines = body.count(b"\n") + (not body.endswith(b"\n"))
    if len(found) != lines or not found:
        return None
    t, lv, sv = layout.columns
    counted: dict[tuple[int, str, Severity], int] = {}
    wanted_levels: list[bytes] = []
    seconds: set[int] = set()
    for key, n in Counter(found).items():
        second = _SECONDS.get(key[t])
        if second is None:
            second = _bytes_time_ns(key[t] + b"Z")
            if second is None:
                return None
            second //= 1_000_000_000
        if second in read.exact_seconds:
            return None
        value = key[lv]
        level = _LEVELS.get(value)
        if level is None:
            if b"\\" in value:
                return None
            level = severity_of(value.decode("utf-8", errors="replace"))
        service = _SERVICES.get(key[sv])
        if service is None:
            if not key[sv] or b"\\" in key[sv]:
                return None
            service = key[sv].decode("utf-8", errors="replace")
        ckey = (second, service, level)
        counted[ckey] = counted.get(ckey, 0) + n
        seconds.add(second)
        if level in read.materialize and value not in wanted_levels:
            wanted_levels.append(value)
    entries: list[Entry] = []
    if wanted_levels:
        starts = sorted(
            body.rfind(b"\n", 0, m.start()) + 1
            for value in wanted_levels
            for m in re.finditer(re.escape(layout.level + value + b'"'), body)
        )
        stem = scanner.ctx.stem
        number = line_no
        previous = 0
        add = entries.append
        for line_start in starts:
            if line_start == previous and entries:
                continue  # the same line found twice
            number += body.count(b"\n", previous, line_start)
            previous = line_start
            stop = body.find(b"\n", line_start)
            raw = body[line_start : stop if stop >= 0 else len(body)]
            fast = fast_summary(layout, raw, stem)
            if fast is None:
                scanner.feed(offset + line_start, [raw], number, entries)
            else:
                add((offset + line_start, number + 1, fast[0], fast[1], fast[2], None, raw))
    low, high = min(seconds), max(seconds)
    return Block(
        offset=offset,
        end_offset=offset + len(body),
        first_line=line_no + 1,
        entries=entries,
        records=lines,
        min_ts=_extreme(body, layout, low, min),
        max_ts=_extreme(body, layout, high, max),
        counted=counted,
        services={s for _, s, _ in counted},
    )


def _extreme(body: bytes, layout: JsonLayout, second: int, pick: Any) -> int:
    """The earliest (`min`) or latest (`max`) time to the nanosecond among the chunk's lines
    in `second`: the index keeps files' exact first and last times."""
    prefix = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()
    stamps = []
    needle = layout.time + prefix
    at = body.find(needle)
    while at >= 0:
        i = at + len(layout.time)
        j = body.find(b'"', i)
        stamp = _bytes_time_ns(body[i:j])
        if stamp is not None:
            stamps.append(stamp)
        at = body.find(needle, j)
    return pick(stamps) if stamps else second * 1_000_000_000
