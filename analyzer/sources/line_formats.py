"""Turning one line of a log file into a LogRecord, whatever its format.

The formats themselves live in `analyzer/sources/formats/` (detection, the text formats, the
JSON ecosystems, declared formats); this module is the glue the file reader and the live tail
use: the other formats a line is tried against when the file's own format does not read it,
the records of lines that wrap another line (Docker, CRI, logcli), and `parse_line`, which
answers a record, `CONTINUATION` (the line belongs to the record before it) or None (a line
no format reads: counted as unparsed by the reader, never fatal).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from analyzer.model import LogRecord, Severity
from analyzer.sources.formats.ansi import plain_text
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.levels import text_level
from analyzer.sources.formats.registry import CONTINUATION as CONTINUATION_SHAPE
from analyzer.sources.formats.registry import text_specs
from analyzer.sources.formats.structured import (
    LogfmtFormat,
    Wrapped,
    logfmt_mapping,
    otlp_records,
    unwrap,
)
from analyzer.sources.formats.text import LineFormat, RegexFormat, leading_level
from analyzer.sources.records import record_from_mapping, timestamp_ns

__all__ = [
    "CONTINUATION",
    "LOG_SUFFIXES",
    "LineContext",
    "OtherFormats",
    "parse_line",
    "service_from_filename",
]

LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt")
MAX_MESSAGE_CHARS = 65_536  # a runaway continuation stops growing here
DAY_NS = 86_400 * 1_000_000_000
_ROTATION = re.compile(r"\.\d+$")
_COMPRESSION = (".gz", ".xz", ".bz2", ".lzma")
# file names that say what a file holds, not who wrote it: the directory names the service
# (/var/log/nginx/access.log -> nginx, /var/log/apt/history.log -> apt)
_GENERIC_NAMES = frozenset(
    {
        "access", "error", "access_log", "error_log", "ssl_access", "ssl_error",
        "other_vhosts_access", "history", "term", "eipp", "current", "output", "stdout",
        "stderr", "log", "main", "debug",
    }
)
# Kubernetes: /var/log/containers/<pod>_<namespace>_<container>-<64 hex>.log
_K8S_CONTAINER_LOG = re.compile(r"^(?P<pod>[^_]+)_(?P<ns>[^_]+)_(?P<container>.+)-[0-9a-f]{64}$")


class _Continuation:
    """Marker: the line belongs to the previous record."""


CONTINUATION = _Continuation()


def service_from_filename(path: Path) -> str:
    """`api.jsonl` -> api, `api.log.1` -> api, `worker.jsonl.gz` -> worker, a Docker
    `<id>-json.log` -> id, a Kubernetes container log -> its container, `nginx/access.log` ->
    nginx, `/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log` -> the container."""
    name = path.name
    for suffix in _COMPRESSION:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = _ROTATION.sub("", name)
    for suffix in LOG_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith("-json"):  # Docker's <container-id>-json.log
        name = name[:-5]
    k8s = _K8S_CONTAINER_LOG.match(name)
    if k8s:
        return k8s["container"]
    parent = path.parent.name
    if name.isdigit() and parent and path.parent.parent.name.count("_") >= 2:
        return parent  # /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log
    if name.lower() in _GENERIC_NAMES and parent and parent not in (".", "/", "log", "logs"):
        return parent
    return name or path.name


# ----- the formats a line is tried against when its file's own does not read it ---------------


class OtherFormats:
    """Every known text format and logfmt, bound to one file; the last one that read a line is
    tried first (a file that mixes two layouts mostly alternates between them). Formats
    without a time are left out: a line of them inside a timed file continues its record.

    Trying every format on a line none reads costs a few dozen regex matches; after
    `GIVE_UP` such lines in a row (the messages of a Docker log, the output under an apt
    header), only every `GIVE_UP`-th line is tried until one is read again."""

    GIVE_UP = 32

    def __init__(self, ctx: LineContext, exclude: LineFormat | None = None) -> None:
        self.ctx = ctx
        self.exclude = getattr(exclude, "name", None)
        self._formats: list[LineFormat] | None = None
        self._last = 0
        self._misses = 0

    @property
    def formats(self) -> list[LineFormat]:
        if self._formats is None:
            bound: list[LineFormat] = [
                spec.bind(self.ctx)
                for spec in text_specs()
                if spec.name != self.exclude and not spec.no_time and not spec.wraps
            ]
            bound.append(LogfmtFormat(self.ctx))
            self._formats = bound
        return self._formats

    def read(self, raw: bytes) -> tuple[LineFormat, tuple[int, str, Severity | None]] | None:
        misses = self._misses
        if misses >= self.GIVE_UP and misses % self.GIVE_UP:
            self._misses += 1
            return None
        formats = self.formats
        first = formats[self._last]
        found = first.summary(raw)
        if found is not None:
            self._misses = 0
            return first, found
        for i, fmt in enumerate(formats):
            if i == self._last:
                continue
            found = fmt.summary(raw)
            if found is not None:
                self._last = i
                self._misses = 0
                return fmt, found
        self._misses += 1
        return None


def others_of(ctx: LineContext) -> OtherFormats:
    """The file's other formats, bound once per context."""
    found = ctx.others
    if not isinstance(found, OtherFormats):
        found = ctx.others = OtherFormats(ctx, ctx.format)
    return found


