"""FileSource: every supported line format, continuation and malformed lines, the path forms,
time windows, limits, and the index that spares re-parsing unchanged files."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer.config import SAMPLE_LOGS_DIR
from analyzer.errors import SourceUnavailable
from analyzer.model import LogRecord, Query, Severity, instant_ns
from analyzer.sources.base import LogSource
from analyzer.sources.files import BLOCK_RECORDS, FileSource, service_from_filename

MIXED = Path(__file__).resolve().parent.parent / "fixtures" / "files" / "mixed"
DAY = "2026-11-24T"


def window(start: str, end: str, **extra: object) -> Query:
    return Query(start=f"{DAY}{start}Z", end=f"{DAY}{end}Z", **extra)


def fetch_all(source: FileSource, **extra: object) -> list[LogRecord]:
    return source.fetch(window("00:00:00", "23:59:59", **extra)).records


def by_origin(records: list[LogRecord]) -> dict[str, LogRecord]:
    return {r.origin: r for r in records}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """The fixture directory copied, with the syslog file's mtime (its year) pinned."""
    target = tmp_path / "mixed"
    shutil.copytree(MIXED, target)
    stamp = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(target / "syslog.log", (stamp, stamp))
    return target


@pytest.fixture
def records(mixed: Path) -> dict[str, LogRecord]:
    return by_origin(fetch_all(FileSource(str(mixed))))


def test_file_source_satisfies_the_log_source_protocol() -> None:
    assert isinstance(FileSource(str(MIXED)), LogSource)
    assert FileSource(str(MIXED)).name == "files"


# ----- JSON lines ----------------------------------------------------------------------------


def test_json_lines_read_each_usual_timestamp_field(records: dict[str, LogRecord]) -> None:
    assert records["api.jsonl:1"].timestamp_ns == instant_ns("2026-11-24T08:00:01.000000001Z")
    assert records["api.jsonl:2"].timestamp_ns == instant_ns("2026-11-24T08:00:02Z")
    assert records["api.jsonl:3"].timestamp_ns == instant_ns("2026-11-24T08:00:03.5Z")
    assert records["api.jsonl:4"].timestamp_ns == instant_ns("2026-11-24T08:00:04.25Z")


def test_service_comes_from_the_file_stem_when_the_record_has_none(
    records: dict[str, LogRecord],
) -> None:
    assert records["api.jsonl:1"].service == "api"


def test_service_comes_from_the_record_fields(records: dict[str, LogRecord]) -> None:
    assert records["api.jsonl:2"].service == "gateway"  # service
    assert records["api.jsonl:3"].service == "cache-proxy"  # app
    assert records["api.jsonl:4"].service == "api-health"  # job
    assert records["api.jsonl:5"].service == "api-7f9c"  # container


def test_json_fields_become_ids_levels_and_messages(records: dict[str, LogRecord]) -> None:
    first, second = records["api.jsonl:1"], records["api.jsonl:2"]
    assert (first.correlation_id, first.workspace_id, first.model) == ("req-1", "ws-a", "gpt-4o")
    assert second.level is Severity.ERROR and second.message == "upstream timeout"
    assert second.success is False


# ----- logfmt and Docker ---------------------------------------------------------------------


def test_logfmt_lines_are_parsed(records: dict[str, LogRecord]) -> None:
    failed = records["worker.log:2"]
    assert failed.service == "worker" and failed.level is Severity.ERROR
    assert failed.message == "job failed: parse error" and failed.correlation_id == "req-2"
    assert records["worker.log:3"].service == "scheduler"
    assert records["worker.log:3"].level is Severity.WARN


def test_docker_json_file_inner_json_line_is_parsed(records: dict[str, LogRecord]) -> None:
    entry = records["0f3a9c-json.log:1"]
    assert entry.service == "billing" and entry.level is Severity.ERROR
    assert entry.message == "db connection lost"
    assert entry.timestamp_ns == instant_ns("2026-11-24T08:02:00.123456789Z")
    assert entry.fields["stream"] == "stderr"


