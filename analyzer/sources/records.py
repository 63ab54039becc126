"""Turning a parsed log line (a flat mapping) into a LogRecord.

Loki and file sources both end here, so field aliases (`lvl`, `severity`, `msg`, `@timestamp`,
`trace_id`, ...) are understood the same way whichever source read the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from analyzer.model import LogRecord, Severity, instant_ns

LEVEL_KEYS = ("level", "lvl", "severity", "log_level", "loglevel", "levelname", "detected_level")
MESSAGE_KEYS = ("message", "msg", "log", "text", "event")
TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "date")
SERVICE_KEYS = ("service", "service_name", "container", "container_name", "app", "job")
ID_ALIASES = {
    "correlation_id": (
        "correlation_id",
        "correlationId",
        "x_correlation_id",
        "request_id",
        "requestId",
    ),
    "conversation_id": ("conversation_id", "conversationId"),
    "session_id": ("session_id", "sessionId"),
    "workspace_id": ("workspace_id", "workspaceId", "workspace"),
    "user_id": ("user_id", "userId", "user"),
}
# Loki adds these beside a line; they are not the application's own fields
LOKI_DERIVED = {"detected_level", "service_name"}

_LOGFMT = re.compile(r'([\w.@/-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_logfmt(line: str) -> dict[str, str] | None:
    """`key=value key2="quoted value"`; None when the line is not logfmt."""
    pairs = _LOGFMT.findall(line)
    if len(pairs) < 2:
        return None
    out: dict[str, str] = {}
    for key, value in pairs:
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[key] = value
    return out


def parse_structured_line(line: str) -> dict[str, Any] | None:
    """A JSON object or a logfmt line as a mapping; None for plain text."""
    text = line.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    if "=" in text:
        return parse_logfmt(text)
    return None


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


def _as_int(value: Any) -> int | None:
    if value is None:  # the usual case: checked first, as a raised TypeError costs a microsecond
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "ok", "success"}:
        return True
    if text in {"false", "0", "no", "failed", "failure", "error"}:
        return False
    return None


_DURATION_KEYS = (
    ("duration", 1.0),
    ("duration_ms", 1000.0),
    ("latency_ms", 1000.0),
    ("elapsed_ms", 1000.0),
    ("response_time_ms", 1000.0),
    ("duration_s", 1.0),
    ("latency", 1.0),
    ("elapsed", 1.0),
    ("response_time", 1.0),
)


def duration_seconds(data: Mapping[str, Any]) -> float | None:
    """`duration` is seconds; `duration_ms`/`latency_ms`/`elapsed_ms` are milliseconds."""
    get = data.get
    for key, per_second in _DURATION_KEYS:
        value = get(key)
        if value is not None:
            seconds = _as_float(value)
            if seconds is not None:
                return seconds / per_second
    return None


# ----- timestamps and levels, the per-line hot spots ----------------------------------------

_SECOND_EPOCHS: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" -> its epoch second
_MAX_CACHED_SECONDS = 16_384
_FRACTION_SCALE = tuple(10 ** (9 - n) for n in range(10))
_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _second_epoch(prefix: str) -> int | None:
    """Epoch second of a `YYYY-MM-DDTHH:MM:SS` prefix, None when it is no valid UTC second."""
    if not _SECOND.fullmatch(prefix):
        return None
    try:
        moment = datetime(
            int(prefix[:4]),
            int(prefix[5:7]),
            int(prefix[8:10]),
            int(prefix[11:13]),
            int(prefix[14:16]),
            int(prefix[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    epoch = int(moment.timestamp())
    if epoch < 0:  # before 1970 `instant_ns` rounds toward zero: leave those to it
        return None
    if len(_SECOND_EPOCHS) >= _MAX_CACHED_SECONDS:
        _SECOND_EPOCHS.clear()
    _SECOND_EPOCHS[prefix] = epoch
    return epoch


def _rfc3339_utc_ns(text: str) -> int | None:
    """`YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` by fixed positions; None for any other shape."""
    size = len(text)
    if size < 20 or size > 30 or text[-1] != "Z":
        return None
    prefix = text[:19]
    second = _SECOND_EPOCHS.get(prefix)
    if second is None:
        second = _second_epoch(prefix)
        if second is None:
            return None
    if size == 20:
        return second * 1_000_000_000
    digits = text[20:-1]
    if text[19] != "." or not digits.isdigit() or not digits.isascii():
        return None
    return second * 1_000_000_000 + int(digits) * _FRACTION_SCALE[size - 21]


def timestamp_ns(value: Any) -> int:
    """`instant_ns` with a fast path for the RFC 3339 UTC form most loggers write."""
    if type(value) is str:
        fast = _rfc3339_utc_ns(value)
        if fast is not None:
            return fast
    return instant_ns(value)


def mapping_timestamp_ns(data: Mapping[str, Any]) -> int | None:
    """The line's own time (the first usual time field), None when it has none."""
    stamp = _first(data, TIME_KEYS)
    return None if stamp is None else timestamp_ns(stamp)