def wrapper_parts(fmt: RegexFormat, raw: bytes) -> tuple[Wrapped, bool] | None:
    """A line of a wrapping format (CRI, `kubectl logs --prefix`, `docker compose logs`) as the
    line it wraps, and whether it is a partial line (CRI's tag P) that the next line completes.
    The wrapper's time, if it has one, dates an inner line without its own; its service group
    names the service of an inner line that names none; its other groups become fields."""
    match = fmt.regex.match(raw)
    if match is None:
        return None
    fields = {
        name: value.decode("utf-8", errors="replace")
        for name in fmt.wrapper_fields
        if (value := match.group(name)) is not None
    }
    service = match.group(fmt.service_group) if fmt.service_group else None
    time = match.group(fmt.time_groups[0]) if fmt.time_groups else None
    wrapped = Wrapped(
        (match.group("message") or b"").decode("utf-8", errors="replace"),
        time.decode() if time else None,
        fields,
        service.decode("utf-8", errors="replace") if service else None,
    )
    return wrapped, "tag" in fmt.regex.groupindex and match.group("tag") == b"P"


def lazy_record(
    fmt: LineFormat, raw: bytes, ts: int, service: str, level: Severity, ctx: LineContext, origin: str
) -> LogRecord:
    """The record of a line a format's summary read."""
    data = fmt.fields(raw)
    data["level"] = level.label
    data["service"] = service
    return record_from_mapping(
        data,
        timestamp_ns=ts,
        default_service=ctx.stem,
        raw=raw.decode("utf-8", errors="replace"),
        origin=origin,
    )


# ----- wrapped lines ---------------------------------------------------------------------------


def _plain_inner(text: str, ts: int, ctx: LineContext, raw: str, origin: str) -> LogRecord:
    level, skip = leading_level(text.encode())
    message = text.encode()[skip:].decode("utf-8", errors="replace") if skip else text
    data: dict[str, Any] = {"message": message}
    found = level or text_level(message)
    if found is not None:
        data["level"] = found.label
    return record_from_mapping(data, timestamp_ns=ts, default_service=ctx.stem, raw=raw, origin=origin)


def wrapped_record(
    wrapped: Wrapped, ctx: LineContext, raw: str, origin: str, others: OtherFormats | None = None
) -> LogRecord | None:
    """The record of an application's line inside a wrapper: its own time when it has one,
    else the wrapper's (else, for a wrapper without times, the record before's); its own level
    and service when it says them. None when no time can be read."""
    try:
        outer_ts = timestamp_ns(wrapped.time) if wrapped.time not in (None, "") else ctx.previous_ts
    except (ValueError, OverflowError):
        return None
    inner = wrapped.inner
    record: LogRecord | None = None
    stripped = inner.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # nested deeper than Python parses
            data = None
        if isinstance(data, dict):
            record = _mapping_record(data, ctx, raw, origin, outer_ts)
    if record is None and "=" in inner:
        pairs = logfmt_mapping(stripped)
        if pairs is not None and not re.match(r"\[?\d{4}-\d\d-\d\d", stripped):
            record = _mapping_record(pairs, ctx, raw, origin, outer_ts)
    if record is None and stripped:
        found = (others or others_of(ctx)).read(inner.encode())
        if found is not None:
            fmt, (ts, service, level) = found
            record = lazy_record(fmt, inner.encode(), ts, service, level or Severity.INFO, ctx, origin)
            record.raw = raw
    if record is None:
        if outer_ts is None:  # no time of its own, nor of a wrapper or a record before
            return None
        record = _plain_inner(inner, outer_ts, ctx, raw, origin)
    for key, value in wrapped.fields.items():
        if value not in (None, "", {}):
            record.fields.setdefault(key, value)
    if wrapped.service and record.service == ctx.stem:
        record.service = wrapped.service
    return record


