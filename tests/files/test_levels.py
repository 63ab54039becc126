"""Levels as Loki's `detected_level` finds them (pkg/distributor/field_detection.go), and where
this reader goes further (see the docstring of analyzer/sources/formats/levels.py)."""

from __future__ import annotations

import pytest

from analyzer.model import Severity
from analyzer.sources.formats.levels import status_level, syslog_level, text_level, words_level
from analyzer.sources.records import mapping_level, record_from_mapping

D, INFO, W, E, F = Severity.DEBUG, Severity.INFO, Severity.WARN, Severity.ERROR, Severity.FATAL


# ----- as Loki -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("foo bar error baz warn", E),  # the earliest level word wins
        ("this is a warning, not an error", W),
        ("INFO: all good, no error", INFO),
        ("[ERROR] request failed", E),
        ('level="warn" msg="x"', W),
        ("debug: cache miss", D),
        ("TRACE entering handler", D),
        ("CRITICAL disk gone", F),
        ("fatal: repository not found", F),
        ("WaRnInG mixed case", W),
        ("err: short form", E),
        ("context|error|pipe", E),
    ],
)
def test_the_earliest_standalone_level_word_sets_the_level(line: str, level: Severity) -> None:
    assert words_level(line.encode()) is level
    assert text_level(line) is level


@pytest.mark.parametrize(
    "line",
    [
        "misc:error is a key:value compound, not a level",  # Loki: no colon on the left
        "stderr and errno are other words",
        "errors were counted",
        "terror and informational are not levels",
        "",
    ],
)
def test_words_inside_other_words_are_no_level(line: str) -> None:
    assert words_level(line.encode()) is None
    assert text_level(line) is None


@pytest.mark.parametrize(
    ("data", "level"),
    [
        ({"msg": "keyword error but it should not get picked up", "level": "critical"}, F),
        ({"MSG": "x", "LEVEL": "Critical"}, F),
        ({"msg": "keyword warn", "SEVERITY": "FATAL"}, F),
        ({"msg": "x", "level": "ERR"}, E),
        ({"msg": "x", "log.level": "warn"}, W),
        ({"msg": "x", "SeverityText": "ERROR"}, E),
        ({"msg": "x", "severity_text": "debug"}, D),
        ({"msg": "x", "Lvl": "info"}, INFO),
    ],
)
def test_a_level_field_wins_over_the_words(data: dict[str, object], level: Severity) -> None:
    assert mapping_level(data) is level


@pytest.mark.parametrize(
    ("number", "level"),
    [(1, D), (4, D), (5, D), (8, D), (9, INFO), (12, INFO), (13, W), (16, W), (17, E), (20, E),
     (21, F), (24, F), (0, INFO), (25, INFO)],
)
def test_the_opentelemetry_severity_number_maps_as_in_loki(number: int, level: Severity) -> None:
    assert mapping_level({"severity_number": number}) is level


def test_a_json_line_without_a_level_field_takes_the_words_of_its_message() -> None:
    record = record_from_mapping({"time": "2026-01-01T00:00:00Z", "msg": "connection error"})
    assert record.level is E


# ----- beyond Loki ---------------------------------------------------------------------------


@pytest.mark.parametrize(("letter", "level"), [("I", INFO), ("W", W), ("E", E), ("F", F), ("D3", D)])
def test_a_one_letter_level_field_reads_as_glog_and_mongodb_write_it(letter: str, level: Severity) -> None:
    assert mapping_level({"level": letter}) is level
    assert mapping_level({"s": letter}) is level


def test_a_short_key_that_holds_no_level_leaves_the_words_to_decide() -> None:
    record = record_from_mapping({"time": "2026-01-01T00:00:00Z", "s": "orders", "msg": "connection error"})
    assert record.level is E
    assert record.fields["s"] == "orders"


def test_a_short_time_key_is_read_only_in_the_shapes_its_writers_use() -> None:
    mongo = record_from_mapping({"t": {"$date": "2026-01-01T00:00:01Z"}, "msg": "x"})
    counter = record_from_mapping({"t": 7, "msg": "x"})
    assert mongo.timestamp_ns == 1_767_225_601_000_000_000
    assert (counter.timestamp_ns, counter.fields["t"]) == (0, 7)  # no time of its own


@pytest.mark.parametrize(
    ("data", "level"),
    [
        ({"level": 30}, INFO),  # pino / Bunyan
        ({"level": 50}, E),
        ({"level": 60}, F),
        ({"level": "40"}, W),
        ({"PRIORITY": "3"}, E),  # journald: syslog numbers
        ({"PRIORITY": "6"}, INFO),
        ({"level": 1, "short_message": "x"}, F),  # GELF: syslog numbers
        ({"log": {"level": "warn"}}, W),  # ECS nested
        ({"status": 503}, E),  # an access log in JSON
        ({"httpRequest": {"status": 404}}, W),  # GCP
    ],
)
def test_numeric_nested_and_status_levels(data: dict[str, object], level: Severity) -> None:
    assert mapping_level(data) is level


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("Out of memory: Killed process 4321 (python3)", E),
        ("Failed password for invalid user admin from 203.0.113.9", W),
        ("Invalid user webmaster from 173.234.31.186", W),
        ("connect() to upstream timed out", W),
        ("java.lang.NullPointerException: name is null", E),
        ("Traceback (most recent call last):", E),
        ("segfault at 0 ip 00007f sp 00007ffd error 4", E),  # `error` is the earliest word
        ("kernel panic - not syncing", F),
        ("notice: configuration reloaded", INFO),
        ("SEVERE: servlet threw", E),
        ("INFO retry failed once, then succeeded", INFO),  # a level word wins over failures
    ],
)
def test_failure_words_set_a_level_when_no_level_word_does(line: str, level: Severity) -> None:
    assert words_level(line.encode()) is level


def test_a_package_named_after_exceptions_is_no_failure() -> None:
    assert words_level(b"Breaks: libexception-class-perl (<< 1.42)") is None


@pytest.mark.parametrize(("pri", "level"), [(34, F), (11, E), (12, W), (13, INFO), (14, INFO), (15, D)])
def test_a_syslog_pri_gives_its_severity(pri: int, level: Severity) -> None:
    assert syslog_level(pri) is level


@pytest.mark.parametrize(("status", "level"), [(200, INFO), (304, INFO), (404, W), (429, W), (500, E)])
def test_an_http_status_gives_the_level_of_an_access_line(status: int, level: Severity) -> None:
    assert status_level(status) is level
