"""Shared test fixtures: a real redis-server, the generated demo logs, repository paths."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analyzer.model import LogRecord

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server on a free loopback port; `stop`/`start` let tests simulate outages."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean database of the session's server for each test."""
    import redis

    if redis_server.proc is None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield redis_server.url
    client.close()


# what a developer's shell may set that would point the tests at a real Loki or state directory
HOST_ENVIRONMENT = (
    "LOKI_URL", "LOKI_ADDR", "LOKI_ORG_ID", "LOKI_USERNAME", "LOKI_PASSWORD", "LOKI_BEARER_TOKEN",
    "LOKI_BEARER_TOKEN_FILE", "LOKI_AUTH_HEADER", "LOKI_CA_CERT_PATH", "LOKI_CLIENT_CERT_PATH",
    "LOKI_CLIENT_KEY_PATH", "LOKI_TLS_SKIP_VERIFY", "AI_LOGS_DATA_DIR", "AI_LOGS_SOURCE",
    "REDIS_URL", "AI_LOGS_CONFIG",
)


@pytest.fixture(scope="session", autouse=True)
def private_state_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The per-user state directory (and every child process's) is a scratch one, and no Loki
    or Redis of the developer's shell leaks in."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        for name in HOST_ENVIRONMENT:
            patch.delenv(name, raising=False)
        yield state


@pytest.fixture(autouse=True)
def fresh_correlation_context() -> Iterator[None]:
    """Each test starts outside any request: a test client may close a response lazily."""
    from analyzer.instrument.context import set_correlation_id

    set_correlation_id(None)
    yield


@dataclass
class Demo:
    """Demo logs generated once per session, read into records the way a file source reads
    them, with the raw JSON lines for computing expectations by hand."""

    path: Path
    truth: dict[str, Any]
    lines: list[dict[str, Any]]
    records: list[LogRecord]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from analyzer.demo import generate
    from analyzer.sources.records import record_from_mapping

    out = tmp_path_factory.mktemp("demo")
    truth = generate(out, seed=7)
    lines: list[dict[str, Any]] = []
    records: list[LogRecord] = []
    for path in sorted(out.glob("*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            data = json.loads(text)
            lines.append(data)
            records.append(record_from_mapping(data, raw=text, origin=f"{path.name}:{number}"))
    return Demo(out, truth, lines, records)
