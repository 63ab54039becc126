"""The shortcuts that make large dumps fast give the answers the plain line-by-line reading gives:
times read by position, filters checked before a record is built, one pass on a first relative
query, and JSON that the fast parser refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer.model import LogRecord, Query, instant_ns
from analyzer.sources.files import BLOCK_RECORDS, FileSource
from analyzer.sources.records import timestamp_ns

BASE = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def stamp(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def window(start_s: float, end_s: float, **extra: object) -> Query:
    return Query(
        start=BASE + timedelta(seconds=start_s), end=BASE + timedelta(seconds=end_s), **extra
    )


def as_rows(records: list[LogRecord]) -> list[dict[str, object]]:
    return [{**r.to_dict(), "raw": r.raw, "origin": r.origin} for r in records]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T08:00:00Z",
        "2026-11-24T08:00:00.5Z",
        "2026-11-24T08:00:00.123456Z",
        "2026-11-24T08:00:00.123456789Z",
        "2024-02-29T23:59:59.000000001Z",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.5Z",
        "2026-11-24T08:00:00.1234567891Z",
        "2026-11-24 08:00:00Z",
        "2026-11-24T08:00:00+02:00",
    ],
)
def test_rfc3339_times_read_by_position_equal_instant_ns(text: str) -> None:
    assert timestamp_ns(text) == instant_ns(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-29T00:00:00Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24T08:00:60Z",
        "2026-11-24T08:00:0\u0661Z",  # an Arabic-Indic digit
    ],
)
def test_impossible_rfc3339_times_are_refused_as_instant_ns_refuses_them(text: str) -> None:
    with pytest.raises(ValueError):
        instant_ns(text)
    with pytest.raises(ValueError):
        timestamp_ns(text)


def test_a_first_relative_query_reads_each_line_once(tmp_path: Path) -> None:
    rows = [{"timestamp": stamp(i), "level": "info", "message": f"line {i}"} for i in range(300)]
    path = write_jsonl(tmp_path / "api.jsonl", rows)
    result = FileSource(str(path)).fetch(Query(time_range="1m"))
    assert result.stats["records_parsed"] == 300
    assert [r.message for r in result.records] == [
        f"line {i}" for i in range(239, 300)
    ]  # both ends included


def test_a_first_relative_query_answers_as_an_indexed_source_does(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "api.jsonl", [{"ts": stamp(i), "msg": f"api {i}"} for i in range(0, 600, 2)]
    )
    write_jsonl(
        tmp_path / "worker.jsonl", [{"ts": stamp(i), "msg": f"w {i}"} for i in range(1, 500, 3)]
    )
    query = Query(time_range="2m")
    first = FileSource(str(tmp_path)).fetch(query, limit=50)
    indexed = FileSource(str(tmp_path))
    indexed.now_ns()
    again = indexed.fetch(query, limit=50)
    assert first.window == again.window
    assert as_rows(first.records) == as_rows(again.records)
    assert (first.truncated, first.stats["matched"]) == (again.truncated, again.stats["matched"])


def test_the_window_ends_at_the_newest_line_even_when_it_is_not_near_the_end_of_its_file(
    tmp_path: Path,
) -> None:
    newest = {"timestamp": stamp(3600), "message": "newest"}
    padding = [{"timestamp": stamp(i), "message": "x" * 200} for i in range(400)]
    path = write_jsonl(tmp_path / "api.jsonl", [newest, *padding])
    result = FileSource(str(path)).fetch(Query(time_range="1m"))
    assert result.window.end_ns == instant_ns(stamp(3600))
    assert [r.message for r in result.records] == ["newest"]


def test_json_the_fast_parser_refuses_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "api.jsonl"
    path.write_text(
        f'{{"timestamp": "{stamp(1)}", "message": "not a number", "score": NaN}}\n'
        f'{{"timestamp": "{stamp(2)}", "message": "lone surrogate \\ud800"}}\n'
    )
    records = FileSource(str(path)).fetch(window(0, 10)).records
    assert [r.message for r in records] == ["not a number", "lone surrogate \ud800"]


def test_id_aliases_select_lines_read_by_block(tmp_path: Path) -> None:
    rows = [
        {"ts": stamp(i), "msg": f"line {i}", "correlationId": f"req-{i % 7}"}
        for i in range(BLOCK_RECORDS * 2)
    ]
    path = write_jsonl(tmp_path / "api.jsonl", rows)
    source = FileSource(str(path), max_cached_records=0)
    source.now_ns()
    records = source.fetch(window(0, 100, correlation_id="req-3")).records
    assert [r.message for r in records] == [f"line {i}" for i in range(3, 101, 7)]
    assert {r.correlation_id for r in records} == {"req-3"}


def test_exclude_patterns_apply_to_lines_read_by_block(tmp_path: Path) -> None:
    rows = [{"ts": stamp(i), "msg": "noisy" if i % 2 else "kept"} for i in range(BLOCK_RECORDS)]
    path = write_jsonl(tmp_path / "api.jsonl", rows)
    source = FileSource(str(path), max_cached_records=0)
    source.now_ns()
    records = source.fetch(window(0, 19, exclude_patterns=["^noi"])).records
    assert [r.origin for r in records] == [f"api.jsonl:{n}" for n in range(1, 21, 2)]


def test_a_limit_keeps_the_newest_lines_read_by_block(tmp_path: Path) -> None:
    rows = [
        {"ts": stamp(i), "level": "error", "msg": f"line {i}"} for i in range(BLOCK_RECORDS * 3)
    ]
    path = write_jsonl(tmp_path / "api.jsonl", rows)
    source = FileSource(str(path), max_cached_records=0)
    source.now_ns()
    result = source.fetch(window(0, 10_000, severity_threshold="error"), limit=5)
    total = BLOCK_RECORDS * 3
    assert [r.message for r in result.records] == [f"line {i}" for i in range(total - 5, total)]
    assert result.truncated is True and result.stats["matched"] == total


def test_label_values_keep_numbers_and_booleans_apart(tmp_path: Path) -> None:
    rows = [
        {"ts": stamp(1), "msg": "a", "job": 1},
        {"ts": stamp(2), "msg": "b", "job": True},
        {"ts": stamp(3), "msg": "c", "job": 1.0},
    ]
    path = write_jsonl(tmp_path / "api.jsonl", rows)
    assert FileSource(str(path)).label_values("job") == ["1", "1.0", "True"]


FAST_PATH_LINES = [
    # pino: integer epoch ms and numeric levels
    {"level": 30, "time": 1531171074631, "msg": "hello", "pid": 1},
    {"level": 50, "time": 1531171075000, "msg": "failed", "pid": 1},
    {"level": 60, "time": 1531171076000, "msg": "dead", "pid": 1, "extra": {"level": 10}},
    # levels written as numbers in strings, on their key's scale
    {"time": "2026-11-24T08:00:00Z", "level": "50", "msg": "pino in a string"},
    {"time": "2026-11-24T08:00:00Z", "level": "warn", "msg": "words"},
    # a service named only in an object, or by Bunyan's name beside hostname and pid
    {"time": "2026-11-24T08:00:00Z", "level": "info", "msg": "x", "resource": {"service.name": "cart"}},
    {"time": "2026-11-24T08:00:00Z", "level": "info", "msg": "x", "name": "b", "hostname": "h", "pid": 2},
    {"time": "2026-11-24T08:00:00Z", "level": "info", "msg": "x", "kubernetes": {"container_name": "web"}},
    # a float epoch is left to the parser
    {"ts": 1795507203.5, "level": 30, "msg": "zap-like"},
]


@pytest.mark.parametrize("first", [0, 3])
def test_the_json_fast_path_reads_each_line_as_the_parser_does(tmp_path: Path, first: int) -> None:
    from analyzer.sources.file_scan import JsonLayout, fast_summary
    from analyzer.sources.records import mapping_summary

    rows = FAST_PATH_LINES[first:] + FAST_PATH_LINES[:first]
    layout = JsonLayout.learn(rows[0], json.dumps(rows[0], separators=(",", ":")).encode())
    assert layout is not None
    read_fast = 0
    for row in rows:
        raw = json.dumps(row, separators=(",", ":")).encode()
        fast = fast_summary(layout, raw, "stem")
        if fast is not None:
            read_fast += 1
            assert fast == mapping_summary(row, "stem"), row
    assert read_fast >= 2


def test_pino_lines_keep_their_millisecond_times_and_levels(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "api.jsonl", FAST_PATH_LINES[:3])
    records = FileSource(str(path)).fetch(Query(start="2018-07-09T00:00:00Z", end="2018-07-10T00:00:00Z")).records
    assert [(r.timestamp_ns, r.level.label) for r in records] == [
        (1531171074631000000, "info"), (1531171075000000000, "error"), (1531171076000000000, "fatal"),
    ]