def test_docker_json_file_inner_logfmt_and_plain_lines_are_parsed(
    records: dict[str, LogRecord],
) -> None:
    assert records["0f3a9c-json.log:2"].message == "pool low"
    assert records["0f3a9c-json.log:2"].level is Severity.WARN
    plain = records["0f3a9c-json.log:3"]
    assert plain.message == "plain started on port 8080" and plain.service == "0f3a9c"


def test_docker_inner_line_timestamp_wins_over_the_docker_time(
    records: dict[str, LogRecord],
) -> None:
    entry = records["0f3a9c-json.log:4"]
    assert entry.timestamp_ns == instant_ns("2026-11-24T08:02:03Z")
    assert entry.level is Severity.ERROR and entry.message == "inner timestamp wins"


# ----- plain text ----------------------------------------------------------------------------


def test_redis_lines_map_level_characters(records: dict[str, LogRecord]) -> None:
    levels = [records[f"redis.log:{n}"].level for n in range(1, 6)]
    assert levels == [Severity.WARN, Severity.INFO, Severity.DEBUG, Severity.DEBUG, Severity.WARN]
    assert records["redis.log:2"].message == "Ready to accept connections tcp"
    assert records["redis.log:5"].timestamp_ns == instant_ns("2026-11-24T08:03:07.5Z")
    assert records["redis.log:1"].service == "redis"


def test_iso_prefix_with_level_word(records: dict[str, LogRecord]) -> None:
    line = records["app.log:1"]
    assert line.level is Severity.INFO and line.message == "server listening"
    assert line.timestamp_ns == instant_ns("2026-11-24T08:04:00Z")


def test_iso_prefix_with_comma_fraction_and_pairs_in_the_message(
    records: dict[str, LogRecord],
) -> None:
    line = records["app.log:2"]
    assert line.timestamp_ns == instant_ns("2026-11-24T08:04:01.25Z")
    assert line.level is Severity.ERROR and line.correlation_id == "req-3"


def test_iso_prefix_with_offset_is_converted_to_utc(mixed: Path) -> None:
    line = by_origin(fetch_all(FileSource(str(mixed))))["app.log:6"]
    assert line.timestamp_ns == instant_ns("2026-11-24T07:04:02Z")
    assert line.level is Severity.WARN and line.message == "clock in another zone"


def test_bracketed_timestamp_and_level(records: dict[str, LogRecord]) -> None:
    line = records["app.log:7"]
    assert line.level is Severity.ERROR and line.message == "bracketed style"


def test_python_logging_name_level_style(records: dict[str, LogRecord]) -> None:
    line = records["app.log:8"]
    assert line.level is Severity.FATAL and line.message == "card declined"


def test_stack_trace_lines_continue_the_previous_record(records: dict[str, LogRecord]) -> None:
    line = records["app.log:2"]
    assert line.message.splitlines()[1:] == [
        "Traceback (most recent call last):",
        '  File "app.py", line 10, in handle',
        "ValueError: bad input",
    ]
    assert "app.log:3" not in records


def test_syslog_prefix_takes_its_year_from_the_file_mtime(records: dict[str, LogRecord]) -> None:
    line = records["syslog.log:1"]
    assert line.timestamp_ns == instant_ns("2026-11-24T08:05:00Z")
    assert line.service == "sshd" and line.fields["host"] == "web01"
    assert records["syslog.log:2"].level is Severity.ERROR


def test_syslog_dates_after_the_mtime_belong_to_the_year_before(mixed: Path) -> None:
    stamp = datetime(2027, 1, 5, tzinfo=UTC).timestamp()
    os.utime(mixed / "syslog.log", (stamp, stamp))
    line = by_origin(fetch_all(FileSource(str(mixed / "syslog.log"))))["syslog.log:1"]
    assert line.timestamp_ns == instant_ns("2026-11-24T08:05:00Z")


