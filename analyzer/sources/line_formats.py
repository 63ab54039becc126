"""Turning one line of a log file into a LogRecord: the formats the file source reads.

Each line is a JSON object, a Docker json-file entry, logfmt, or plain text with a timestamp
prefix (redis, RFC 3339, syslog, `[timestamp] [level]`); a plain line without a timestamp
continues the record before it (a stack trace). `parse_line` answers a record, `CONTINUATION`,
or None for a line that fits no format (counted as malformed by the reader, never fatal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzer.model import LogRecord, Severity, instant_ns
from analyzer.sources.records import TIME_KEYS, parse_logfmt, record_from_mapping

LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt")
MAX_MESSAGE_CHARS = 65_536  # a runaway continuation stops growing here
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
class LineContext:
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
    ctx: LineContext,
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


def _parse_plain(text: str, ctx: LineContext, origin: str) -> LogRecord | None:
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
    match: re.Match[str], ts: int, ctx: LineContext, text: str, origin: str
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
    data: dict[str, Any], ctx: LineContext, raw: str, origin: str, fallback_ts: int | None
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
    entry: dict[str, Any], ctx: LineContext, raw: str, origin: str
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


def parse_line(text: str, ctx: LineContext, origin: str) -> LogRecord | _Continuation | None:
    """One line: a record, `CONTINUATION` of the previous record, or None when malformed."""
    result, plain = _parse_line(text, ctx, origin)
    if isinstance(result, LogRecord):
        ctx.previous_ts = result.timestamp_ns
        ctx.previous_plain = plain
    return result


def _parse_line(
    text: str, ctx: LineContext, origin: str
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


