"""Alert pipeline test helpers: the recorded Grafana webhook payloads retargeted at the demo
incident, a local HTTP server standing in for Grafana's annotations API, the app over the demo,
a redis-server that keeps its data across a kill, and the recorded-Loki server of tests/loki."""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from analyzer.config import SAMPLE_LOGS_DIR, Settings

TESTS = Path(__file__).resolve().parent.parent
FIXTURES = TESTS / "fixtures" / "grafana_webhook"
# The bundled sample's first incident: redis runs out of memory at 08:11:15 and api, worker and
# browser fail their cache calls until 08:18:45 (analyzer/sample_logs/ground_truth.json).
INCIDENT_START = "2026-11-24T08:12:00Z"
INCIDENT_END = "2026-11-24T08:19:30Z"
ARTIFACTS = TESTS.parent / "test-artifacts"  # screenshots of the report pages
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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


def numbered(payload: dict[str, Any], number: int) -> dict[str, Any]:
    """The same notification for another alert: a fingerprint of its own."""
    out = copy.deepcopy(payload)
    for alert in out["alerts"]:
        alert["fingerprint"] = f"{number:016x}"
    return out


class PersistentRedis:
    """A real redis-server that keeps its data as the compose stack's does (append-only file,
    here synced on every write), so that a SIGKILL and a restart lose nothing it acknowledged."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary, self.workdir = binary, workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():  # also false while it loads its file
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def recorded_loki_server() -> Any:
    """The module of tests/loki's server that answers like the recorded Loki 3.5."""
    spec = importlib.util.spec_from_file_location("recorded_loki", TESTS / "loki" / "conftest.py")
    assert spec is not None and spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
