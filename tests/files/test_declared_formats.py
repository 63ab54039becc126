"""Formats a user declares, for what detection cannot know: Loki's pattern syntax, a regex with
named groups or a built-in format's name, with a time layout, a zone and a service, from the
command line (`--log-format`, `--time-layout`) or the settings (`formats:`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.config import load_settings
from analyzer.model import LogRecord, Query, Severity, instant_ns
from analyzer.sources import open_source
from analyzer.sources.files import FileSource
from analyzer.sources.formats import FormatError, FormatRules
from analyzer.sources.formats.declared import pattern_regex

EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")
ACCESS = (
    '203.0.113.7 - - [10/Oct/2023:13:55:36 +0200] "GET /api/items HTTP/1.1" 200 612\n'
    '203.0.113.9 - - [10/Oct/2023:13:55:38 +0200] "GET /api/pay HTTP/1.1" 502 157\n'
)


def read(path: Path, settings: object) -> dict[str, LogRecord]:
    source = FileSource(str(path), formats=FormatRules.from_settings(settings))
    return {r.origin: r for r in source.fetch(EVERYTHING).records}


# ----- Loki's pattern syntax -------------------------------------------------------------------


def test_a_capture_ends_at_the_first_occurrence_of_the_text_after_it() -> None:
    regex = re.compile(pattern_regex('<ip> - - [<ts>] "<method> <path> <_>" <status> <_>'))
    found = regex.match('203.0.113.7 - - [10/Oct/2023:13:55:36 +0200] "GET /a b HTTP/1.1" 200 612')
    assert found is not None
    assert found.groupdict() == {
        "ip": "203.0.113.7", "ts": "10/Oct/2023:13:55:36 +0200", "method": "GET", "path": "/a",
        "status": "200",
    }


def test_a_space_in_a_pattern_matches_padded_columns() -> None:
    found = re.match(pattern_regex("<month> <day> <time> <message>"), "Jul  1 09:00:55 restart")
    assert found is not None and found["day"] == "1"


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("[<_>] <_>", "no named capture"),
        ("<time><level> <message>", "two captures in a row"),
        ("<a> <a>", "twice"),
    ],
)
def test_patterns_loki_refuses_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(FormatError, match=problem):
        pattern_regex(pattern)


def test_the_loki_access_log_example_reads_time_status_and_level(tmp_path: Path) -> None:
    path = tmp_path / "edge.log"
    path.write_text(ACCESS)
    pattern = '<ip> - - [<time>] "<method> <path> <_>" <status> <_>'
    records = read(path, {"files": [{"pattern": pattern, "time_layout": "02/Jan/2006:15:04:05 -0700"}]})
    ok, failed = records["edge.log:1"], records["edge.log:2"]
    assert ok.timestamp_ns == instant_ns("2023-10-10T11:55:36Z")
    assert (ok.level, failed.level) == (Severity.INFO, Severity.ERROR)  # 5xx without a level
    assert (failed.fields["ip"], failed.fields["path"], failed.fields["status"]) == (
        "203.0.113.9", "/api/pay", 502,
    )


def test_without_a_layout_the_time_is_recognised_by_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "edge.log"
    path.write_text(ACCESS)
    records = read(path, {"files": [{"pattern": '<ip> - - [<time>] "<request>" <status> <_>'}]})
    assert records["edge.log:2"].timestamp_ns == instant_ns("2023-10-10T11:55:38Z")


def test_date_and_clock_captures_are_read_together(tmp_path: Path) -> None:
    path = tmp_path / "hdfs.log"
    path.write_text("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating\n")
    records = read(path, {"files": [{"pattern": "<date> <time> <pid> <level> <component>: <message>"}]})
    record = records["hdfs.log:1"]
    assert record.timestamp_ns == instant_ns("2008-11-09T20:36:15Z")
    assert (record.service, record.message) == ("dfs.DataNode$PacketResponder", "PacketResponder 1 terminating")


# ----- regex with named groups, built-in names -------------------------------------------------


def test_a_regex_names_its_roles_by_its_groups(tmp_path: Path) -> None:
    path = tmp_path / "billing.log"
    path.write_text("2024-03-01T10:00:00Z|payments|SEVERE|charge failed|inv-9\n")
    regex = r"(?P<timestamp>[^|]+)\|(?P<app>[^|]+)\|(?P<severity>[^|]+)\|(?P<msg>[^|]+)\|(?P<invoice>.*)"
    record = read(path, {"files": [{"regex": regex}]})["billing.log:1"]
    assert (record.service, record.level, record.message) == ("payments", Severity.ERROR, "charge failed")
    assert record.fields["invoice"] == "inv-9"


def test_a_built_in_format_by_name_with_a_fixed_service(tmp_path: Path) -> None:
    path = tmp_path / "odd-name.txt"
    path.write_text("I0715 14:22:09.123456       1 serving.go:348] Generated self-signed cert\n")
    record = read(path, {"files": [{"format": "klog", "service": "scheduler"}]})["odd-name.txt:1"]
    assert (record.service, record.level) == ("scheduler", Severity.INFO)


def test_lines_a_declared_format_does_not_match_join_or_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(
        "stray line before any record\n"
        "[2024-01-01 10:00:00] ERROR boom\n"
        "2024-01-01T10:00:01Z INFO another layout\n"
    )
    source = FileSource(str(path), formats=FormatRules.from_settings(
        {"files": [{"pattern": "[<time>] <level> <message>"}]}
    ))
    records = source.fetch(EVERYTHING).records
    assert [r.message for r in records] == ["boom\n2024-01-01T10:00:01Z INFO another layout"]
    account = source.input_account().files[0]
    assert account.format == "declared pattern: [<time>] <level> <message>"
    assert (account.counts.unparsed, account.counts.joined) == (1, 1)
    assert account.counts.samples == [{"line": 1, "text": "stray line before any record"}]


def test_the_first_rule_whose_glob_matches_a_file_applies_and_others_are_detected(tmp_path: Path) -> None:
    (tmp_path / "edge.log").write_text(ACCESS)
    (tmp_path / "app.log").write_text("2024-01-01T10:00:00Z WARN slow\n")
    rules = {"files": [{"match": "edge*", "pattern": '<ip> - - [<time>] "<request>" <status> <_>'}]}
    source = FileSource(str(tmp_path), formats=FormatRules.from_settings(rules))
    source.fetch(EVERYTHING)
    formats = {a.file: a.format for a in source.input_account().files}
    assert formats["app.log"] == "iso-prefixed"
    assert formats["edge.log"].startswith("declared pattern")


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"files": [{"pattern": "no captures"}]}, "neither a pattern"),
        ({"files": [{"regex": "(?P<time>"}]}, "does not compile"),
        ({"files": [{"regex": "no groups"}]}, "no named group"),
        ({"files": [{"format": "klog", "time_layout": "%Y-%m-%d"}]}, "no hours"),
        ({"files": [{"format": "klog", "time_layout": "%Q"}]}, "not supported"),
        ({"files": [{"pattern": "<time> <message>", "regex": "(?P<time>.*)"}]}, "exactly one"),
        ({"files": [{"format": "syslog", "colour": "red"}]}, "unknown keys"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"zone": "UTC"}, "unknown keys"),
        ("syslog", "must be a mapping"),
    ],
)
def test_a_declared_format_that_cannot_be_used_is_a_clear_error(settings: object, problem: str) -> None:
    with pytest.raises(FormatError, match=problem) as caught:
        FormatRules.from_settings(settings)
    assert caught.value.code == "INVALID_LOG_FORMAT" and caught.value.suggestion


# ----- where formats are declared --------------------------------------------------------------


def test_the_settings_file_declares_formats(tmp_path: Path) -> None:
    path = tmp_path / "edge.log"
    path.write_text(ACCESS)
    config = tmp_path / "settings.yaml"
    config.write_text(
        "formats:\n"
        "  timezone: UTC\n"
        "  files:\n"
        "    - match: '*.log'\n"
        "      pattern: '<ip> - - [<time>] \"<request>\" <status> <_>'\n"
        "      service: edge-proxy\n"
    )
    settings = load_settings({"AI_LOGS_CONFIG": str(config), "AI_LOGS_SOURCE": str(path)})
    records = open_source(settings).fetch(EVERYTHING).records
    assert {r.service for r in records} == {"edge-proxy"}


def test_the_command_line_declares_a_format_for_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Proxifier.log"
    path.write_text("[10.30 16:49:06] chrome.exe - proxy.example:5070 open through proxy HTTPS\n")
    args = ["query", "--source", str(path), "--time-range", "1h", "--verbosity", "detailed", "--json"]
    assert main([*args, "--log-format", "[<time>] <program> - <message>", "--time-layout", "%m.%d %H:%M:%S"]) == 0
    body = json.loads(capsys.readouterr().out)
    account = body["metadata"]["source_stats"]["input"]["files"][0]
    assert account["format"] == "declared pattern: [<time>] <program> - <message>"
    assert (account["lines"], account["records"], account["unparsed"]) == (1, 1, 0)
    assert body["metadata"]["services_queried"] == ["chrome.exe"]


def test_a_bad_format_on_the_command_line_exits_with_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.log"
    path.write_text("2024-01-01T10:00:00Z INFO ok\n")
    assert main(["query", "--source", str(path), "--log-format", "<time><message>"]) == 2
    assert "INVALID_LOG_FORMAT" in capsys.readouterr().err
    assert main(["query", "--source", str(path), "--time-layout", "%H:%M:%S"]) == 2
    assert "--time-layout needs --log-format" in capsys.readouterr().err
