"""Structured lines: JSON objects (which ecosystem wrote them, and the ones that wrap another
line) and logfmt.

Most JSON is read by the field aliases of `records.py` whatever wrote it; `json_kind` only names
the ecosystem for the account of the input. Three kinds wrap an application's own line, which is
read again (JSON, logfmt or text) with the wrapper's time as a fallback: Docker's json-file
(`log`, `stream`, `time`), logcli's `--output jsonl` (`line`, `labels`, `timestamp`) and
CloudWatch Logs events (`message`, `timestamp` in ms, `logStreamName`). An OTLP/JSON export
(`resourceLogs`, one batch per line as the OpenTelemetry Collector's file exporter writes it)
holds many records: `otlp_records` flattens each with its resource's attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analyzer.model import Severity
from analyzer.sources.formats.ansi import plain_text
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.text import LineFormat
from analyzer.sources.records import (
    TIME_KEYS,
    mapping_summary,
    parse_logfmt,
)


def json_kind(data: dict[str, Any]) -> str:
    """The ecosystem a JSON line comes from, by the keys it writes (for the account)."""
    keys = data.keys()
    if "resourceLogs" in keys:
        return "otlp"
    if isinstance(data.get("log"), str) and "time" in keys:
        return "docker"
    if "__REALTIME_TIMESTAMP" in keys or ("MESSAGE" in keys and "PRIORITY" in keys):
        return "journald"
    if isinstance(data.get("line"), str) and ("labels" in keys or "timestamp" in keys):
        return "loki"
    if "logStreamName" in keys or "ingestionTime" in keys:
        return "cloudwatch"
    if "ecs.version" in keys or "ecs" in keys or "log.level" in keys:
        return "ecs"
    if keys & {"severity_text", "SeverityText", "severityText", "SeverityNumber", "severity_number",
               "severityNumber", "Body", "body", "TraceId", "trace_id"} and keys & {
        "Timestamp", "timeUnixNano", "time_unix_nano", "severity_text", "SeverityText", "Body", "body"
    }:
        return "otel"
    if "textPayload" in keys or "jsonPayload" in keys or "logName" in keys or any(
        k.startswith("logging.googleapis.com/") for k in keys
    ):
        return "gcp"
    if "v" in keys and "hostname" in keys and "name" in keys:
        return "bunyan"
    if isinstance(data.get("level"), int) and "hostname" in keys:
        return "pino"
    if isinstance(data.get("t"), dict) and "$date" in data["t"] and "s" in keys:
        return "mongodb"
    if "short_message" in keys and "version" in keys:
        return "gelf"
    if "xray_trace_id" in keys or "function_name" in keys or "requestId" in keys:
        return "aws"
    if "event" in keys and isinstance(data.get("event"), str):
        return "structlog"
    return "json"


@dataclass(slots=True)
class Wrapped:
    """An application's line inside a JSON wrapper, and what the wrapper says about it."""

    inner: str
    time: Any  # the wrapper's time value (any form `timestamp_ns` reads), None if it has none
    fields: dict[str, Any]
    service: str | None = None


def unwrap(data: dict[str, Any]) -> Wrapped | None:
    """The wrapped line of a Docker, logcli or CloudWatch entry; None for any other JSON."""
    log = data.get("log")
    if type(log) is str and "time" in data:
        attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
        name = attrs.get("tag") or attrs.get("name")
        return Wrapped(plain_text(log.rstrip("\r\n")), data["time"], {"stream": data.get("stream")},
                       str(name) if name else None)
    line = data.get("line")
    if type(line) is str and ("labels" in data or "timestamp" in data):
        labels = data.get("labels") if isinstance(data.get("labels"), dict) else {}
        service = labels.get("service_name") or labels.get("service") or labels.get("app") or labels.get("job")
        return Wrapped(plain_text(line.rstrip("\r\n")), data.get("timestamp"), {"labels": labels},
                       str(service) if service else None)
    message = data.get("message")
    if type(message) is str and ("logStreamName" in data or "ingestionTime" in data):
        extra = {k: data[k] for k in ("logStreamName", "logGroupName", "eventId") if k in data}
        group = data.get("logGroupName")
        service = str(group).rsplit("/", 1)[-1] if group else None
        return Wrapped(plain_text(message.rstrip("\r\n")), data.get("timestamp"), extra, service)
    return None


