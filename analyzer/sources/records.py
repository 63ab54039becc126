"""Turning a parsed log line (a flat mapping) into a LogRecord.

Loki and file sources both end here, so field aliases (`lvl`, `severity`, `msg`, `@timestamp`,
`trace_id`, ...) are understood the same way whichever source read the line. The aliases cover
the JSON of the common ecosystems: Loki/Promtail and logcli, Docker, ECS / Elastic (`log.level`,
`service.name`, nested or dotted), the OpenTelemetry log data model (`severity_text`,
`SeverityNumber`, `body`, `resource`), Bunyan and pino (numeric levels, `name`), structlog
(`event`), GCP (`severity`, `textPayload`, `jsonPayload`, `resource.labels`), AWS Lambda and
CloudWatch, journald's JSON export (`MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`,
`__REALTIME_TIMESTAMP`) and GELF (`short_message`). Where a line names no level, the level is
found as Loki's `detected_level` finds it (see `formats/levels.py`): an HTTP status, then the
words of the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from analyzer.model import LogRecord, Severity, instant_ns
from analyzer.sources.formats.levels import numeric_level, status_level, text_level

LEVEL_KEYS = (
    "level",
    "lvl",
    "severity",
    "log_level",
    "loglevel",
    "levelname",
    "detected_level",
    # Loki's `DefaultAllowedLevelFields` and the other ecosystems' spellings
    "log.level",
    "severity_text",
    "SeverityText",
    "severityText",
    "LEVEL",
    "Level",
    "SEVERITY",
    "Severity",
    "LVL",
    "Lvl",
    "Severity_Text",
    "SEVERITY_TEXT",
    "level_name",
    "PRIORITY",
    "syslog.severity",
    "@l",  # Serilog's compact JSON (CLEF)
    "s",  # MongoDB (4.4+): a letter; counts only when it holds a level (`holds_value`)
)
NUMERIC_LEVEL_KEYS = ("severity_number", "SeverityNumber", "severityNumber")
MESSAGE_KEYS = (
    "message",
    "msg",
    "log",
    "text",
    "event",
    "MESSAGE",
    "body",
    "Body",
    "short_message",
    "textPayload",
    "full_message",
    "@m",  # Serilog's compact JSON: the rendered message, else its template
    "@mt",
    "@message",  # Logstash's old event format
)
TIME_KEYS = (
    "timestamp",
    "time",
    "ts",
    "@timestamp",
    "datetime",
    "date",
    "Timestamp",
    "timeUnixNano",
    "time_unix_nano",
    "TimeUnixNano",
    "__REALTIME_TIMESTAMP",
    "_SOURCE_REALTIME_TIMESTAMP",
    "asctime",
    "eventTime",
    "created",
    "observedTimeUnixNano",
    "ObservedTimestamp",
    "time_local",  # nginx's JSON log_format
    "time_iso8601",
    "@t",  # Serilog's compact JSON (CLEF)
    "instant",  # log4j2's JsonTemplateLayout / JsonLayout: {"epochSecond": ..., "nanoOfSecond": ...}
    "timeMillis",  # log4j2's JsonLayout before 2.11
    "t",  # MongoDB's {"$date": ...}, log15's RFC 3339 string; last, so any other time wins
)
# keys too short to be trusted: another writer's `s` or `t` is read only when it holds a level
# or a time of the shape their writers use (`holds_value`)
WEAK_KEYS = frozenset({"s", "t"})
SERVICE_KEYS = (
    "service",
    "service_name",
    "container",
    "container_name",
    "app",
    "job",
    "service.name",
    "serviceName",
    "application",
    "app_name",
    "SYSLOG_IDENTIFIER",
    "_COMM",
    "_SYSTEMD_UNIT",
    "kubernetes.container_name",
    "logGroup",
)
STATUS_KEYS = ("status", "status_code", "http.response.status_code", "statusCode")
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
# nested objects that hold a level, a service or a message (ECS, OpenTelemetry, GCP, fluent-bit)
_NESTED_LEVEL = (("log", "level"), ("attributes", "level"))
_NESTED_SERVICE = (
    ("service", "name"),
    ("resource", "service.name"),
    ("Resource", "service.name"),
    ("resource", "attributes", "service.name"),
    ("resource", "labels", "service_name"),
    ("resource", "labels", "container_name"),
    ("resource", "labels", "function_name"),
    ("resource", "labels", "module_id"),
    ("kubernetes", "container_name"),
    ("kubernetes", "labels", "app"),
    ("labels", "service"),
    ("labels", "app"),
)
_NESTED_MESSAGE = (
    ("jsonPayload", "message"),
    ("protoPayload", "status", "message"),
    ("request",),  # an access log in JSON (nginx `log_format ... escape=json`): its request line
)
_NESTED_STATUS = (("httpRequest", "status"), ("http", "response", "status_code"))

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
        except (ValueError, RecursionError):  # nested deeper than Python parses
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


def epoch_number_ns(number: int) -> int:
    """An integer epoch in ns, us, ms or s (by its size, as `parse_instant` reads a number),
    in nanoseconds, exactly."""
    if number > 10**17:
        return number
    if number > 10**14:
        return number * 1000
    if number > 10**11:
        return number * 1_000_000
    return number * 1_000_000_000


def timestamp_ns(value: Any) -> int:
    """`instant_ns` with fast paths for the RFC 3339 UTC form most loggers write and for
    integer epochs."""
    if type(value) is str:
        fast = _rfc3339_utc_ns(value)
        if fast is not None:
            return fast
    elif type(value) is int and value >= 0:
        return epoch_number_ns(value)
    elif isinstance(value, dict):
        if "$date" in value:  # MongoDB extended JSON
            return timestamp_ns(value["$date"])
        if "seconds" in value:  # protobuf JSON (GCP): {"seconds": ..., "nanos": ...}
            return int(value["seconds"]) * 1_000_000_000 + int(value.get("nanos") or 0)
        if "epochSecond" in value:  # log4j2: {"epochSecond": ..., "nanoOfSecond": ...}
            return int(value["epochSecond"]) * 1_000_000_000 + int(value.get("nanoOfSecond") or 0)
    try:
        return instant_ns(value)
    except ValueError:
        if type(value) is not str:
            raise
    found = _shaped_time_ns(value)
    if found is None:
        raise ValueError(f"{value!r} is a time of no known shape")
    return found


_ISO_DATE = re.compile(r"\s*\d{4}-\d\d-\d\d[Tt ]")
_SHAPE_READERS: list[Any] = []  # the reader that read the last time of a shape, tried first


def _shaped_time_ns(text: str) -> int | None:
    """A time field that is not RFC 3339 nor an epoch (nginx's `time_local`, Go's
    `2024/01/15 10:23:45`), read as the text formats read times in lines (UTC unless it says)."""
    from analyzer.sources.formats.time_shapes import guess_reader

    if not text.isascii() or _ISO_DATE.match(text):
        return None  # an RFC 3339 time instant_ns refused is wrong, not of another shape
    for reader in _SHAPE_READERS:
        found = reader.read_text(text)
        if found is not None:
            return int(found)
    reader = guess_reader(text, UTC, None)
    if reader is None:
        return None
    _SHAPE_READERS.insert(0, reader)
    del _SHAPE_READERS[4:]
    found = reader.read_text(text)
    return None if found is None else int(found)


def mapping_timestamp_ns(data: Mapping[str, Any]) -> int | None:
    """The line's own time (the first usual time field), None when it has none."""
    for key in TIME_KEYS:
        stamp = data.get(key)
        if stamp is not None and stamp != "" and (key not in WEAK_KEYS or holds_value(key, stamp)):
            return timestamp_ns(stamp)
    return None


