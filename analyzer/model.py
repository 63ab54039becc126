"""The shared vocabulary: log records, severities, time ranges and the query an analysis answers.

Every source produces `LogRecord`s and every analysis consumes them, so this module has no
dependency on Flask, Loki or Redis. `Query` is a pydantic model because the same definition
validates HTTP parameters, CLI flags and webhook-derived filters, and generates the OpenAPI schema.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

NS_PER_SECOND = 1_000_000_000

DURATION_PATTERN = r"^[0-9]+[smhd]$"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in a `30s` / `15m` / `2h` / `7d` duration (the only form the API accepts)."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"duration {text!r} must look like 30s, 15m, 2h or 7d")
    return int(text[:-1]) * _DURATION_UNITS[text[-1]]


# Go's time.ParseDuration units (logcli's --since), plus `d` as the API's own durations have it
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
             "h": 3600.0, "d": 86400.0}  # fmt: skip
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration such as `1h30m`, `90s`, `1.5h` or `250ms` (logcli's `--since`).

    As Go, a bare `0` is allowed and every other number needs a unit; a sign is refused because
    a lookback window is never negative.
    """
    value = str(text).strip()
    if value == "0":
        return 0.0
    position, total = 0, 0.0
    for match in _GO_DURATION.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    if not value or position != len(value):
        raise ValueError(f"duration {value!r} must look like 1h30m, 45m, 90s or 1.5h")
    return total


_RELATIVE_TIME = re.compile(
    r"now(?P<offsets>(?:\s*[+-]\s*\d+\s*(?:ms|s|m|h|d|w|M|y))*)\s*(?:/\s*(?P<round>[smhdwMy]))?"
)
_OFFSET = re.compile(r"([+-])\s*(\d+)\s*(ms|s|m|h|d|w|M|y)")
_FIXED_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def is_relative_time(value: object) -> bool:
    """Whether `value` is one of Grafana's relative times: `now`, `now-1h`, `now-2d/d`, ..."""
    return isinstance(value, str) and _RELATIVE_TIME.fullmatch(value.strip()) is not None


def relative_lookback(value: object) -> int | None:
    """Seconds back from now for a plain `now-<n><unit>` (no rounding, fixed-length units),
    so `now-90m` can stay a window that moves with the clock; None for anything else."""
    if not isinstance(value, str):
        return None
    match = _RELATIVE_TIME.fullmatch(value.strip())
    if match is None or match.group("round"):
        return None
    offsets = _OFFSET.findall(match.group("offsets"))
    if len(offsets) != 1 or offsets[0][0] != "-" or offsets[0][2] not in ("s", "m", "h", "d", "w"):
        return None
    return int(offsets[0][1]) * int(_FIXED_UNITS[offsets[0][2]])


def parse_grafana_time(value: str, now: int, *, round_up: bool = False) -> int:
    """Nanosecond epoch of a Grafana relative time (`now`, `now-1h`, `now-2d/d`, `now/w`) at
    `now` (ns). Units as Grafana's: s m h d w M y (M months, y years, calendar arithmetic);
    `/unit` rounds to the start of that unit in UTC, or to its end with `round_up` (what
    Grafana does for the end of a range: `now-1d/d` to `now-1d/d` is all of yesterday).
    """
    match = _RELATIVE_TIME.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a Grafana relative time such as now-1h or now-2d/d")
    try:
        return _relative_ns(match, now, round_up=round_up)
    except (OverflowError, ValueError, OSError):
        raise ValueError(f"{value!r} lands outside the times a clock can hold") from None