def test_apache_style_bracketed_ctime(records: dict[str, LogRecord]) -> None:
    line = records["apache.log:1"]
    assert line.timestamp_ns == instant_ns("2026-11-24T08:06:00.123456Z")
    assert line.level is Severity.ERROR and line.message.startswith("AH00124")
    assert (line.fields["module"], line.fields["pid"]) == ("core", "42")


# ----- malformed lines -----------------------------------------------------------------------


def test_malformed_lines_are_counted_not_fatal(mixed: Path) -> None:
    result = FileSource(str(mixed / "broken.jsonl")).fetch(window("08:00:00", "09:00:00"))
    assert [r.message for r in result.records] == ["first", "last"]
    assert result.malformed_lines == 4


def test_plain_lines_before_any_timestamp_are_malformed(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    path.write_text("no time here\n2026-11-24T08:00:00Z INFO ok\nstack line\n")
    result = FileSource(str(path)).fetch(window("07:00:00", "09:00:00"))
    assert result.malformed_lines == 1
    assert result.records[0].message == "ok\nstack line"


# ----- path forms ----------------------------------------------------------------------------


def test_directory_skips_ground_truth_and_non_log_files(mixed: Path) -> None:
    names = {p.name for p in FileSource(str(mixed)).files()}
    assert "ground_truth.json" not in names and "notes.md" not in names
    assert {"api.jsonl", "redis.log", "syslog.log", "0f3a9c-json.log"} <= names


def test_glob_selects_matching_files(mixed: Path) -> None:
    source = FileSource(str(mixed / "*.jsonl"))
    assert sorted(p.name for p in source.files()) == ["api.jsonl", "broken.jsonl"]
    assert {r.origin.split(":")[0] for r in fetch_all(source)} == {"api.jsonl", "broken.jsonl"}


def test_single_file(mixed: Path) -> None:
    records = fetch_all(FileSource(str(mixed / "redis.log")))
    assert len(records) == 5 and {r.service for r in records} == {"redis"}


def test_rotated_and_gzipped_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "api.log.1").write_text("2026-11-24T08:00:00Z INFO rotated\n")
    with gzip.open(tmp_path / "api.log.2.gz", "wt") as handle:
        handle.write("2026-11-24T07:59:00Z INFO compressed\n")
    records = fetch_all(FileSource(str(tmp_path)))
    assert [(r.service, r.message) for r in records] == [("api", "compressed"), ("api", "rotated")]


def test_service_from_filename_strips_log_suffixes() -> None:
    assert service_from_filename(Path("api.jsonl")) == "api"
    assert service_from_filename(Path("api.log.1")) == "api"
    assert service_from_filename(Path("worker.jsonl.gz")) == "worker"
    assert service_from_filename(Path("0f3a9c-json.log")) == "0f3a9c"


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    source = FileSource(str(tmp_path / "nothing-here"))
    assert source.check()["ok"] is False
    with pytest.raises(SourceUnavailable) as caught:
        source.fetch(Query(time_range="1h"))
    assert caught.value.code == "NO_LOG_FILES"


# ----- queries -------------------------------------------------------------------------------


def test_records_come_back_in_time_order_across_files(mixed: Path) -> None:
    stamps = [r.timestamp_ns for r in fetch_all(FileSource(str(mixed)))]
    assert stamps == sorted(stamps)


def test_window_bounds_the_records(mixed: Path) -> None:
    result = FileSource(str(mixed)).fetch(window("08:01:00", "08:01:59"))
    assert [r.origin for r in result.records] == ["worker.log:1", "worker.log:2", "worker.log:3"]


def test_query_filters_apply(mixed: Path) -> None:
    source = FileSource(str(mixed))
    errors = fetch_all(source, severity_threshold="error")
    assert errors and all(r.level >= Severity.ERROR for r in errors)
    assert {r.service for r in fetch_all(source, services=["redis"])} == {"redis"}
    assert [r.origin for r in fetch_all(source, correlation_id="req-2")] == [
        "worker.log:1",
        "worker.log:2",
    ]