_SEVERITIES: dict[str, Severity] = {}  # raw level text -> Severity, as `Severity.parse` says
_MAX_CACHED_SEVERITIES = 1024


def severity_of(value: Any) -> Severity:
    """`Severity.parse(value, default=INFO)`, remembered per spelling."""
    if type(value) is str:
        found = _SEVERITIES.get(value)
        if found is None:
            found = Severity.parse(value, default=Severity.INFO)
            if len(_SEVERITIES) < _MAX_CACHED_SEVERITIES:
                _SEVERITIES[value] = found
        return found
    return Severity.parse(value, default=Severity.INFO)


def mapping_service(
    data: Mapping[str, Any], labels: Mapping[str, Any] | None = None, default: str = "unknown"
) -> str:
    found = _first(data, SERVICE_KEYS) or (_first(labels, SERVICE_KEYS) if labels else None)
    return str(found or default)


def mapping_summary(
    data: Mapping[str, Any], default_service: str
) -> tuple[int | None, str, Severity]:
    """Time (None when the line has none), service and level of the record `record_from_mapping`
    would build from `data` without labels: all a reader needs to skip a line without building
    it. An unreadable time raises ValueError or OverflowError, as it does there."""
    get = data.get
    stamp_ns = None
    for key in TIME_KEYS:
        stamp = get(key)
        if stamp is not None and stamp != "":
            stamp_ns = _rfc3339_utc_ns(stamp) if type(stamp) is str else None
            if stamp_ns is None:
                stamp_ns = instant_ns(stamp)
            break
    service = default_service
    for key in SERVICE_KEYS:
        found = get(key)
        if found is not None and found != "":
            if found:
                service = found if type(found) is str else str(found)
            break
    level = None
    for key in LEVEL_KEYS:
        level = get(key)
        if level is not None and level != "":
            break
    else:
        level = None
    return stamp_ns, service, severity_of(level)


def mapping_id(data: Mapping[str, Any], name: str) -> str | None:
    """The id `name` (one of `ID_ALIASES`) under any of its spellings, as a record holds it."""
    return _str_or_none(_first(data, ID_ALIASES[name]))


_RESERVED = frozenset(TIME_KEYS) | frozenset(MESSAGE_KEYS) | {"level", "service"}


def record_from_mapping(
    data: Mapping[str, Any],
    *,
    timestamp_ns: int | None = None,
    labels: Mapping[str, str] | None = None,
    default_service: str = "unknown",
    raw: str = "",
    origin: str = "",
) -> LogRecord:
    """Build a record; `timestamp_ns` (e.g. Loki's entry time) wins over the line's own time."""
    if timestamp_ns is None:
        timestamp_ns = mapping_timestamp_ns(data) or 0
    if labels:
        labels = dict(labels)
        merged: Mapping[str, Any] = {**labels, **data}
    else:
        labels = {}
        merged = data
    service = mapping_service(data, labels, default_service)
    level = severity_of(_first(merged, LEVEL_KEYS))
    message = _first(data, MESSAGE_KEYS)
    if message is None:
        message = raw or json.dumps(dict(data), sort_keys=True)
    fields = {k: v for k, v in data.items() if k not in _RESERVED}
    get = data.get
    status = _as_int(get("status_code") or get("status"))
    success = _as_bool(get("success"))
    if success is None and status is not None:
        success = status < 500
    tokens = get("tokens_used")
    ids = _ids(merged)
    return LogRecord(
        timestamp_ns=int(timestamp_ns),
        service=service,
        level=level,
        message=str(message),
        labels={k: str(v) for k, v in labels.items()} if labels else {},
        fields=fields,
        correlation_id=ids[0],
        conversation_id=ids[1],
        session_id=ids[2],
        workspace_id=ids[3],
        user_id=ids[4],
        model=_str_or_none(get("model") or labels.get("model")),
        tokens_used=_as_int(tokens if tokens is not None else get("total_tokens")),
        duration=duration_seconds(data),
        request_type=_str_or_none(get("request_type") or labels.get("request_type")),
        success=success,
        raw=raw,
        origin=origin,
    )


_ID_KEYS = tuple(ID_ALIASES.values())


def _ids(data: Mapping[str, Any]) -> list[str | None]:
    """The `ID_ALIASES` ids in their order, each under the first of its spellings present."""
    get = data.get
    out: list[str | None] = []
    for keys in _ID_KEYS:
        for key in keys:
            value = get(key)
            if value is not None and value != "":
                out.append(value if type(value) is str else str(value))
                break
        else:
            out.append(None)
    return out


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
