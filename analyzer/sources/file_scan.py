"""Reading a log file as entries: each record's time, service and level, and what builds it.

Most lines of a large dump are never shown to anyone: they are only counted. So a JSON line
goes through a fast path first that finds its time, level and service by the byte patterns of
their keys (learned from the file's first JSON object, see `JsonLayout`) without parsing the
object; it is parsed only when someone asks for its fields or its record. A text line is
read the same way by its file's format (`formats/`, detected from the file's first lines):
`summary` gives time, service and level from the bytes, `fields` the rest when asked for. A line
the file's format does not read is tried against the other formats, joins the record before it
(stack traces, tracebacks, indented lines), or is counted as unparsed with a sample.

An entry is `(offset, line_no, ts, service, level, item, raw)`: the byte offset and number of
the record's first line, its time (None for a line that could not be read: malformed), service
and level, `item` and `raw` (the record's lines, continuation lines included). `item` is the
record itself (Docker, CRI and OTLP lines, built whole), the parsed mapping (JSON), None (a JSON
line read by the fast path, parsed on demand by `entry_mapping`), or the `LineFormat` that read
a text record, which builds its fields on demand.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from analyzer.model import LogRecord, Severity
from analyzer.sources.formats.account import ScanCounts
from analyzer.sources.formats.ansi import plain_bytes
from analyzer.sources.formats.detect import detect_path
from analyzer.sources.formats.json_objects import lenient_object, load_object
from analyzer.sources.formats.levels import numeric_level, words_level
from analyzer.sources.formats.registry import CONTINUATION as CONTINUATION_SHAPE
from analyzer.sources.formats.sniff import UTF8_BOM, open_log
from analyzer.sources.formats.structured import JsonFormat, Wrapped, unwrap
from analyzer.sources.formats.text import LineFormat
from analyzer.sources.line_formats import (
    MAX_MESSAGE_CHARS,
    LineContext,
    json_records,
    others_of,
    wrapped_record,
    wrapper_parts,
)
from analyzer.sources.records import (
    LEVEL_KEYS,
    MESSAGE_KEYS,
    SERVICE_KEYS,
    TIME_KEYS,
    _second_epoch,
    epoch_number_ns,
    holds_value,
    mapping_summary,
    record_from_mapping,
    severity_of,
)

READ_CHUNK = 1 << 20
# what Go's runtime writes when a program dies, after the program's own last log line
_CRASH = (b"panic: ", b"fatal error: ")

Item = LogRecord | dict[str, Any] | None
Entry = tuple[int, int, int | None, str, Severity | None, Item, bytes]


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its name says `.gz`, `.xz` or `.bz2`."""
    return open_log(path)


@dataclass(frozen=True, slots=True)
class FileNames:
    stem: str  # the service of records that name none
    origin_name: str  # "api.jsonl" in a record's origin "api.jsonl:12"


