"""Known records inside the plugin examples' time range, and the plugin's recorded requests.

The records sit behind `RecordListSource`, a real implementation of the `LogSource` seam (as
httpx's MockTransport is a real transport): it filters and returns `LogRecord`s exactly as the
file source does, so the datasource runs its whole path from fetch to frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analyzer.model import LogRecord, Query, Severity, instant_ns
from analyzer.sources.base import FetchResult
from analyzer.sources.memory import MemorySource

PLUGIN = Path(__file__).resolve().parent.parent / "fixtures" / "grafana_json_datasource"
# the time range of the plugin's /query example request
RANGE_FROM = "2016-10-31T06:33:44.866Z"
RANGE_TO = "2016-10-31T12:33:44.866Z"
T0 = instant_ns(RANGE_FROM)
MINUTE = 60 * 1_000_000_000


def plugin_request(name: str) -> dict[str, Any]:
    return json.loads((PLUGIN / f"{name}.json").read_text())


class RecordListSource(MemorySource):
    """The records in memory, counting the reads a panel makes (raw lines or counts)."""

    def __init__(self, records: list[LogRecord]) -> None:
        super().__init__(records)
        self.fetches = 0

    def fetch(self, query: Query, *, tenant: str | None = None, limit: int | None = None) -> FetchResult:
        self.fetches += 1
        return super().fetch(query, tenant=tenant, limit=limit)

    def read_window(self, query: Query, *, tenant: str | None = None) -> Any:
        self.fetches += 1
        return super().read_window(query, tenant=tenant)

    def now_ns(self) -> int:
        return self.records[-1].timestamp_ns if self.records else T0


def record(minute: float, service: str, level: Severity, message: str, **extra: Any) -> LogRecord:
    return LogRecord(
        timestamp_ns=T0 + int(minute * MINUTE),
        service=service,
        level=level,
        message=message,
        labels={"service": service, "level": level.label},
        **extra,
    )


def demo_records() -> list[LogRecord]:
    """Three services over six hours: a burst of api timeouts, one traced request, AI calls."""
    out: list[LogRecord] = []
    for minute in range(0, 360, 3):
        out.append(record(minute, "api", Severity.INFO, f"GET /api/v1/items/{minute} 200 in 12ms"))
        out.append(record(minute + 1, "worker", Severity.INFO, f"job {minute} done in 40ms"))
    for i in range(12):
        out.append(
            record(120 + i * 0.5, "api", Severity.ERROR,
                   f"upstream timeout after 30000ms calling anythingllm (attempt {i % 3})")
        )  # fmt: skip
    out.append(record(125, "worker", Severity.WARN, "retrying job 125 for admin@example.com"))
    # one request traced across services
    out.append(record(200, "api", Severity.INFO, "POST /api/v1/chat received", correlation_id="req-1"))
    out.append(
        record(200.1, "anythingllm", Severity.ERROR, "model call failed: rate limited",
               correlation_id="req-1")
    )  # fmt: skip
    out.append(record(200.2, "api", Severity.ERROR, "POST /api/v1/chat 502", correlation_id="req-1"))
    # AI calls: two workspaces, two models, three conversations
    calls = [
        (30, "ws-a", "conv-1", "gpt-4o", 1200),
        (31, "ws-a", "conv-1", "gpt-4o", 800),
        (95, "ws-a", "conv-2", "claude-3-5-sonnet", 3000),
        (180, "ws-b", "conv-3", "gpt-4o", 500),
        (181, "ws-b", "conv-3", "gpt-4o", 700),
    ]
    for minute, workspace, conversation, model, tokens in calls:
        out.append(
            record(minute, "anythingllm", Severity.INFO, f"chat completion {model} {tokens} tokens",
                   workspace_id=workspace, conversation_id=conversation, model=model,
                   tokens_used=tokens, request_type="chat", duration=1.5)
        )  # fmt: skip
    return out


def query_body(*targets: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The plugin's example /query request with our targets in place of its `upper_50`."""
    body = plugin_request("query")
    body["targets"] = list(targets)
    body["adhocFilters"] = []
    body.update(overrides)
    return body