_SEVERITIES: dict[str, Severity] = {}  # raw level text -> Severity, as `Severity.parse` says
_MAX_CACHED_SEVERITIES = 1024
_LETTER_LEVELS = {
    "T": Severity.DEBUG, "V": Severity.DEBUG, "D": Severity.DEBUG, "I": Severity.INFO,
    "N": Severity.INFO, "W": Severity.WARN, "E": Severity.ERROR, "F": Severity.FATAL,
}  # fmt: skip


def letter_level(value: str) -> Severity | None:
    """The one-letter levels of glog, Android and MongoDB (`I`, `W`, `E`, `F`, `D1`..`D5`)."""
    if len(value) == 1 or (len(value) == 2 and value[1].isdigit()):
        return _LETTER_LEVELS.get(value[0].upper())
    return None


def holds_value(key: str, value: Any) -> bool:
    """Whether a time or level key's value is read as the line's: always, except under a weak
    key (`WEAK_KEYS`): `t` only as MongoDB's `{"$date": ...}` or a string, `s` only as a level
    word or letter."""
    if key not in WEAK_KEYS:
        return True
    if key == "t":
        return type(value) is str or (type(value) is dict and "$date" in value)
    if type(value) is not str:
        return False
    if letter_level(value) is not None:
        return True
    try:
        Severity.parse(value)
    except ValueError:
        return False
    return True


def severity_of(value: Any) -> Severity:
    """`Severity.parse(value, default=INFO)` (one-letter levels read too), remembered per
    spelling."""
    if type(value) is str:
        found = _SEVERITIES.get(value)
        if found is None:
            found = letter_level(value) or Severity.parse(value, default=Severity.INFO)
            if len(_SEVERITIES) < _MAX_CACHED_SEVERITIES:
                _SEVERITIES[value] = found
        return found
    return Severity.parse(value, default=Severity.INFO)