def _relative_ns(match: re.Match[str], now: int, *, round_up: bool) -> int:
    moment = datetime.fromtimestamp(now // NS_PER_SECOND, tz=UTC).replace(
        microsecond=(now % NS_PER_SECOND) // 1000
    )
    for sign, amount, unit in _OFFSET.findall(match.group("offsets")):
        step = int(amount) * (1 if sign == "+" else -1)
        if unit in ("M", "y"):
            months = moment.year * 12 + moment.month - 1 + step * (12 if unit == "y" else 1)
            year, month = divmod(months, 12)
            moment = moment.replace(year=year, month=month + 1, day=min(moment.day, _days_in(year, month + 1)))
        else:
            moment = moment + timedelta(seconds=step * _FIXED_UNITS[unit])
    unit = match.group("round")
    if unit:
        moment = _round_to(moment, unit, up=round_up)
    return _to_ns(moment)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _round_to(moment: datetime, unit: str, *, up: bool) -> datetime:
    """Start of `unit` containing `moment` or, with `up`, its last microsecond (as Grafana)."""
    start = moment.replace(microsecond=0)
    if unit in "mhdwMy":
        start = start.replace(second=0)
    if unit in "hdwMy":
        start = start.replace(minute=0)
    if unit in "dwMy":
        start = start.replace(hour=0)
    if unit == "w":
        start = start - timedelta(days=start.weekday())  # ISO weeks start on Monday
    if unit in "My":
        start = start.replace(day=1)
    if unit == "y":
        start = start.replace(month=1)
    if not up:
        return start
    if unit in _FIXED_UNITS:
        following = start + timedelta(seconds=_FIXED_UNITS[unit])
    else:
        months = start.year * 12 + start.month - 1 + (12 if unit == "y" else 1)
        following = start.replace(year=months // 12, month=months % 12 + 1)
    return following - timedelta(microseconds=1)
MAX_WINDOW = "3650d"  # ten years: longer spans are typos, and overflow the clocks downstream
MAX_WINDOW_SECONDS = 3650 * 86400
# Loki counts time in int64 nanoseconds, which end in April 2262
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 4, 11, tzinfo=UTC)


def _bounded_span(text: str) -> str:
    if parse_duration(text) > MAX_WINDOW_SECONDS:
        raise ValueError(f"{text} is longer than {MAX_WINDOW}, the longest window")
    return text


def _window_span(text: str) -> str:
    if parse_duration(text) <= 0:
        raise ValueError(f"{text} is an empty window; give a length such as 15m or 2h")
    return _bounded_span(text)


def _up_to(limit: int, *, positive: bool) -> str:
    """A regex (no look-around) for the decimal integers 0 or 1 .. `limit`, leading zeros
    allowed, so the OpenAPI document states the bounds the validators enforce."""
    digits = str(limit)  # at least two digits: every limit here is
    shorter = len(digits) - 1
    parts = [f"[1-9][0-9]{{0,{shorter - 1}}}" if positive else f"[0-9]{{1,{shorter}}}"]
    for i, digit in enumerate(digits[:-1]):
        low = 0 if i else 1
        if int(digit) > low:
            high = int(digit) - 1
            span = str(low) if high == low else f"[{low}-{high}]"
            parts.append(f"{digits[:i]}{span}[0-9]{{{shorter - i}}}")
    parts.append(digits)
    return "0*(?:" + "|".join(parts) + ")"


def _duration_schema(*, positive: bool) -> dict[str, str]:
    units = "|".join(
        f"{_up_to(MAX_WINDOW_SECONDS // seconds, positive=positive)}{unit}"
        for unit, seconds in _DURATION_UNITS.items()
    )
    return {"pattern": f"^(?:{units})$"}


# A look-back window: longer than zero, at most MAX_WINDOW.
Window = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, json_schema_extra=_duration_schema(positive=True)),
    AfterValidator(_window_span),
]
# A margin around something (may be zero), at most MAX_WINDOW.
Span = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, json_schema_extra=_duration_schema(positive=False)),
    AfterValidator(_bounded_span),
]


def check_instant(value: datetime) -> datetime:
    """An instant every clock downstream can hold (Loki's int64 nanoseconds)."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError(
            f"{value.isoformat()} is outside {EARLIEST.date()} .. {LATEST.date()}, the times "
            "Loki can store"
        )
    return value


class Severity(IntEnum):
    """Ordered so that a threshold is a simple comparison."""

    DEBUG = 10
    INFO = 20
    WARN = 30
    ERROR = 40
    FATAL = 50

    @classmethod
    def parse(cls, value: object, default: Severity | None = None) -> Severity:
        """Accept the spellings real loggers use (`warning`, `err`, `CRITICAL`, syslog numbers)."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return _SYSLOG_NUMBERS.get(value, default or cls.INFO)
        text = str(value or "").strip().lower()
        found = _SEVERITY_ALIASES.get(text)
        if found is not None:
            return found
        if default is not None:
            return default
        raise ValueError(f"unknown severity {value!r}; use one of debug, info, warn, error, fatal")

    @property
    def label(self) -> str:
        return self.name.lower()