def _any_value(value: Any) -> Any:
    """An OTLP AnyValue as a plain value."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", []))
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {
        str(item.get("key")): _any_value(item.get("value"))
        for item in items
        if isinstance(item, dict) and "key" in item
    }


def otlp_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The log records of one OTLP/JSON line, each flattened to a mapping the aliases read:
    `timeUnixNano`, `severityText`, `severityNumber`, `body`, the record's attributes and its
    resource's (`service.name` among them), `traceId` and `spanId`."""
    out: list[dict[str, Any]] = []
    for resource_logs in data.get("resourceLogs") or []:
        if not isinstance(resource_logs, dict):
            continue
        resource = _attributes((resource_logs.get("resource") or {}).get("attributes"))
        for scope_logs in resource_logs.get("scopeLogs") or resource_logs.get("instrumentationLibraryLogs") or []:
            scope = (scope_logs.get("scope") or {}).get("name") if isinstance(scope_logs, dict) else None
            for record in (scope_logs.get("logRecords") or []) if isinstance(scope_logs, dict) else []:
                if not isinstance(record, dict):
                    continue
                flat: dict[str, Any] = {**resource, **_attributes(record.get("attributes"))}
                stamp = record.get("timeUnixNano") or record.get("observedTimeUnixNano")
                if stamp not in (None, "", "0", 0):
                    flat["timeUnixNano"] = str(stamp)
                for key in ("severityText", "severityNumber", "traceId", "spanId"):
                    if record.get(key) not in (None, ""):
                        flat[key] = record[key]
                body = _any_value(record.get("body"))
                flat["body"] = body if isinstance(body, str) else ("" if body is None else str(body))
                if scope:
                    flat["scope"] = scope
                out.append(flat)
    return out


class JsonFormat(LineFormat):
    """Marks a file of JSON lines (read by the scanner's JSON path); `name` says whose."""

    json = True

    def __init__(self, kind: str) -> None:
        self.name = "json" if kind == "json" else f"json ({kind})"

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        return None  # JSON lines are read by the scanner, not by a summary

    def fields(self, raw: bytes) -> dict[str, Any]:
        return {"message": raw.decode("utf-8", errors="replace")}


def logfmt_mapping(text: str) -> dict[str, str] | None:
    """A logfmt line as a mapping, when it looks like a log record (a time, msg or level)."""
    pairs = parse_logfmt(text)
    if pairs and ("msg" in pairs or "level" in pairs or any(k in pairs for k in TIME_KEYS)):
        return pairs
    return None


class LogfmtFormat(LineFormat):
    """`key=value` lines; a line without a time takes the time of the record before it."""

    name = "logfmt"

    def __init__(self, ctx: LineContext) -> None:
        self.ctx = ctx

    def rebind(self, ctx: LineContext) -> LineFormat:
        found = LogfmtFormat(ctx)
        found.strict = self.strict
        return found

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        text = raw.decode("utf-8", errors="replace")
        if "=" not in text:
            return None
        pairs = logfmt_mapping(text.strip())
        if pairs is None:
            return None
        try:
            ts, service, level = mapping_summary(pairs, self.ctx.stem)
        except (ValueError, OverflowError):
            return None
        if ts is None:
            ts = self.ctx.previous_ts
            if ts is None:
                return None
        return ts, service, level

    def fields(self, raw: bytes) -> dict[str, Any]:
        first, _, rest = raw.partition(b"\n")
        pairs: dict[str, Any] = dict(logfmt_mapping(first.decode("utf-8", errors="replace").strip()) or {})
        if rest:
            message = next((str(pairs[k]) for k in ("msg", "message") if pairs.get(k)), "")
            pairs["msg" if "msg" in pairs or "message" not in pairs else "message"] = (
                f"{message}\n{rest.decode('utf-8', errors='replace')}"
            )
        return pairs