def test_limit_keeps_the_newest_and_flags_truncation(mixed: Path) -> None:
    source = FileSource(str(mixed))
    everything = fetch_all(source)
    result = source.fetch(window("00:00:00", "23:59:59"), limit=3)
    assert result.truncated is True
    assert [r.origin for r in result.records] == [r.origin for r in everything[-3:]]
    assert source.fetch(window("00:00:00", "23:59:59"), limit=1000).truncated is False


def test_relative_window_ends_at_the_newest_line(mixed: Path) -> None:
    source = FileSource(str(mixed))
    newest = instant_ns("2026-11-24T08:07:02Z")
    assert source.now_ns() == newest
    result = source.fetch(Query(time_range="1m"))
    assert result.window.end_ns == newest
    assert [r.message for r in result.records] == ["first", "last"]


def test_wall_clock_mode_uses_real_time(mixed: Path) -> None:
    before = datetime.now(UTC).timestamp() * 1e9
    assert FileSource(str(mixed), clock="wall").now_ns() >= before


def test_services_and_label_values(mixed: Path) -> None:
    source = FileSource(str(mixed))
    assert {"api", "redis", "worker", "billing", "sshd"} <= set(source.services())
    assert source.label_values("level") == ["debug", "error", "fatal", "info", "warn"]
    assert source.label_values("workspace_id") == ["ws-a", "ws-b"]
    assert source.label_values("no_such_label") == []
    assert source.check()["ok"] is True


# ----- index ---------------------------------------------------------------------------------


def test_unchanged_files_are_not_parsed_again(mixed: Path) -> None:
    source = FileSource(str(mixed))
    first = source.fetch(window("00:00:00", "23:59:59"))
    second = source.fetch(window("00:00:00", "23:59:59"))
    assert first.stats["records_parsed"] > 0
    assert second.stats["records_parsed"] == 0 and second.stats["files_read"] == 0
    assert [r.origin for r in second.records] == [r.origin for r in first.records]


def test_a_changed_file_is_read_again(mixed: Path) -> None:
    source = FileSource(str(mixed / "worker.log"))
    assert len(fetch_all(source)) == 3
    with (mixed / "worker.log").open("a") as handle:
        handle.write('time=2026-11-24T08:09:00Z level=info msg="appended"\n')
    assert fetch_all(source)[-1].message == "appended"
    assert source.now_ns() == instant_ns("2026-11-24T08:09:00Z")


def test_large_files_are_read_by_time_block(tmp_path: Path) -> None:
    """Without the record cache, a narrow window parses only the blocks that overlap it."""
    path = tmp_path / "big.jsonl"
    total = BLOCK_RECORDS * 5
    base = instant_ns("2026-11-24T00:00:00Z")
    with path.open("w") as handle:
        for i in range(total):
            stamp = datetime.fromtimestamp((base + i * 1_000_000_000) / 1e9, tz=UTC)
            handle.write(json.dumps({"ts": stamp.isoformat(), "msg": f"line {i}"}) + "\n")
    source = FileSource(str(path), max_cached_records=0)
    source.fetch(Query(time_range="1m"))  # builds the index
    wanted = BLOCK_RECORDS * 2 + 10
    moment = datetime.fromtimestamp(base / 1e9 + wanted, tz=UTC)
    result = source.fetch(Query(start=moment, end=moment + timedelta(milliseconds=500)))
    assert [r.message for r in result.records] == [f"line {wanted}"]
    assert 0 < result.stats["records_parsed"] <= BLOCK_RECORDS * 2


# ----- the bundled sample --------------------------------------------------------------------


def test_bundled_sample_holds_every_incident_failure() -> None:
    truth = json.loads((SAMPLE_LOGS_DIR / "ground_truth.json").read_text())
    source = FileSource(str(SAMPLE_LOGS_DIR))
    result = source.fetch(Query(time_range="2h", severity_threshold="error"), limit=None)
    failed = {r.correlation_id for r in result.records}
    assert result.malformed_lines == 0
    for incident in truth["incidents"]:
        assert set(incident["failed_correlation_ids"]) <= failed, incident["kind"]
    assert source.services() == sorted(truth["services"])