_SEVERITY_ALIASES: dict[str, Severity] = {
    "trace": Severity.DEBUG,
    "debug": Severity.DEBUG,
    "dbug": Severity.DEBUG,
    "verbose": Severity.DEBUG,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "informational": Severity.INFO,
    "notice": Severity.INFO,
    "ok": Severity.INFO,
    "warn": Severity.WARN,
    "warning": Severity.WARN,
    "wrn": Severity.WARN,
    "error": Severity.ERROR,
    "err": Severity.ERROR,
    "eror": Severity.ERROR,
    "fail": Severity.ERROR,
    "failure": Severity.ERROR,
    "severe": Severity.ERROR,
    "fatal": Severity.FATAL,
    "critical": Severity.FATAL,
    "crit": Severity.FATAL,
    "panic": Severity.FATAL,
    "emerg": Severity.FATAL,
    "emergency": Severity.FATAL,
    "alert": Severity.FATAL,
}
# syslog priority numbers (RFC 5424): 0 emerg .. 7 debug
_SYSLOG_NUMBERS: dict[int, Severity] = {
    0: Severity.FATAL,
    1: Severity.FATAL,
    2: Severity.FATAL,
    3: Severity.ERROR,
    4: Severity.WARN,
    5: Severity.INFO,
    6: Severity.INFO,
    7: Severity.DEBUG,
}


ID_FIELDS = ("correlation_id", "conversation_id", "session_id", "workspace_id", "user_id")


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# Instants as the validators read them: RFC 3339, or epoch seconds (ms and ns are read too;
# the document states the unambiguous forms).
INSTANT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {  # RFC 3339 in the years Loki's clock holds
            "type": "string",
            "format": "date-time",
            "pattern": "^(?:19[7-9][0-9]|2[01][0-9]{2}|22[0-5][0-9]|226[01])-",
        },
        {"type": "string", "pattern": "^(?:[0-9]{1,9}|1[0-9]{9})(?:\\.[0-9]{1,6})?$"},
        {"type": "string", "enum": [""]},  # `start=` in a query string: not given
        # Grafana's relative times: now, now-1h, now-2d/d
        {"type": "string", "pattern": "^now(?:[+-][0-9]+(?:ms|s|m|h|d|w|M|y))*(?:/[smhdwMy])?$"},
        {"type": "null"},
    ]
}

# What `Severity.parse` accepts, for the OpenAPI document: a level name in any case, or a
# number (syslog 0-7; any other number reads as info).
SEVERITY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer"},
        {
            "type": "string",
            # empty: not given (`severity_threshold=` in a query string)
            "pattern": "^(?:" + "|".join(_any_case(a) for a in _SEVERITY_ALIASES) + "|-?[0-9]+|)$",
        },
        {"type": "null"},
    ]
}