class JsonLayout:
    """Where a file's JSON lines keep their time, level and service, as byte patterns.

    Learned from one parsed line: the first time, level and service keys `mapping_summary`
    would read, each holding a string, or for time and level an integer (pino's epoch
    milliseconds, Bunyan's and pino's numeric levels). A line is read by the fast path only when
    it holds the time and level patterns and its values read cleanly; otherwise it is parsed
    whole, so a line that differs from the first (other keys, a float as time) is still read
    right. A file whose lines name no service must also not name one under another key on the
    line, nor in an object that may hold one (`resource`, `kubernetes`, ...).
    """

    __slots__ = (
        "columns", "level", "level_key", "level_number", "regex", "service", "service_keys",
        "time", "time_number",
    )

    def __init__(
        self,
        stamp: bytes,
        level: bytes,
        service: bytes | None,
        order: tuple[str, ...] = (),
        *,
        level_key: str = "level",
        time_number: bool = False,
        level_number: bool = False,
    ) -> None:
        self.time = stamp
        self.level = level
        self.service = service
        self.level_key = level_key
        self.time_number = time_number
        self.level_number = level_number
        self.service_keys = tuple(f'"{k}"'.encode() for k in (*SERVICE_KEYS, *_SERVICE_HOLDERS))
        # columnar reads: the three fields in the order the lines write them, one match a line
        self.regex: re.Pattern[bytes] | None = None
        self.columns = (0, 1, 2)
        if (
            service is not None
            and not time_number
            and not level_number
            and sorted(order) == ["level", "service", "time"]
        ):
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
        stamp = _needle(data, raw, TIME_KEYS, numbers=True)
        level = _needle(data, raw, LEVEL_KEYS, numbers=True)
        if stamp is None or level is None:
            return None
        if any(data.get(k) not in (None, "") for k in TIME_KEYS[: TIME_KEYS.index(stamp[0])]):
            return None
        service = _needle(data, raw, SERVICE_KEYS)
        found = {"time": raw.find(stamp[1]), "level": raw.find(level[1])}
        if service is not None:
            found["service"] = raw.find(service[1])
        order = tuple(sorted(found, key=found.__getitem__))
        return cls(
            stamp[1],
            level[1],
            service[1] if service else None,
            order,
            level_key=level[0],
            time_number=stamp[2],
            level_number=level[2],
        )


# a time the columnar read takes (UTC, `Z`): its second is captured, its fraction checked
_TIME_VALUE = rb'([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,9})?(?:Z|\+00:00)"'
_TEXT_VALUE = rb'([^"\\\n]*)"'


# objects that may name a service (`mapping_service` looks inside them)
_SERVICE_HOLDERS = ("resource", "Resource", "kubernetes", "labels")