def _path(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """`data[a][b]...`, None when some step is missing or no object (checked cheaply first:
    most lines hold none of the objects looked into)."""
    value: Any = data.get(path[0])
    if value is None:
        return None
    for key in path[1:]:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def _scalar(value: Any) -> bool:
    return value is not None and value != "" and type(value) not in (dict, list)


def level_value(key: str, value: Any) -> Severity:
    """A level field's value: a word, or a number on the scale its key says."""
    if type(value) is str:
        if value.isdigit():
            return numeric_level(key, int(value))
        return severity_of(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return numeric_level(key, int(value))
    return severity_of(str(value))


def mapping_level(data: Mapping[str, Any]) -> Severity | None:
    """The level a mapping states: its level fields (flat, then nested), the OpenTelemetry
    severity number, then an HTTP status; None when it states none."""
    get = data.get
    for key in LEVEL_KEYS:
        value = get(key)
        if value is not None and value != "":
            if key in WEAK_KEYS and not holds_value(key, value):
                continue
            if type(value) is str:
                return severity_of(value) if not value.isdigit() else numeric_level(key, int(value))
            if _scalar(value):
                return level_value(key, value)
    for key in NUMERIC_LEVEL_KEYS:
        value = get(key)
        if _scalar(value):
            return level_value(key, value)
    for path in _NESTED_LEVEL:
        value = _path(data, path)
        if _scalar(value):
            return level_value(path[-1], value)
    for key in STATUS_KEYS:
        value = get(key)
        status = _as_int(value) if _scalar(value) else None
        if status is not None and 100 <= status <= 599:
            return status_level(status)
    for path in _NESTED_STATUS:
        status = _as_int(_path(data, path))
        if status is not None and 100 <= status <= 599:
            return status_level(status)
    return None


def mapping_message(data: Mapping[str, Any]) -> str | None:
    """The message: the first message field that holds text (an OpenTelemetry body's
    `stringValue`, journald's byte arrays decoded), else a nested one (GCP `jsonPayload`)."""
    get = data.get
    for key in MESSAGE_KEYS:
        value = get(key)
        if value is None or value == "":
            continue
        if type(value) is str:
            return value
        if isinstance(value, dict):
            inner = value.get("stringValue")
            if isinstance(inner, str):
                return inner
            continue
        if isinstance(value, list) and value and all(type(x) is int for x in value):
            return bytes(x & 0xFF for x in value).decode("utf-8", errors="replace")
        if isinstance(value, int | float | bool):
            return str(value)
    for path in _NESTED_MESSAGE:
        value = _path(data, path)
        if isinstance(value, str) and value:
            return value
    return None


def _detected_level(data: Mapping[str, Any]) -> Severity:
    """`mapping_level`, else the words of the message (Loki's detection), else info."""
    found = mapping_level(data)
    if found is not None:
        return found
    message = mapping_message(data)
    if message:
        return text_level(message) or Severity.INFO
    return Severity.INFO


def mapping_service(
    data: Mapping[str, Any], labels: Mapping[str, Any] | None = None, default: str = "unknown"
) -> str:
    found = _service_field(data)
    if found is None and labels:
        found = _first(labels, SERVICE_KEYS)
    return str(found or default)


def _service_field(data: Mapping[str, Any]) -> Any:
    """The service a mapping names: flat keys, nested objects, Bunyan/pino's `name`."""
    get = data.get
    for key in SERVICE_KEYS:
        value = get(key)
        if _scalar(value):
            return value
    for path in _NESTED_SERVICE:
        value = _path(data, path)
        if _scalar(value):
            return value
    name = get("name")
    if type(name) is str and name and "hostname" in data and "pid" in data:
        return name  # Bunyan always writes name, hostname and pid; pino when named
    return None


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
        if stamp is not None and stamp != "" and (key not in WEAK_KEYS or holds_value(key, stamp)):
            stamp_ns = _rfc3339_utc_ns(stamp) if type(stamp) is str else None
            if stamp_ns is None:
                stamp_ns = timestamp_ns(stamp)
            break
    service = default_service
    for key in SERVICE_KEYS:
        found = get(key)
        if found is not None and found != "" and type(found) is str:
            service = found
            break
    else:
        found = _service_field(data)
        if found is not None:
            service = found if type(found) is str else str(found)
    level = None
    for key in LEVEL_KEYS:
        value = get(key)
        if value is not None and value != "":
            if key in WEAK_KEYS and not holds_value(key, value):
                continue
            if type(value) is str and not value.isdigit():
                level = severity_of(value)
            elif type(value) is int:
                level = numeric_level(key, value)
            break
    return stamp_ns, service, level if level is not None else _detected_level(data)


def mapping_id(data: Mapping[str, Any], name: str) -> str | None:
    """The id `name` (one of `ID_ALIASES`) under any of its spellings, as a record holds it."""
    return _str_or_none(_first(data, ID_ALIASES[name]))


_RESERVED = frozenset(TIME_KEYS) | frozenset(MESSAGE_KEYS) | {"level", "service"}
_MESSAGE_KEY_SET = frozenset(MESSAGE_KEYS)


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
    level = mapping_level(data)
    if level is None and labels:
        level = mapping_level(labels)
    if level is None:
        level = _detected_level(data)
    message = mapping_message(data)
    if message is None:
        message = raw or json.dumps(dict(data), sort_keys=True, default=str)
    # a message key that holds an object (ECS `log`, `event`) is a field, not the message
    fields = {
        k: v
        for k, v in data.items()
        if k not in _RESERVED
        or (k in _MESSAGE_KEY_SET and isinstance(v, dict))
        or (k in WEAK_KEYS and not holds_value(k, v))
    }
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