@dataclass(slots=True)
class LogRecord:
    """One log line after parsing, whatever source it came from.

    `labels` are Loki stream labels (low cardinality); `fields` are everything else the line or
    its structured metadata carried. The ids and AI fields are lifted out of `fields` because
    every analysis uses them.
    """

    timestamp_ns: int
    service: str
    level: Severity
    message: str
    labels: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    conversation_id: str | None = None
    session_id: str | None = None
    workspace_id: str | None = None
    user_id: str | None = None
    model: str | None = None
    tokens_used: int | None = None
    duration: float | None = None  # seconds
    request_type: str | None = None
    success: bool | None = None
    raw: str = ""
    origin: str = ""  # where the line came from: "api.jsonl:12" or a Loki stream selector

    @property
    def timestamp(self) -> datetime:
        return datetime_of_ns(self.timestamp_ns)

    @property
    def is_error(self) -> bool:
        return self.level >= Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["level"] = self.level.label
        data["timestamp"] = format_timestamp(self.timestamp_ns)
        return {k: v for k, v in data.items() if v not in (None, "", {})}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def datetime_of_ns(ns: int, *, up: bool = False) -> datetime:
    """The datetime of a nanosecond epoch, to the nearest microsecond exactly (a float of the
    seconds drifts by a fraction of one), or rounded up: a window's edges, so a line in the
    last microsecond of a window that ends at its newest line stays inside it."""
    micro = -(-ns // 1000) if up else (ns + 500) // 1000
    return _EPOCH + timedelta(microseconds=micro)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with microseconds, UTC: what Grafana and people both read."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def format_timestamp(ns: int) -> str:
    return rfc3339(datetime_of_ns(ns))


def now_ns() -> int:
    return time.time_ns()


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ValueError("end must be after start")

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / NS_PER_SECOND

    def contains(self, ts_ns: int) -> bool:
        return self.start_ns <= ts_ns <= self.end_ns

    def edges(self) -> dict[str, datetime]:
        """`start` and `end` as a Query takes them: both rounded up to the microsecond, so the
        length stays the asked one and a window that ends at its newest line keeps it."""
        return {"start": datetime_of_ns(self.start_ns, up=True), "end": datetime_of_ns(self.end_ns, up=True)}

    def to_dict(self) -> dict[str, str]:
        return {key: rfc3339(moment) for key, moment in self.edges().items()}


class Mode(StrEnum):
    TROUBLESHOOT = "troubleshoot"
    PERFORMANCE = "performance"
    ERRORS = "errors"
    AUDIT = "audit"
    CONVERSATION = "conversation"


class Aggregation(StrEnum):
    NONE = "none"
    BY_SERVICE = "by_service"
    BY_ERROR = "by_error"
    BY_PATTERN = "by_pattern"


class OutputFormat(StrEnum):
    STRUCTURED = "structured"
    NARRATIVE = "narrative"
    TIMELINE = "timeline"


class Verbosity(StrEnum):
    MINIMAL = "minimal"
    STANDARD = "standard"
    DETAILED = "detailed"


IdText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Term = Annotated[str, Field(min_length=1, max_length=200)]


def _split_list(value: object) -> object:
    """`a,b` and repeated parameters both mean a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            out.extend(_split_list(item) if isinstance(item, str) else [item])
        return out
    return value


class Query(BaseModel):
    """What the caller wants analysed. One model for the HTTP API, the CLI and the webhook."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=False)

    mode: Mode = Field(Mode.TROUBLESHOOT, description="What the analysis focuses on.")
    services: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=50, description="Services to read; empty means all."
    )
    time_range: Window = Field(
        "1h", description=f"Window ending now (or at `end`), e.g. 2h; at most {MAX_WINDOW}."
    )
    start: datetime | None = Field(
        None,
        description="Start: RFC 3339, epoch, or Grafana's relative now-2h, now-1d/d.",
        json_schema_extra=INSTANT_SCHEMA,
    )
    end: datetime | None = Field(
        None,
        description="End, after start: RFC 3339, epoch, or Grafana's relative now, now-1d/d.",
        json_schema_extra=INSTANT_SCHEMA,
    )
    correlation_id: IdText | None = None
    conversation_id: IdText | None = None
    session_id: IdText | None = None
    workspace_id: IdText | None = None
    user_id: IdText | None = None
    severity_threshold: Severity | None = Field(
        None,
        description="Keep records at or above this level (debug..fatal).",
        json_schema_extra=SEVERITY_SCHEMA,
    )
    include_context: int = Field(0, ge=0, le=50, description="Lines kept around each hit.")
    aggregation: Aggregation = Aggregation.NONE
    format: OutputFormat = OutputFormat.STRUCTURED
    deduplicate: bool = Field(False, description="Collapse repeated messages with counts.")
    highlight: list[Term] = Field(default_factory=list, max_length=10)
    context_window: Span | None = Field(
        None, description="Time kept around each error, e.g. 30s."
    )
    exclude_patterns: list[Term] = Field(
        default_factory=list, max_length=10, description="Regexes; matching lines are dropped."
    )
    verbosity: Verbosity = Verbosity.STANDARD
    limit: int = Field(1000, ge=1, le=10000, description="Most log lines returned.")
    cache: bool = Field(True, description="Use the result cache.")
    expand_dependencies: bool = Field(
        False,
        description=(
            "Also read the other services in the window, so insights can name a root cause"
            " outside `services` (alert analyses do this); logs and summary stay on `services`."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _relative_times(cls, values: Any) -> Any:
        """Grafana's relative times in `start`/`end`: `start=now-2h` (with `end` absent or
        `now`) stays a window that moves with the source's clock (`time_range` of 7200s);
        other forms (`now-2d/d`, `end=now-1h`) are resolved against the wall clock."""
        if not isinstance(values, dict):
            return values
        start, end = values.get("start"), values.get("end")
        if not (is_relative_time(start) or is_relative_time(end)):
            return values
        out = dict(values)
        lookback = relative_lookback(start)
        if lookback is not None and (end in (None, "") or str(end).strip() == "now"):
            out["start"] = out["end"] = None
            out["time_range"] = f"{max(lookback, 1)}s"
            return out
        now = now_ns()
        for name, up in (("start", False), ("end", True)):
            if is_relative_time(out.get(name)):
                out[name] = str(parse_grafana_time(out[name], now, round_up=up))
        return out

    @field_validator("services", "highlight", "exclude_patterns", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("severity_threshold", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        if value is None or value == "":
            return None
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)  # a syslog number sent in a query string
        return Severity.parse(value)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _instant(cls, value: object) -> object:
        return check_instant(parse_instant(value)) if value not in (None, "") else None

    @field_validator("exclude_patterns")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"exclude pattern {pattern!r} is not a valid regex: {exc}"
                ) from exc
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start")
        if value is not None and start is not None and value <= start:
            raise ValueError("end must be after start")
        return value

    def window(self, now: int | None = None) -> TimeRange:
        """The absolute range: `start`/`end` if given, else `time_range` ending at `end` or now."""
        end_ns = _to_ns(self.end) if self.end else (now if now is not None else now_ns())
        if self.start:
            start_ns = _to_ns(self.start)
            if start_ns >= end_ns:  # `start=now` over logs that end earlier, a future start
                from analyzer.errors import InvalidParameter

                raise InvalidParameter(
                    f"start {format_timestamp(start_ns)} is not before the window's end "
                    f"{format_timestamp(end_ns)}",
                    suggestion="Give a start before the end (or before the newest line, over "
                    "files), or a time_range such as 1h.",
                )
            return TimeRange(start_ns, end_ns)
        return TimeRange(end_ns - parse_duration(self.time_range) * NS_PER_SECOND, end_ns)

    @property
    def is_relative(self) -> bool:
        return self.end is None

    def ids(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ID_FIELDS if getattr(self, name)}


def _to_ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS_PER_SECOND + moment.microsecond * 1000


def parse_instant(value: object) -> datetime:
    """RFC 3339, or an epoch in s / ms / ns (Grafana sends ms, Loki ns)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        number = float(text)
        if number > 1e17:
            number /= 1e9
        elif number > 1e14:
            number /= 1e6
        elif number > 1e11:
            number /= 1e3
        try:
            return datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{text[:40]!r} is not an epoch this clock can hold") from exc
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an RFC 3339 time or an epoch number") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def instant_ns(value: object) -> int:
    """Nanosecond epoch of anything `parse_instant` accepts, keeping integer ns exact."""
    text = str(value).strip()
    if re.fullmatch(r"\d{18,19}", text):
        return int(text)
    fraction = _FRACTION.search(text)
    if fraction and len(fraction.group(1)) > 6:
        # datetime keeps microseconds only; put the nanoseconds back
        whole = _to_ns(parse_instant(_FRACTION.sub("", text, count=1)))
        return whole + int(fraction.group(1)[:9].ljust(9, "0"))
    return _to_ns(parse_instant(value))


_FRACTION = re.compile(r"(?<=\d\d:\d\d:\d\d)\.(\d+)")
