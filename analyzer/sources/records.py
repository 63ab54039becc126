"""Turning a parsed log line (a flat mapping) into a LogRecord.

Loki and file sources both end here, so field aliases (`lvl`, `severity`, `msg`, `@timestamp`,
`trace_id`, ...) are understood the same way whichever source read the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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
        if value not in (None, ""):
            return value
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _as_float(value: Any) -> float | None:
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


def duration_seconds(data: Mapping[str, Any]) -> float | None:
    """`duration` is seconds; `duration_ms`/`latency_ms`/`elapsed_ms` are milliseconds."""
    value = _as_float(data.get("duration"))
    if value is not None:
        return value
    for key in ("duration_ms", "latency_ms", "elapsed_ms", "response_time_ms"):
        value = _as_float(data.get(key))
        if value is not None:
            return value / 1000.0
    for key in ("duration_s", "latency", "elapsed", "response_time"):
        value = _as_float(data.get(key))
        if value is not None:
            return value
    return None


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
    labels = dict(labels or {})
    merged: dict[str, Any] = {**labels, **data}
    if timestamp_ns is None:
        stamp = _first(data, TIME_KEYS)
        timestamp_ns = instant_ns(stamp) if stamp is not None else 0
    service = _first(data, SERVICE_KEYS) or _first(labels, SERVICE_KEYS) or default_service
    level = Severity.parse(_first(merged, LEVEL_KEYS), default=Severity.INFO)
    message = _first(data, MESSAGE_KEYS)
    if message is None:
        message = raw or json.dumps(dict(data), sort_keys=True)
    ids = {name: _first(merged, keys) for name, keys in ID_ALIASES.items()}
    reserved = set(TIME_KEYS) | set(MESSAGE_KEYS) | {"level", "service"}
    fields = {k: v for k, v in data.items() if k not in reserved}
    status = _as_int(data.get("status_code") or data.get("status"))
    success = _as_bool(data.get("success"))
    if success is None and status is not None:
        success = status < 500
    return LogRecord(
        timestamp_ns=int(timestamp_ns),
        service=str(service),
        level=level,
        message=str(message),
        labels={k: str(v) for k, v in labels.items()},
        fields=fields,
        correlation_id=_str_or_none(ids["correlation_id"]),
        conversation_id=_str_or_none(ids["conversation_id"]),
        session_id=_str_or_none(ids["session_id"]),
        workspace_id=_str_or_none(ids["workspace_id"]),
        user_id=_str_or_none(ids["user_id"]),
        model=_str_or_none(data.get("model") or labels.get("model")),
        tokens_used=_as_int(
            data.get("tokens_used")
            if data.get("tokens_used") is not None
            else data.get("total_tokens")
        ),
        duration=duration_seconds(data),
        request_type=_str_or_none(data.get("request_type") or labels.get("request_type")),
        success=success,
        raw=raw,
        origin=origin,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
