"""A real HTTP server on 127.0.0.1 that answers like the recorded Loki 3.5.

Each request is matched to the recorded exchange with the same method, path and parameters
(recorded request headers must be present too, POST bodies must be equal), and answered with the
recorded status, content type and body. Tests can script answers for a path (for retries), make
the server slow (for timeouts), or have it slice one recorded result into pages by the
start/end/limit/direction each request sends (for paging): the data stays recorded data.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

LOKI_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loki"
TIME_PARAMS = {"start", "end", "time"}
PLAIN_TEXT = "text/plain; charset=utf-8"


def load_exchange(name: str) -> dict[str, Any]:
    return json.loads((LOKI_FIXTURES / f"{name}.json").read_text())


@dataclass
class SeenRequest:
    method: str
    path: str
    params: dict[str, str]
    multi_params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: str


@dataclass
class Answer:
    status: int
    content_type: str | None
    body: bytes
    delay: float = 0.0

    @classmethod
    def from_exchange(cls, exchange: dict[str, Any]) -> Answer:
        body = exchange["body"]
        if body is None:
            raw = b""
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
        return cls(exchange["status"], exchange.get("content_type"), raw)


@dataclass
class RecordedLoki:
    exchanges: list[dict[str, Any]]
    requests: list[SeenRequest] = field(default_factory=list)
    scripted: dict[str, list[Answer]] = field(default_factory=dict)
    pages_from: dict[str, Any] | None = None  # a recorded streams exchange to slice
    delay: float = 0.0
    trickle: float = 0.0  # seconds between the body's bytes: a Loki that answers very slowly
    url: str = ""

    @staticmethod
    def exchange(name: str) -> dict[str, Any]:
        """A recorded exchange by file name (without .json)."""
        return load_exchange(name)

    def script(self, path: str, *answers: dict[str, Any] | tuple[int, str]) -> None:
        """Serve these answers in order for `path`, the last one repeating: recorded
        exchanges, or (status, plain text) for what a proxy in front of Loki would say."""
        self.scripted[path] = [
            Answer.from_exchange(a)
            if isinstance(a, dict)
            else Answer(a[0], PLAIN_TEXT, a[1].encode())
            for a in answers
        ]

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def answer(self, seen: SeenRequest) -> Answer:
        queue = self.scripted.get(seen.path)
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        if self.pages_from is not None and seen.path == "/loki/api/v1/query_range":
            return self._page(seen)
        exchange = self._match(seen)
        if exchange is None:
            return Answer(404, PLAIN_TEXT, b"404 page not found\n")
        return Answer.from_exchange(exchange)

    def _match(self, seen: SeenRequest) -> dict[str, Any] | None:
        candidates = [
            e
            for e in self.exchanges
            if e["request"]["method"] == seen.method
            and e["request"]["path"] == seen.path
            and all(
                seen.headers.get(k.lower()) == v
                for k, v in (e["request"].get("headers") or {}).items()
                if k.lower() != "content-type"
            )
            and (seen.method != "POST" or e["request"]["body"] == seen.body)
        ]
        for ignore in (set(), TIME_PARAMS):
            for exchange in candidates:
                recorded = {
                    k: v for k, v in exchange["request"]["params"].items() if k not in ignore
                }
                sent = {k: v for k, v in seen.params.items() if k not in ignore}
                if recorded == sent:
                    return exchange
        return None

    def _page(self, seen: SeenRequest) -> Answer:
        """The recorded entries in [start, end), first `limit` in `direction`, regrouped by
        stream in the recorded stream order, as Loki groups them."""
        exchange = self.pages_from
        assert exchange is not None
        start, end = int(seen.params["start"]), int(seen.params["end"])
        limit = int(seen.params.get("limit", "100"))
        backward = seen.params.get("direction", "backward") == "backward"
        streams = exchange["body"]["data"]["result"]
        flat = [
            (int(value[0]), index, value)
            for index, stream in enumerate(streams)
            for value in stream["values"]
            if start <= int(value[0]) < end
        ]
        flat.sort(key=lambda item: item[0], reverse=backward)
        chosen = flat[:limit]
        result = []
        for index, stream in enumerate(streams):
            values = [value for _, i, value in chosen if i == index]
            if values:
                result.append({"stream": stream["stream"], "values": values})
        body = json.loads(json.dumps(exchange["body"]))
        body["data"]["result"] = result
        return Answer(200, exchange["content_type"], json.dumps(body).encode())


def _handler(loki: RecordedLoki) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            multi = parse_qsl(parts.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            seen = SeenRequest(
                method=self.command,
                path=parts.path,
                params=dict(multi),
                multi_params=multi,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            loki.requests.append(seen)
            answer = loki.answer(seen)
            delay = answer.delay or loki.delay
            if delay:
                time.sleep(delay)
            self.send_response(answer.status)
            if answer.content_type:
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if not loki.trickle:
                self.wfile.write(answer.body)
                return
            for byte in answer.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(loki.trickle)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout tests) is expected


@pytest.fixture
def recorded_loki() -> Iterator[RecordedLoki]:
    exchanges = [json.loads(p.read_text()) for p in sorted(Path(LOKI_FIXTURES).glob("*.json"))]
    loki = RecordedLoki(exchanges)
    server = _QuietServer(("127.0.0.1", 0), _handler(loki))
    loki.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield loki
    server.shutdown()
    server.server_close()