def _needle(
    data: dict[str, Any], raw: bytes, keys: tuple[str, ...], numbers: bool = False
) -> tuple[str, bytes, bool] | None:
    """The first of `keys` that holds a non-empty value: its name, the bytes that open its
    value as the line writes them (`"key":"` or `"key": "`, Python's json.dumps) and False;
    with `numbers`, an integer gives `"key":` (or `"key": `) and True."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "" or not holds_value(key, value):
            continue
        if numbers and type(value) is int:
            for needle in (f'"{key}":'.encode(), f'"{key}": '.encode()):
                at = raw.find(needle)
                if at >= 0 and raw[at + len(needle) : at + len(needle) + 1].isdigit():
                    return key, needle, True
            return None
        if type(value) is not str:
            return None
        for needle in (f'"{key}":"'.encode(), f'"{key}": "'.encode()):
            if needle in raw:
                return key, needle, False
        return None
    return None


def _number(raw: bytes, needle: bytes) -> int | None:
    """The integer after `needle` (`"key":`), when it ends the value (`,` or `}` next)."""
    i = raw.find(needle)
    if i < 0:
        return None
    i += len(needle)
    j = i
    end = len(raw)
    while j < end and 48 <= raw[j] <= 57:
        j += 1
    if j == i or j - i > 19 or raw[j : j + 1] not in (b",", b"}", b" "):
        return None
    return int(raw[i:j])


_NUMBER_LEVELS: dict[tuple[str, int], Severity] = {}


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
    if layout.time_number:
        number = _number(raw, layout.time)
        ts = None if number is None else epoch_number_ns(number)
    else:
        value = _value(raw, layout.time)
        ts = None if value is None else _bytes_time_ns(value)
    if ts is None:
        return None
    if layout.level_number:
        number = _number(raw, layout.level)
        if number is None:
            return None
        level = _number_level(layout.level_key, number)
    else:
        value = _value(raw, layout.level)
        if value is None:
            return None
        level = _LEVELS.get(value)  # type: ignore[assignment]
        if level is None:
            if b"\\" in value:
                return None
            if value.isdigit():  # a number in a string: on the scale its key says
                level = _number_level(layout.level_key, int(value))
            else:
                level = severity_of(value.decode("utf-8", errors="replace"))
                if len(_LEVELS) < 1024:
                    _LEVELS[value] = level
    if layout.service is None:
        for key in layout.service_keys:
            if key in raw:
                return None
        if b'"name"' in raw and b'"hostname"' in raw:  # Bunyan's (or a named pino's) service
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


def _number_level(key: str, number: int) -> Severity:
    found = _NUMBER_LEVELS.get((key, number))
    if found is None:
        found = numeric_level(key, number)
        if len(_NUMBER_LEVELS) < 1024:
            _NUMBER_LEVELS[(key, number)] = found
    return found


def entry_mapping(entry: Entry) -> dict[str, Any] | None:
    """The parsed mapping of a JSON or text entry (parsing it now if the fast path skipped it);
    None for an entry that holds its record."""
    item = entry[5]
    if type(item) is dict:
        return item
    if item is None:
        return load_object(entry[6].strip()) or lenient_object(entry[6].strip())
    if isinstance(item, LineFormat):
        data = item.fields(entry[6])
        data["level"] = (entry[4] or Severity.INFO).label
        data["service"] = entry[3]
        return data
    return None


def entry_record(entry: Entry, names: FileNames) -> LogRecord:
    """The LogRecord an entry stands for."""
    _, line_no, ts, service, level, item, raw = entry
    if isinstance(item, LogRecord):
        return item
    data = item if type(item) is dict else entry_mapping(entry)
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
        if offset == 0 and not rest and chunk.startswith(UTF8_BOM):
            chunk, offset = chunk[3:], 3  # the mark is not the first line's: offsets stay the file's
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
    """The per-line reader of one file (see the module docstring). State (the record that may
    still take continuation lines, the learned JSON layout, a CRI line still incomplete)
    carries over from one call of `feed` to the next; `counts` gathers the account of the
    lines read (blank, joined, unparsed with samples, read by another format)."""

    def __init__(self, ctx: LineContext, counts: ScanCounts | None = None) -> None:
        self.ctx = ctx
        fmt = ctx.format
        if fmt is None:  # a caller that did not detect: JSON first, every format on the rest
            fmt = ctx.format = JsonFormat("json")
        self.format = fmt
        self.json_file = getattr(fmt, "json", False)
        self.text = None if self.json_file or fmt.wraps else fmt
        self.strict = fmt.strict
        self.others = others_of(ctx)
        self.counts = counts if counts is not None else ScanCounts()
        self.layout: JsonLayout | None = None
        self.learned = False
        self.pending: Entry | None = None
        self.more: list[bytes] | None = None  # continuation lines of a pending text entry
        self.more_size = 0
        self.unstated = False  # the pending record's level was stated by no word
        # CRI lines tagged P, waiting for the line that ends them: where the first one is, the
        # texts and the raw lines
        self.partial_at: tuple[int, int, Wrapped] | None = None
        self.partial: list[str] = []
        self.partial_raw: list[bytes] = []
        self.lines_read = 0

    def open_at(self) -> tuple[int, int] | None:
        """Offset and line number of the first line not yet in an added entry (the pending
        record or a partial CRI line), None when every line read is in one."""
        starts = []
        if self.pending is not None:
            starts.append((self.pending[0], self.pending[1]))
        if self.partial_at is not None:
            starts.append(self.partial_at[:2])
        return min(starts) if starts else None

    def feed(self, offset: int, lines: list[bytes], line_no: int, out: list[Entry]) -> int:
        """Append the entries of `lines` (the first starts at `offset` and is line
        `line_no + 1`) to `out`; answers the number of the last line read."""
        ctx = self.ctx
        stem = ctx.stem
        layout = self.layout
        text = self.text
        summary = text.summary if text is not None else None
        json_file = self.json_file
        add = out.append
        info = Severity.INFO
        for raw in lines:
            line_no += 1
            here = offset
            offset += len(raw) + 1
            if raw[-1:] == b"\r":
                raw = raw[:-1]
            if b"\x1b" in raw:
                raw = plain_bytes(raw)
            if summary is not None:
                found = summary(raw)
                if found is not None:
                    if self.pending is not None:
                        if self.more is None:
                            add(self.pending)
                        else:
                            self._flush(add)
                    level = found[2]
                    self.unstated = level is None
                    self.pending = (here, line_no, found[0], found[1], level or info, text, raw)
                    ctx.previous_ts = found[0]
                    continue
            elif json_file and raw[:1] == b"{":
                if layout is not None:
                    fast = fast_summary(layout, raw, stem)
                    if fast is not None:
                        if self.pending is not None:
                            self._flush(add)
                        ctx.previous_ts = fast[0]
                        add((here, line_no, fast[0], fast[1], fast[2], None, raw))
                        continue
                data = load_object(raw)
                if data is not None:
                    self._object(here, line_no, data, raw, out)
                    layout = self.layout
                    continue
            self._other(here, line_no, raw, out)
            layout = self.layout
        return line_no

    # -- JSON -----------------------------------------------------------------------------------

    def _object(self, offset: int, line_no: int, data: dict[str, Any], raw: bytes, out: list[Entry]) -> None:
        wrapped = unwrap(data)
        if wrapped is not None:
            self._wrapped(offset, line_no, wrapped, raw, out)
        elif "resourceLogs" in data:
            self._batch(offset, line_no, data, raw, out)
        else:
            self._mapping(offset, line_no, data, raw, out.append)

    def _mapping(self, offset: int, line_no: int, data: dict[str, Any], raw: bytes, add: Any) -> None:
        ctx = self.ctx
        try:
            ts, service, level = mapping_summary(data, ctx.stem)
        except (ValueError, OverflowError):
            self._unparsed(offset, line_no, raw, add)
            return
        if ts is None:
            ts = ctx.previous_ts  # a line without a time of its own
            if ts is None:
                self._unparsed(offset, line_no, raw, add)
                return
        elif not self.learned:
            self.learned = True
            self.layout = JsonLayout.learn(data, raw)
        ctx.previous_ts = ts
        if self.pending is not None:
            self._flush(add)
        add((offset, line_no, ts, service, level, data, raw))

    def _batch(self, offset: int, line_no: int, data: dict[str, Any], raw: bytes, out: list[Entry]) -> None:
        """An OTLP/JSON line: one entry per log record it holds."""
        origin = f"{self.ctx.origin_name}:{line_no}"
        records = json_records(data, self.ctx, raw.decode("utf-8", errors="replace"), origin)
        if not records:
            self._unparsed(offset, line_no, raw, out.append)
            return
        if self.pending is not None:
            self._flush(out.append)
        for record in records:
            out.append((offset, line_no, record.timestamp_ns, record.service, record.level, record, raw))
        self.ctx.previous_ts = records[-1].timestamp_ns

    # -- wrapped lines ----------------------------------------------------------------------------

    def _wrapped(self, offset: int, line_no: int, wrapped: Wrapped, raw: bytes, out: list[Entry]) -> None:
        """A Docker, CRI, logcli or CloudWatch line: the application's line inside is read;
        one that continues the record before it (a stack frame) is joined to it."""
        pending = self.pending
        if (
            pending is not None
            and isinstance(pending[5], LogRecord)
            and CONTINUATION_SHAPE.match(wrapped.inner.encode())
        ):
            self.counts.joined += 1
            self._join_text(wrapped.inner)
            return
        origin = f"{self.ctx.origin_name}:{line_no}"
        record = wrapped_record(
            wrapped, self.ctx, raw.decode("utf-8", errors="replace"), origin, self.others
        )
        if record is None:
            self._unparsed(offset, line_no, raw, out.append)
            return
        if pending is not None:
            self._flush(out.append)
        self.ctx.previous_ts = record.timestamp_ns
        self.unstated = False
        self.pending = (offset, line_no, record.timestamp_ns, record.service, record.level, record, raw)

    # -- everything else --------------------------------------------------------------------------

    def _other(self, offset: int, line_no: int, raw: bytes, out: list[Entry]) -> None:
        """A line the file's own format did not read: blank, JSON, CRI, a continuation, a line
        of another format, or unparsed."""
        stripped = raw.strip()
        if not stripped:
            self.counts.blank += 1
            return
        if stripped[:1] == b"{" and not self.strict:
            data = load_object(stripped) or lenient_object(stripped)
            if data is not None:
                self._object(offset, line_no, data, raw, out)
                return
        fmt = self.format
        if fmt.wraps:
            parts = wrapper_parts(fmt, raw)  # type: ignore[arg-type]
            if parts is not None:
                wrapped, partial = parts
                if self.partial_at is not None:
                    self.counts.joined += 1
                    offset, line_no, _ = self.partial_at
                    wrapped.inner = "".join(self.partial) + wrapped.inner
                    raw = b"\n".join([*self.partial_raw, raw])
                if partial:
                    if self.partial_at is None:
                        self.partial_at = (offset, line_no, wrapped)
                    self.partial = [wrapped.inner]
                    self.partial_raw = [raw]
                    return
                self.partial_at, self.partial, self.partial_raw = None, [], []
                self._wrapped(offset, line_no, wrapped, raw, out)
                return
        pending = self.pending
        if raw.startswith(_CRASH) and self.ctx.previous_ts is not None and not self.strict:
            self._crash(offset, line_no, raw, out)
            return
        if pending is not None and CONTINUATION_SHAPE.match(raw):
            self._join(raw)
            return
        if fmt.timeless and pending is None and not self.strict:
            self.pending = (offset, line_no, self.ctx.mtime_ns, self.ctx.stem,
                            words_level(raw) or Severity.INFO, fmt, raw)
            return
        if not self.strict:
            found = self.others.read(raw)
            if found is not None:
                other, (ts, service, level) = found
                if pending is not None:
                    self._flush(out.append)
                self.unstated = level is None
                self.pending = (offset, line_no, ts, service, level or Severity.INFO, other, raw)
                self.ctx.previous_ts = ts
                self.counts.other_formats[other.name] += 1
                return
        if pending is not None:
            self._join(raw)
            return
        if out and CONTINUATION_SHAPE.match(raw) and self._join_json(out, raw):
            return
        self._unparsed(offset, line_no, raw, out.append)

    def _crash(self, offset: int, line_no: int, raw: bytes, out: list[Entry]) -> None:
        """A Go runtime crash (`panic: `, `fatal error: `) is no part of the record before it,
        which the process logged before it died: it is a fatal record of its own, at that
        record's time, and its goroutine dump joins it."""
        if self.pending is not None:
            self._flush(out.append)
        ts = self.ctx.previous_ts
        assert ts is not None
        text = raw.decode("utf-8", errors="replace")
        record = LogRecord(ts, self.ctx.stem, Severity.FATAL, text, raw=text,
                           origin=f"{self.ctx.origin_name}:{line_no}")
        self.unstated = False
        self.pending = (offset, line_no, ts, self.ctx.stem, Severity.FATAL, record, raw)

    def _join(self, raw: bytes) -> None:
        """Fold a continuation line into the pending record."""
        pending = self.pending
        assert pending is not None
        self.counts.joined += 1
        if isinstance(pending[5], LogRecord):
            self._join_text(raw.decode("utf-8", errors="replace"))
            return
        if self.more_size < MAX_MESSAGE_CHARS:
            if self.more is None:
                self.more = []
            self.more.append(raw)
            self.more_size += len(raw) + 1
        if self.unstated:
            level = words_level(raw)
            if level is not None:
                self.unstated = False
                self.pending = (*pending[:4], max(level, pending[4]), *pending[5:])  # type: ignore[assignment]

    def _join_text(self, text: str) -> None:
        record = self.pending[5]  # type: ignore[index]
        assert isinstance(record, LogRecord)
        if len(record.message) < MAX_MESSAGE_CHARS:
            record.message = f"{record.message}\n{text}"[:MAX_MESSAGE_CHARS]

    def _join_json(self, out: list[Entry], raw: bytes) -> bool:
        """A continuation line right after a JSON record: its message takes the line."""
        last = out[-1]
        if last[2] is None or isinstance(last[5], LogRecord | LineFormat):
            return False
        data = entry_mapping(last)
        if data is None:
            return False
        key = next((k for k in MESSAGE_KEYS if type(data.get(k)) is str), "message")
        message = str(data.get(key) or "")
        if len(message) < MAX_MESSAGE_CHARS:
            data = {**data, key: f"{message}\n{raw.decode('utf-8', errors='replace')}"}
        out[-1] = (*last[:5], data, last[6])  # type: ignore[assignment]
        self.counts.joined += 1
        return True

    def _unparsed(self, offset: int, line_no: int, raw: bytes, add: Any) -> None:
        add((offset, line_no, None, self.ctx.stem, None, None, raw))
        self.counts.note_unparsed(line_no, raw)

    def _flush(self, add: Any) -> None:
        pending = self.pending
        assert pending is not None
        if self.more:
            pending = (*pending[:6], b"\n".join([pending[6], *self.more]))  # type: ignore[assignment]
            self.more = None
            self.more_size = 0
        self.pending = None
        add(pending)

    def flush(self, out: list[Entry]) -> None:
        if self.partial_at is not None:  # the file ends inside a partial CRI line: keep its text
            offset, line_no, wrapped = self.partial_at
            wrapped.inner = "".join(self.partial)
            raw = b"\n".join(self.partial_raw)
            self.partial_at, self.partial, self.partial_raw = None, [], []
            self._wrapped(offset, line_no, wrapped, raw, out)
        if self.pending is not None:
            self._flush(out.append)


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
    counts: ScanCounts | None = None,
) -> Iterator[Block]:
    """The file (or the byte range) as blocks of about `batch` records, each record with its
    time, service and level, and each malformed line (time None). The file's format is
    detected from its first lines unless `ctx.format` is set; `counts` gathers the account.

    A record that may take continuation lines is added once the next record starts; a block
    ends before it, so the next block (and a later read of its byte range) starts with it.
    """
    if ctx.format is None:
        ctx.format = detect_path(path, ctx)
    counts = counts if counts is not None else ScanCounts()
    scanner = LineScanner(ctx, counts)
    for block in _scan(scanner, path, start, end, first_line, batch, columnar):
        counts.records += block.records
        counts.unparsed += block.malformed
        yield block
    counts.lines = scanner.lines_read


def _scan(
    scanner: LineScanner,
    path: Path,
    start: int,
    end: int | None,
    first_line: int,
    batch: int,
    columnar: ColumnarRead | None,
) -> Iterator[Block]:
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
                    scanner.lines_read = line_no - first_line + 1
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
                if len(out) >= batch:
                    # the block ends where the record still open (if any) starts
                    cut, cut_line = scanner.open_at() or (position, line_no + 1)
                    yield _block(block_offset, cut, block_line, out)
                    out = []
                    block_offset, block_line = cut, cut_line
            if out and columnar is not None and scanner.pending is None:
                # end the block with the chunk, so the next chunk may be read by columns
                yield _block(block_offset, position, block_line, out)
                out = []
                block_offset, block_line = position, line_no + 1
    scanner.lines_read = line_no - first_line + 1
    scanner.flush(out)
    if out:
        yield _block(block_offset, max(e[0] + len(e[6]) + 1 for e in out), block_line, out)


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
