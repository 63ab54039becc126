"""What Windows tools and crashing programs add to a log: a byte-order mark is no part of the
first line, UTF-16 text is named as skipped with the way to convert it, and a Go runtime crash
between JSON lines is a fatal record of its own with its goroutine dump."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.model import LogRecord, Query, Severity
from analyzer.sources.files import FileSource

EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")
BOM = b"\xef\xbb\xbf"


def read(path: Path) -> tuple[list[LogRecord], FileSource]:
    stamp = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    source = FileSource(str(path))
    return sorted(source.fetch(EVERYTHING).records, key=lambda r: r.timestamp_ns), source


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("app.log", b"2024-05-01T10:00:00Z ERROR first line\n2024-05-01T10:00:01Z INFO second\n"),
        ("app.jsonl", b'{"time":"2024-05-01T10:00:00Z","level":"error","msg":"first line"}\n'
                      b'{"time":"2024-05-01T10:00:01Z","level":"info","msg":"second"}\n'),
    ],
)
def test_a_byte_order_mark_is_no_part_of_the_first_line(tmp_path: Path, name: str, text: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(BOM + text)
    records, source = read(path)
    assert [(r.level, r.message) for r in records] == [(Severity.ERROR, "first line"), (Severity.INFO, "second")]
    assert source.input_account().files[0].counts.unparsed == 0


def test_utf16_text_is_skipped_with_how_to_convert_it(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    path.write_bytes("2024-05-01T10:00:00Z ERROR written by PowerShell\r\n".encode("utf-16"))
    (tmp_path / "ok.log").write_text("2024-05-01T10:00:00Z INFO fine\n")
    source = FileSource(str(tmp_path))
    assert [p.name for p in source.files()] == ["ok.log"]
    reason = {s["file"]: s["reason"] for s in source.skipped()}["events.log"]
    assert "UTF-16" in reason and "iconv -f UTF-16 -t UTF-8" in reason


def test_a_go_panic_between_json_lines_is_a_fatal_record_with_its_dump(tmp_path: Path) -> None:
    path = tmp_path / "api.log"
    path.write_text(
        '{"time":"2024-05-01T10:00:00Z","level":"info","msg":"serving"}\n'
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1f2c]\n"
        "\n"
        "goroutine 1 [running]:\n"
        "main.handler(0x0)\n"
        "\t/app/main.go:10 +0x1d\n"
        "net/http.(*conn).serve(0xc000120000, {0x8a1b40, 0xc0001a2000})\n"
        "\t/usr/local/go/src/net/http/server.go:2009 +0x5f4\n"
        "created by net/http.(*Server).Serve in goroutine 1\n"
        '{"time":"2024-05-01T10:00:05Z","level":"info","msg":"restarted"}\n'
    )
    records, source = read(path)
    assert [(r.level, r.message.splitlines()[0]) for r in records] == [
        (Severity.INFO, "serving"),
        (Severity.FATAL, "panic: runtime error: invalid memory address or nil pointer dereference"),
        (Severity.INFO, "restarted"),
    ]
    assert records[1].timestamp_ns == records[0].timestamp_ns
    assert "created by net/http.(*Server).Serve" in records[1].message
    counts = source.input_account().files[0].counts
    assert (counts.records, counts.joined, counts.blank, counts.unparsed) == (3, 7, 1, 0)


def test_pretty_printed_json_objects_are_still_one_record_each(tmp_path: Path) -> None:
    path = tmp_path / "dump.json"
    path.write_text(
        '{\n  "time": "2024-05-01T10:00:00Z",\n  "level": "error",\n  "msg": "a"\n}\n'
        '{\n  "time": "2024-05-01T10:00:01Z",\n  "level": "info",\n  "msg": "b"\n}\n'
    )
    records, _ = read(path)
    assert [r.level for r in records] == [Severity.ERROR, Severity.INFO]