def _mapping_record(
    data: dict[str, Any], ctx: LineContext, raw: str, origin: str, fallback_ts: int | None
) -> LogRecord | None:
    """A JSON or logfmt mapping; without a time of its own it takes `fallback_ts`, if any."""
    try:
        record = record_from_mapping(data, default_service=ctx.stem, raw=raw, origin=origin)
    except (ValueError, OverflowError):
        return None
    if record.timestamp_ns == 0:
        if fallback_ts is None:
            return None
        record.timestamp_ns = fallback_ts
    return record


def json_records(data: dict[str, Any], ctx: LineContext, raw: str, origin: str) -> list[LogRecord]:
    """The records of one JSON line: a wrapped line, the records of an OTLP batch, or the
    mapping itself (without a time it takes the time of the record before it)."""
    wrapped = unwrap(data)
    if wrapped is not None:
        record = wrapped_record(wrapped, ctx, raw, origin)
        return [record] if record is not None else []
    if "resourceLogs" in data:
        out = []
        for flat in otlp_records(data):
            record = _mapping_record(flat, ctx, raw, origin, ctx.previous_ts)
            if record is not None:
                out.append(record)
        return out
    record = _mapping_record(data, ctx, raw, origin, ctx.previous_ts)
    return [record] if record is not None else []


# ----- one line --------------------------------------------------------------------------------


def parse_line(text: str, ctx: LineContext, origin: str) -> LogRecord | _Continuation | None:
    """One line: a record, `CONTINUATION` of the previous record, or None when no format reads
    it. The file's format (`ctx.format`) is tried first, then the others; a line no format
    reads continues a text record before it."""
    result, takes_more = _parse_line(text, ctx, origin)
    if isinstance(result, LogRecord):
        ctx.previous_ts = result.timestamp_ns
        ctx.previous_plain = takes_more
    return result


def _parse_line(text: str, ctx: LineContext, origin: str) -> tuple[LogRecord | _Continuation | None, bool]:
    text = plain_text(text)
    stripped = text.strip()
    if not stripped:
        return (CONTINUATION if ctx.previous_plain else None), False
    raw = text.encode("utf-8", errors="replace")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # nested deeper than Python parses
            data = None
        if isinstance(data, dict):
            found = json_records(data, ctx, text, origin)
            return (found[0] if found else None), bool(found) and unwrap(data) is not None
    fmt = ctx.format
    if fmt is not None and fmt.wraps:
        parts = wrapper_parts(fmt, raw)  # type: ignore[arg-type]
        if parts is not None:
            if ctx.previous_plain and CONTINUATION_SHAPE.match(parts[0].inner.encode()):
                return CONTINUATION, True
            return wrapped_record(parts[0], ctx, text, origin), True
    elif fmt is not None and not getattr(fmt, "json", False):
        if ctx.previous_plain and CONTINUATION_SHAPE.match(raw) and not fmt.timeless:
            return CONTINUATION, True
        summary = fmt.summary(raw)
        if summary is not None and not fmt.wraps:
            ts, service, level = summary
            return lazy_record(fmt, raw, ts, service, level or Severity.INFO, ctx, origin), True
        if fmt.strict:
            return (CONTINUATION if ctx.previous_plain else None), False
    if ctx.previous_plain and CONTINUATION_SHAPE.match(raw):
        return CONTINUATION, True
    found = others_of(ctx).read(raw)
    if found is not None:
        other, (ts, service, level) = found
        record = lazy_record(other, raw, ts, service, level or Severity.INFO, ctx, origin)
        return record, not isinstance(other, LogfmtFormat)
    return (CONTINUATION if ctx.previous_plain else None), False
