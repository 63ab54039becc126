"""The file follower's reading rules and the stream buffer's back-pressure, on real files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from analyzer.errors import BadQuery
from analyzer.model import LogRecord, Severity
from analyzer.sources.files import FileSource
from analyzer.sources.formats import FormatRules
from analyzer.sources.tail import FileFollower, tail_url
from analyzer.web.stream import StreamBuffer


def _record(i: int) -> LogRecord:
    return LogRecord(timestamp_ns=i, service="api", level=Severity.INFO, message=f"line {i}")


def _json_line(message: str, second: int = 0, level: str = "info") -> str:
    return json.dumps({"timestamp": f"2026-11-24T09:00:{second:02d}Z", "level": level,
                       "service": "api", "message": message}) + "\n"


def _follow(folder: Path, **kwargs) -> FileFollower:
    follower = FileFollower(FileSource(str(folder)), poll_interval=0.01, **kwargs)
    follower.open()
    return follower


def _messages(follower: FileFollower, timeout: float = 0.2) -> list[str]:
    batch = follower.next_batch(timeout)
    return [] if batch is None else [r.message for r in batch.records]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "api.jsonl").write_text(_json_line("already there"))
    return tmp_path


def test_a_slow_reader_loses_the_oldest_lines_and_is_told_how_many():
    buffer = StreamBuffer(size=3)
    buffer.put([_record(i) for i in range(5)])
    taken = buffer.take(most=10, timeout=0)
    assert [r.timestamp_ns for r in taken.records] == [2, 3, 4]
    assert taken.dropped == 2
    assert buffer.take(most=10, timeout=0).dropped == 0


def test_source_drops_are_reported_apart_from_buffer_drops():
    buffer = StreamBuffer(size=10)
    buffer.put([_record(1)], source_dropped=4)
    taken = buffer.take(most=10, timeout=0)
    assert (taken.dropped, taken.source_dropped) == (0, 4)


def test_records_before_a_failure_are_delivered_before_it():
    buffer = StreamBuffer(size=10)
    buffer.put([_record(1), _record(2)])
    buffer.fail(BadQuery("nope"))
    first = buffer.take(most=1, timeout=0)
    assert (len(first.records), first.error) == (1, None)
    second = buffer.take(most=10, timeout=0)
    assert [r.timestamp_ns for r in second.records] == [2]
    assert isinstance(second.error, BadQuery)


def test_a_waiting_take_wakes_when_records_arrive():
    buffer = StreamBuffer(size=10)
    timer = threading.Timer(0.05, lambda: buffer.put([_record(7)]))
    timer.start()
    taken = buffer.take(most=10, timeout=5)
    timer.join()
    assert [r.timestamp_ns for r in taken.records] == [7]


def test_a_partial_line_waits_for_its_end(folder: Path):
    follower = _follow(folder)
    path = folder / "api.jsonl"
    line = _json_line("written in two parts", 1)
    with path.open("a") as handle:
        handle.write(line[:20])
    assert _messages(follower) == []
    with path.open("a") as handle:
        handle.write(line[20:])
    assert _messages(follower) == ["written in two parts"]


def test_a_stack_trace_is_folded_into_its_record(tmp_path: Path):
    path = tmp_path / "worker.log"
    path.write_text("2026-11-24T09:00:00Z INFO started\n")
    follower = _follow(tmp_path)
    with path.open("a") as handle:
        handle.write("2026-11-24T09:00:01Z ERROR job failed\nTraceback (most recent call last):\n"
                     '  File "job.py", line 3, in run\nValueError: bad input\n')
    messages = _messages(follower)
    assert messages == ["job failed\nTraceback (most recent call last):\n"
                        '  File "job.py", line 3, in run\nValueError: bad input']


def test_a_truncated_file_is_read_again_from_its_start(folder: Path):
    follower = _follow(folder)
    path = folder / "api.jsonl"
    path.write_text(_json_line("after rotation", 5))
    assert _messages(follower) == ["after rotation"]


def test_history_keeps_the_newest_matching_records_up_to_the_limit(folder: Path):
    path = folder / "api.jsonl"
    path.write_text("".join(_json_line(f"line {i}", i, "error" if i % 2 else "info")
                            for i in range(10)))
    start = FileSource(str(folder)).now_ns() - 3600 * 10**9
    errors_only = FileFollower(
        FileSource(str(folder)), start_ns=start, limit=3,
        matches=lambda r: r.level >= Severity.ERROR,
    )
    errors_only.open()
    assert _messages(errors_only) == ["line 5", "line 7", "line 9"]


def test_the_follower_reports_malformed_lines_without_stopping(folder: Path):
    follower = _follow(folder)
    with (folder / "api.jsonl").open("a") as handle:
        handle.write("{not json\n" + _json_line("still read", 2))
    batch = follower.next_batch(0.2)
    assert batch is not None
    assert [r.message for r in batch.records] == ["still read"]
    assert batch.malformed == 1


def test_tail_url_speaks_websocket_to_lokis_tail_endpoint():
    url = tail_url("https://loki.example:3100/", '{service="api"}', start_ns=5, limit=10)
    assert url.startswith("wss://loki.example:3100/loki/api/v1/tail?")
    assert "query=%7Bservice%3D%22api%22%7D" in url
    assert "start=5" in url and "limit=10" in url


def test_followed_lines_are_read_in_the_format_detected_for_their_file(tmp_path: Path):
    path = tmp_path / "HDFS.log"  # a layout no line format names: the time's place is learned
    head = "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating\n"
    path.write_text(head * 5)
    follower = _follow(tmp_path)
    with path.open("a") as handle:
        handle.write("081109 203807 222 WARN dfs.DataNode$DataXceiver: writeBlock blk_-6952295868487656571 received exception\n")
    batch = follower.next_batch(0.2)
    assert batch is not None
    [record] = batch.records
    assert (record.timestamp_ns, record.level) == (1_226_263_087_000_000_000, Severity.WARN)


def test_followed_lines_use_the_format_declared_for_their_file(tmp_path: Path):
    path = tmp_path / "gateway.log"
    path.write_text("2026-11-24T09:00:00Z | INFO | started\n")
    rules = FormatRules.from_settings({"files": [{"match": "gateway*", "pattern": "<time> | <level> | <message>"}]})
    follower = FileFollower(FileSource(str(tmp_path), formats=rules), poll_interval=0.01)
    follower.open()
    with path.open("a") as handle:
        handle.write("2026-11-24T09:00:01Z | ERROR | upstream closed\n")
    batch = follower.next_batch(0.2)
    assert batch is not None
    [record] = batch.records
    assert (record.message, record.level) == ("upstream closed", Severity.ERROR)
