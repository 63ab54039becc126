"""A real HTTP server on 127.0.0.1 that answers like the recorded Loki 3.5.

Each request is matched to the recorded exchange with the same method, path and parameters
(recorded request headers must be present too, POST bodies must be equal), and answered with the
recorded status, content type and body. Tests can script answers for a path (for retries), make
the server slow (for timeouts), or have it slice one recorded result into pages by the
start/end/limit/direction each request sends (for paging): the data stays recorded data.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
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
    # recorded metric answers served for metric queries never recorded (by path): answers of
    # the right kind, not of the question, for tests of what surrounds an analysis
    metrics_from: dict[str, dict[str, Any]] = field(default_factory=dict)
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

    def answer_metrics_by_kind(self) -> None:
        """Metric queries never recorded get recorded metric answers of the right kind (a
        matrix, a vector) from the production-sized window: for tests of what surrounds an
        analysis (connection options, alert flow), not of the analysis."""
        scale = Path(__file__).resolve().parent.parent / "fixtures" / "loki_scale"
        self.metrics_from = {
            "/loki/api/v1/query_range": json.loads((scale / "count_by_service_level_1m.json").read_text()),
            "/loki/api/v1/query": json.loads((scale / "totals_instant.json").read_text()),
        }

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def answer(self, seen: SeenRequest) -> Answer:
        queue = self.scripted.get(seen.path)
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        is_metric = seen.path.endswith("/query") or "step" in seen.params
        if is_metric and seen.path in self.metrics_from and self._match(seen) is None:
            return Answer.from_exchange(self.metrics_from[seen.path])
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


def _serve(loki: RecordedLoki, tls: ssl.SSLContext | None = None) -> Iterator[RecordedLoki]:
    server = _QuietServer(("127.0.0.1", 0), _handler(loki))
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    loki.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield loki
    server.shutdown()
    server.server_close()


def _exchanges() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(Path(LOKI_FIXTURES).glob("*.json"))]


@pytest.fixture
def recorded_loki() -> Iterator[RecordedLoki]:
    yield from _serve(RecordedLoki(_exchanges()))


@dataclass
class TlsFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed (apt-get install openssl)")
    d = tmp_path_factory.mktemp("tls")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.pem", "-days", "2", "-subj", "/CN=ai-logs test CA", cwd=d)
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile",
                 f"{name}.ext", cwd=d)
    return TlsFiles(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem",
                    d / "client.key")


@pytest.fixture
def https_loki(tls_files: TlsFiles) -> Iterator[Callable[..., RecordedLoki]]:
    """Start the recorded Loki behind TLS; with `client_certs`, it asks for a client
    certificate signed by the test CA (as a gateway doing mTLS does)."""
    running: list[Iterator[RecordedLoki]] = []

    def start(*, client_certs: bool = False) -> RecordedLoki:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
        if client_certs:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(tls_files.ca)
        serving = _serve(RecordedLoki(_exchanges()), context)
        running.append(serving)
        return next(serving)

    yield start
    for serving in running:
        next(serving, None)


# --- the production-sized window (tests/fixtures/loki_scale) -------------------------------------

SCALE_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loki_scale"
_SERVICE_MATCHER = re.compile(r',?\s*service(=~?)"((?:[^"\\]|\\.)*)"')


def _split_service(query: str) -> tuple[str, Callable[[str], bool]]:
    """A log query with a service matcher added to a recorded selector: the recorded query and
    a test for the service label."""
    head, brace, tail = query.partition("}")
    match = _SERVICE_MATCHER.search(head)
    if match is None:
        return query, lambda _: True
    base = (head[: match.start()] + head[match.end() :]).replace("{, ", "{") + brace + tail
    op, value = match.group(1), match.group(2).replace("\\\\", "\\")
    if op == "=":
        return base, lambda service: service == value
    pattern = re.compile(value)
    return base, lambda service: pattern.fullmatch(service) is not None


class ReplayLoki(RecordedLoki):
    """Recorded answers, plus log queries answered from recorded lines when the recording
    proves the answer: the request's range lies inside a recorded read of the same query (a
    service matcher may narrow it), and the recorded read holds every line the answer needs
    (it was not cut by its limit before the answer ends). Anything else is 404, as for a
    request never recorded: the data stays recorded data."""

    def answer(self, seen: SeenRequest) -> Answer:
        if self._match(seen) is None and seen.path == "/loki/api/v1/query_range":
            sub = self._sub_answer(seen)
            if sub is not None:
                return sub
        return super().answer(seen)

    def _sub_answer(self, seen: SeenRequest) -> Answer | None:
        params = seen.params
        if "step" in params or "query" not in params:
            return None
        base, keeps = _split_service(params["query"])
        direction = params.get("direction", "backward")
        limit = int(params.get("limit", "100"))
        start, end = int(params["start"]), int(params["end"])
        for exchange in self.exchanges:
            request = exchange["request"]
            recorded = request["params"]
            if request["path"] != seen.path or "step" in recorded or exchange["status"] != 200:
                continue
            if recorded.get("query") != base or recorded.get("direction", "backward") != direction:
                continue
            low, high = int(recorded["start"]), int(recorded["end"])
            if start < low or end > high:
                continue
            streams = exchange["body"]["data"]["result"]
            values = [
                (int(v[0]), i, v) for i, s in enumerate(streams) for v in s["values"]
            ]
            complete = len(values) < int(recorded.get("limit", "100"))
            forward = direction == "forward"
            stamps = [t for t, _, _ in values]
            frontier = (max(stamps) if forward else min(stamps)) if stamps else (high if forward else low)
            wanted = [
                item for item in values
                if start <= item[0] < end and keeps(streams[item[1]]["stream"].get("service", ""))
            ]
            wanted.sort(key=lambda item: item[0], reverse=not forward)
            inside = [t for t, _, _ in wanted if (t <= frontier if forward else t >= frontier)]
            reaches = end <= frontier if forward else start >= frontier
            if not (complete or reaches or len(inside) >= limit):
                continue
            chosen = wanted[:limit]
            result = []
            for index, stream in enumerate(streams):
                mine = [v for _, i, v in chosen if i == index]
                if mine:
                    result.append({"stream": stream["stream"], "values": mine})
            body = json.loads(json.dumps(exchange["body"]))
            body["data"]["result"] = result
            return Answer(200, exchange["content_type"], json.dumps(body).encode())
        return None


@pytest.fixture
def scale_loki() -> Iterator[ReplayLoki]:
    """The recorded 1M-line window, served like `recorded_loki`."""
    exchanges = [json.loads(p.read_text()) for p in sorted(SCALE_FIXTURES.glob("*.json"))
                 if p.name != "truth.json"]
    yield from _serve(ReplayLoki(exchanges))


@pytest.fixture(scope="session")
def scale_truth() -> dict[str, Any]:
    return json.loads((SCALE_FIXTURES / "truth.json").read_text())
