"""A stand-in Loki ruler: a real HTTP server answering rule pushes with a recorded exchange."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class RecordedRuler:
    def __init__(self, exchange: str) -> None:
        self.recorded = json.loads((FIXTURES / "loki" / f"{exchange}.json").read_text())
        self.received: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.received.append(
                    {"path": self.path, "body": self.rfile.read(length).decode(), "headers": dict(self.headers)}
                )
                body = owner.recorded["body"]
                data = body if isinstance(body, str) else json.dumps(body)
                self.send_response(owner.recorded["status"])
                self.send_header("Content-Type", owner.recorded["content_type"])
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def local_storage_ruler() -> Iterator[RecordedRuler]:
    """Answers every POST like Loki's ruler on local (read-only) rule storage."""
    ruler = RecordedRuler("rules_push_local_storage")
    ruler.thread.start()
    yield ruler
    ruler.server.shutdown()
    ruler.server.server_close()
