"""The dumps operators hand over: `kubectl logs --prefix` and `docker compose logs` put several
services in one file, each line behind its pod or service name; `kubectl logs --timestamps` puts
a time before each JSON line. Every line is read as the application wrote it, under its own
service."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from analyzer.model import Query, Severity, instant_ns
from analyzer.sources.files import FileSource

EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")


def read(tmp_path: Path, name: str, text: str) -> list[tuple[str, str, Severity, str]]:
    path = tmp_path / name
    path.write_text(text)
    stamp = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    source = FileSource(str(path))
    records = sorted(source.fetch(EVERYTHING).records, key=lambda r: r.timestamp_ns)
    assert source.input_account().files[0].counts.unparsed == 0
    return [(r.timestamp.strftime("%H:%M:%S"), r.service, r.level, r.message) for r in records]


def test_kubectl_prefix_lines_are_read_under_their_container(tmp_path: Path) -> None:
    text = (
        "[pod/api-7d9f8c-x2x/api] 2024-05-01T10:00:00.123Z INFO listening on :8080\n"
        '[pod/worker-5c6d-k9z/worker] {"time":"2024-05-01T10:00:01Z","level":"error","msg":"redis down"}\n'
        "[pod/api-7d9f8c-x2x/api] 2024-05-01T10:00:02Z ERROR upstream worker failed\n"
    )
    assert read(tmp_path, "dump.log", text) == [
        ("10:00:00", "api", Severity.INFO, "listening on :8080"),
        ("10:00:01", "worker", Severity.ERROR, "redis down"),
        ("10:00:02", "api", Severity.ERROR, "upstream worker failed"),
    ]


def test_docker_compose_logs_are_read_under_their_service_without_the_replica(tmp_path: Path) -> None:
    # compose colours the names for a terminal; a redirected dump keeps the codes
    text = (
        "\x1b[36mapi-1     |\x1b[0m 2024-05-01T10:00:00Z INFO listening\n"
        "\x1b[33mredis-1   |\x1b[0m 1:M 01 May 2024 10:00:01.000 # Error condition on socket\n"
        '\x1b[32mworker-2  |\x1b[0m {"time":"2024-05-01T10:00:02Z","level":"error","msg":"redis down"}\n'
    )
    assert read(tmp_path, "compose.log", text) == [
        ("10:00:00", "api", Severity.INFO, "listening"),
        ("10:00:01", "redis", Severity.WARN, "Error condition on socket"),
        ("10:00:02", "worker", Severity.ERROR, "redis down"),
    ]


def test_a_stack_trace_in_a_dump_joins_its_record(tmp_path: Path) -> None:
    text = (
        "api-1  | 2024-05-01 10:00:00,123 ERROR [main] com.example.Api - request failed\n"
        "api-1  | java.net.ConnectException: Connection refused\n"
        "api-1  | \tat com.example.Db.connect(Db.java:42)\n"
        "api-1  | 2024-05-01 10:00:01,000 INFO [main] com.example.Api - recovered\n"
    )
    records = read(tmp_path, "compose.log", text)
    assert [(r[0], r[1], r[2]) for r in records] == [
        ("10:00:00", "api", Severity.ERROR), ("10:00:01", "api", Severity.INFO),
    ]
    assert "at com.example.Db.connect" in records[0][3]


def test_kubectl_timestamps_before_json_lines_read_the_json(tmp_path: Path) -> None:
    text = (
        '2024-05-01T10:00:00.123456789Z {"level":"info","msg":"ok"}\n'
        '2024-05-01T10:00:01.000000000Z {"level":"error","msg":"pool exhausted"}\n'
    )
    path = tmp_path / "api.log"
    path.write_text(text)
    records = FileSource(str(path)).fetch(EVERYTHING).records
    assert [(r.timestamp_ns, r.level, r.message) for r in records] == [
        (instant_ns("2024-05-01T10:00:00.123456789Z"), Severity.INFO, "ok"),
        (instant_ns("2024-05-01T10:00:01Z"), Severity.ERROR, "pool exhausted"),
    ]
