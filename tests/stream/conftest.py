"""A real websocket server that answers like Loki's tail, and the analyzer in a real server.

The tail server replays recorded tail exchanges (tests/fixtures/loki/tail_*.json): on upgrade it
sends the recorded messages, then keeps the socket open until the client leaves (or closes it,
to stand for a Loki restart). A refused exchange answers its recorded plain-text status before
the upgrade, as Loki does for a bad query.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve
from werkzeug.serving import WSGIRequestHandler, make_server

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.services import build_services
from analyzer.web.stream import StreamSettings

LOKI_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loki"
FAST = StreamSettings(heartbeat_seconds=0.5, insight_every_seconds=0.2, poll_interval=0.05)


def load_exchange(name: str) -> dict[str, Any]:
    return json.loads((LOKI_FIXTURES / f"{name}.json").read_text())


@dataclass
class TailRequest:
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names


@dataclass
class RecordedTail:
    """Replays one recorded exchange to every tail connection."""

    exchange: dict[str, Any]
    close_after_replay: int = 0  # close this many connections after replaying (Loki restarts)
    requests: list[TailRequest] = field(default_factory=list)
    url: str = ""

    def use(self, name: str) -> None:
        self.exchange = load_exchange(name)

    @property
    def tails(self) -> list[TailRequest]:
        """The tail connections asked for (the analyzer may ask Loki's /labels first)."""
        return [r for r in self.requests if r.path == "/loki/api/v1/tail"]

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        split = urlsplit(request.path)
        self.requests.append(
            TailRequest(
                split.path,
                dict(parse_qsl(split.query)),
                {k.lower(): v for k, v in request.headers.raw_items()},
            )
        )
        if split.path != "/loki/api/v1/tail":
            return connection.respond(404, "404 page not found\n")
        if self.exchange["status"] != 101:
            return connection.respond(self.exchange["status"], self.exchange["body"])
        return None

    def _handle(self, connection: ServerConnection) -> None:
        for message in self.exchange["messages"]:
            connection.send(json.dumps(message))
        if self.close_after_replay > 0:
            self.close_after_replay -= 1
            connection.close()
            return
        for _ in connection:  # until the analyzer closes the tail
            pass


@pytest.fixture
def recorded_tail() -> Iterator[RecordedTail]:
    tail = RecordedTail(load_exchange("tail_websocket"))
    server = serve(
        tail._handle, "127.0.0.1", 0, process_request=tail._process_request, compression=None
    )
    tail.url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tail
    server.shutdown()
    thread.join(timeout=5)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningApp:
    app: Flask
    base: str  # http://127.0.0.1:<port>

    @property
    def ws_base(self) -> str:
        return "ws" + self.base.removeprefix("http")

    def stream(self, query: str = "", headers: dict[str, str] | None = None) -> Any:
        """A real websocket client on /api/v1/ai_logs/stream."""
        return connect(
            f"{self.ws_base}/api/v1/ai_logs/stream{'?' + query if query else ''}",
            additional_headers=headers or {},
            open_timeout=5,
            proxy=None,
        )


@pytest.fixture
def serve_app(tmp_path: Path) -> Iterator[Callable[..., RunningApp]]:
    """Build the analyzer with these settings and serve it on a real werkzeug server thread."""
    servers: list[Any] = []

    def start(stream_settings: StreamSettings = FAST, **overrides: Any) -> RunningApp:
        values: dict[str, Any] = {"data_dir": str(tmp_path / "var")}
        values.update(overrides)
        settings = Settings(**values)
        services = build_services(settings)
        services.extras["stream_settings"] = stream_settings
        app = create_app(settings, services=services)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return RunningApp(app, f"http://127.0.0.1:{server.server_port}")

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)


def receive_until(ws: Any, wanted: Callable[[dict[str, Any]], bool], timeout: float = 5.0,
                  ) -> list[dict[str, Any]]:
    """Messages up to and including the first `wanted` one (TimeoutError if none comes)."""
    seen: list[dict[str, Any]] = []
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        seen.append(message)
        if wanted(message):
            return seen


def of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message.get("type") == kind
