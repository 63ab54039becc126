"""Alert pipeline test helpers: the recorded Grafana webhook payloads retargeted at the demo
incident, a local HTTP server standing in for Grafana's annotations API, the app over the demo."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from analyzer.config import SAMPLE_LOGS_DIR, Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "grafana_webhook"
# The bundled sample's first incident: redis runs out of memory at 08:11:15 and api, worker and
# browser fail their cache calls until 08:18:45 (analyzer/sample_logs/ground_truth.json).
INCIDENT_START = "2026-11-24T08:12:00Z"
INCIDENT_END = "2026-11-24T08:19:30Z"


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def retarget(
    payload: dict[str, Any],
    *,
    starts_at: str = INCIDENT_START,
    labels: dict[str, str] | None = None,
    status: str | None = None,
    ends_at: str | None = None,
    panel_id: int | None = None,
) -> dict[str, Any]:
    """The recorded payload pointed at the demo incident: times and labels only."""
    out = copy.deepcopy(payload)
    for alert in out["alerts"]:
        alert["startsAt"] = starts_at
        alert["labels"].update(labels or {})
        if status:
            alert["status"] = status
        if ends_at:
            alert["endsAt"] = ends_at
        if panel_id is not None and alert.get("panelURL"):
            alert["panelURL"] = alert["panelURL"].split("&viewPanel=")[0] + f"&viewPanel={panel_id}"
    if status:
        out["status"] = status
    return out


@dataclass
class GrafanaStub:
    """Grafana's annotation endpoints, answering as Grafana does and recording every request."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def annotations(self, method: str = "POST") -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith("/api/annotations")]


def start_grafana() -> GrafanaStub:
    stub = GrafanaStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.port = server.server_address[1]
    stub.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stub


def _handler(stub: GrafanaStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            stub.requests.append({
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "json": json.loads(raw) if raw else None,
            })
            if stub.fail_with:
                status, body = stub.fail_with, {"message": "Failed to save annotation"}
            elif self.command == "POST":
                status, body = 200, {"message": "Annotation added", "id": len(stub.annotations())}
            else:
                status, body = 200, {"message": "Annotation patched"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "source_path": str(SAMPLE_LOGS_DIR),
        "data_dir": str(tmp_path / "data"),
        "embedded_worker": False,
        "job_claim_idle_seconds": 2,
        "job_max_attempts": 3,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class AlertApp:
    app: Any
    services: Any

    @property
    def client(self) -> Any:
        return self.app.test_client()

    def post_alerts(self, payload: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post("/webhooks/grafana", json=payload, **kwargs)

    def worker(self, name: str = "test-worker") -> Any:
        from analyzer.worker import Worker

        return Worker(self.services, consumer=name)

    def drain(self, max_jobs: int = 20) -> list[str]:
        """Run the worker until the queue is empty; the outcomes in order."""
        worker = self.worker()
        outcomes = []
        for _ in range(max_jobs):
            job = worker.queue.take(worker.consumer, wait_seconds=0.2)
            if job is None:
                break
            outcomes.append(worker.handle(job))
        return outcomes
