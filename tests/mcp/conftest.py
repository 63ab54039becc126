"""The MCP server as agents reach it: `ai-logs mcp` over stdio, and `POST /mcp` of the service
over HTTP, both driven by the SDK's own client. The HTTP API of the same service answers the
same questions, for comparison.

Each transcript is one MCP session that lists the tools and calls each of them; the tests
read its answers. Sessions run once per module (a stdio session is a child process).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from flask import Flask
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from werkzeug.serving import make_server

from analyzer.app import create_app
from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.infra.keys import KeyStore
from analyzer.services import build_services
from tests.conftest import ROOT, Demo

sys.path.insert(0, str(ROOT / "tests" / "alerting"))
from alert_helpers import INCIDENT_START, load_payload, retarget

AI_LOGS = Path(sys.executable).parent / "ai-logs"
# the question each tool is asked in a transcript, per log set
SAMPLE_QUESTIONS: dict[str, dict[str, Any]] = {
    "troubleshoot": {"time_range": "2h"},
    "errors": {"time_range": "2h"},
    "performance": {"time_range": "2h", "services": "api,worker"},
    "correlate_request": {"correlation_id": "req-c172b8b8f270"},
    "conversation": {"conversation_id": "conv-038897ab"},
    "workspace_summary": {"workspace_id": "ws-legal"},
    "patterns": {"refresh": True, "time_range": "2h"},
    "templates": {"lines": "user 17 logged in\nuser 23 logged in\ncache miss for key k9\n"},
    "list_alert_analyses": {},
    "services": {},
    "label_values": {"key": "model"},
}


@dataclass
class Stack:
    """One analyzer (settings, services, Flask app) and the keys that reach it."""

    settings: Settings
    app: Flask
    keys: dict[str, str] = field(default_factory=dict)

    def api(self, path: str, key: str | None = None, **params: Any) -> Any:
        headers = {"X-API-Key": key} if key else {}
        response = self.app.test_client().get(path, query_string=params, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json() if response.is_json else response.get_data(as_text=True)


def make_stack(tmp: Path, source: Path, *, with_keys: bool) -> Stack:
    values: dict[str, Any] = {
        "source_path": str(source),
        "data_dir": str(tmp / "var"),
        "embedded_worker": False,
        "rate_limit_per_hour": 1000,
    }
    keys: dict[str, str] = {}
    if with_keys:
        store = KeyStore(str(tmp / "keys.yaml"))
        keys = {
            "a": store.add("team-a", ["tenant-a"], ["query"]),
            "b": store.add("team-b", ["tenant-b"], ["query"]),
            "hook-a": store.add("hook-a", ["tenant-a"], ["webhook"]),
            "hook-b": store.add("hook-b", ["tenant-b"], ["webhook"]),
            "stream-only": store.add("stream-only", ["tenant-a"], ["stream"]),
            "limited": store.add("limited", ["tenant-a"], ["query"], limits={"query": 2}),
        }
        values["api_keys_file"] = str(tmp / "keys.yaml")
    settings = Settings(**values)
    return Stack(settings, create_app(settings, services=build_services(settings)), keys)


def analyse_alert(stack: Stack, hook_key: str | None = None, starts_at: str = INCIDENT_START) -> str:
    """A recorded Grafana alert through the webhook and the worker: the analysis id."""
    from analyzer.worker import Worker

    payload = retarget(load_payload("alerting_single_firing.json"), starts_at=starts_at)
    headers = {"Authorization": f"Bearer {hook_key}"} if hook_key else {}
    answer = stack.app.test_client().post("/webhooks/grafana", json=payload, headers=headers)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    services = stack.app.extensions["ai_logs"]
    worker = Worker(services, consumer="mcp-tests")
    while (job := worker.queue.take(worker.consumer, wait_seconds=0.2)) is not None:
        worker.handle(job)
    return answer.get_json()["analysis_id"]


@dataclass
class HttpService:
    stack: Stack
    url: str


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[[Stack], HttpService]]:
    """The stack's WSGI app on a real loopback port (threaded, like gunicorn's gthread)."""
    servers = []

    def start(stack: Stack) -> HttpService:
        server = make_server("127.0.0.1", 0, stack.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return HttpService(stack, f"http://127.0.0.1:{server.server_port}")

    yield start
    for server in servers:
        server.shutdown()


@asynccontextmanager
async def http_session(url: str, key: str | None = None, mode: str = "auto") -> Any:
    headers = {"X-API-Key": key} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


@asynccontextmanager
async def stdio_session(source: Path, data_dir: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if k not in ("LOKI_URL", "REDIS_URL", "AI_LOGS_SOURCE")}
    env["AI_LOGS_DATA_DIR"] = str(data_dir)
    params = StdioServerParameters(
        command=str(AI_LOGS), args=["mcp", "--source", str(source)], env=env, cwd=str(ROOT)
    )
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


Scenario = Callable[[Any], Awaitable[dict[str, Any]]]


def run_session(opener: Any, scenario: Scenario) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with opener as client:
            return await scenario(client)

    return anyio.run(main)


def transcript_of(questions: dict[str, dict[str, Any]]) -> Scenario:
    """List the tools, then ask each question; later questions may use earlier answers."""

    async def scenario(client: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"tools": await client.list_tools()}
        for name, arguments in questions.items():
            out[name] = await client.call_tool(name, arguments)
        patterns = out["patterns"].structured_content["patterns"]
        if patterns:
            out["export_rule_id"] = patterns[0]["id"]
            out["export_rule"] = await client.call_tool(
                "export_rule", {"pattern_id": patterns[0]["id"]}
            )
        analyses = out["list_alert_analyses"].structured_content["analyses"]
        if analyses:
            out["get_alert_analysis"] = await client.call_tool(
                "get_alert_analysis", {"analysis_id": analyses[0]["id"]}
            )
        return out

    return scenario


def demo_questions(demo: Demo) -> dict[str, dict[str, Any]]:
    """The same questions over the demo window, with ids that occur in it."""
    line = next(d for d in demo.lines if d.get("level") == "error" and d.get("correlation_id"))
    chat = next(d for d in demo.lines if d.get("conversation_id") and d.get("workspace_id"))
    questions = dict(SAMPLE_QUESTIONS)
    questions.update(
        {
            "correlate_request": {"correlation_id": line["correlation_id"]},
            "conversation": {"conversation_id": chat["conversation_id"]},
            "workspace_summary": {"workspace_id": chat["workspace_id"]},
        }
    )
    return questions


SAMPLE = SAMPLE_LOGS_DIR
