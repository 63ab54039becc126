"""Times as lines write them: layouts (strftime, Go reference time, names), zones, and the year or
date a line leaves out, taken from the file's last change."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analyzer.model import Query, instant_ns
from analyzer.sources.files import FileSource
from analyzer.sources.formats import FormatRules
from analyzer.sources.formats.times import LayoutError, TimeReader, compile_layout

EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")


def changed_at(path: Path, moment: datetime) -> Path:
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    return path


def read_times(path: Path, **rules: object) -> list[int]:
    """The files' times in line order."""
    source = FileSource(str(path), formats=FormatRules.from_settings(rules or None))
    records = sorted(source.fetch(EVERYTHING).records, key=lambda r: int(r.origin.split(":")[-1]))
    return [r.timestamp_ns for r in records]


def test_syslog_dates_before_new_year_belong_to_the_year_before_the_change(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_text(
        "Dec 31 23:59:59 web01 cron[1]: last of the year\n"
        "Jan  1 00:00:01 web01 cron[1]: first of the next\n"
    )
    changed_at(path, datetime(2027, 1, 5, tzinfo=UTC))
    assert read_times(path) == [instant_ns("2026-12-31T23:59:59Z"), instant_ns("2027-01-01T00:00:01Z")]


def test_a_clock_without_a_date_is_on_the_day_of_the_change_or_the_day_before(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(
        "09:00:00.000 [main] INFO  a.B - morning\n"
        "23:30:00.000 [main] INFO  a.B - late\n"
    )
    changed_at(path, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    assert read_times(path) == [instant_ns("2026-03-10T09:00:00Z"), instant_ns("2026-03-09T23:30:00Z")]


def test_an_offset_in_the_line_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text('10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\n')
    assert read_times(path) == [instant_ns("2000-10-10T20:55:36Z")]


def test_times_without_a_zone_are_read_in_the_declared_zone(tmp_path: Path) -> None:
    path = tmp_path / "dpkg.log"
    path.write_text("2024-07-01 12:00:00 status installed nginx:amd64 1.22.1-9\n")
    assert read_times(path) == [instant_ns("2024-07-01T12:00:00Z")]
    assert read_times(path, timezone="Europe/Paris") == [instant_ns("2024-07-01T10:00:00Z")]
    source = FileSource(str(path), formats=FormatRules.from_settings({"timezone": "Europe/Paris"}))
    source.fetch(EVERYTHING)
    assert "times without a zone read as Europe/Paris" in source.input_account().files[0].notes


def test_a_zone_named_for_some_files_applies_to_them_only(tmp_path: Path) -> None:
    (tmp_path / "paris.log").write_text("2024-01-15 12:00:00 INFO ok\n")
    (tmp_path / "utc.log").write_text("2024-01-15 12:00:00 INFO ok\n")
    rules = {"files": [{"match": "paris.log", "format": "iso-prefixed", "timezone": "Europe/Paris"}]}
    source = FileSource(str(tmp_path), formats=FormatRules.from_settings(rules))
    times = {r.origin: r.timestamp_ns for r in source.fetch(EVERYTHING).records}
    assert times == {"paris.log:1": instant_ns("2024-01-15T11:00:00Z"),
                     "utc.log:1": instant_ns("2024-01-15T12:00:00Z")}


def test_a_daylight_saving_offset_comes_from_the_zone_at_that_date() -> None:
    paris = ZoneInfo("Europe/Paris")
    reader = TimeReader(["%Y-%m-%d %H:%M:%S"], paris)
    assert reader.read(b"2024-01-15 12:00:00") == instant_ns("2024-01-15T11:00:00Z")
    assert reader.read(b"2024-07-15 12:00:00") == instant_ns("2024-07-15T10:00:00Z")


@pytest.mark.parametrize(
    ("go", "strftime"),
    [
        ("02/Jan/2006:15:04:05 -0700", "%d/%b/%Y:%H:%M:%S %z"),
        ("2006-01-02 15:04:05.000", "%Y-%m-%d %H:%M:%S.%f"),
        ("Jan _2 15:04:05", "%b %e %H:%M:%S"),
    ],
)
def test_go_reference_layouts_read_as_their_strftime_twin(go: str, strftime: str) -> None:
    samples = {
        "%d/%b/%Y:%H:%M:%S %z": b"10/Oct/2000:13:55:36 -0700",
        "%Y-%m-%d %H:%M:%S.%f": b"2024-01-02 03:04:05.678",
        "%b %e %H:%M:%S": b"Feb  5 17:32:18",
    }
    anchor = instant_ns("2024-12-01T00:00:00Z")
    text = samples[strftime]
    assert TimeReader(go, anchor_ns=anchor).read(text) == TimeReader(strftime, anchor_ns=anchor).read(text)


@pytest.mark.parametrize(
    ("layout", "text", "expected"),
    [
        ("unix", b"1117838570", "2005-06-03T22:42:50Z"),
        ("unix", b"1117838570.5", "2005-06-03T22:42:50.5Z"),
        ("unix_ms", b"1531171074631", "2018-07-09T21:17:54.631Z"),
        ("iso", b"2026-11-24 08:04:01,250", "2026-11-24T08:04:01.25Z"),
        ("%Y%m%d-%H:%M:%S:%L", b"20171223-22:16:0:119", "2017-12-23T22:16:00.119Z"),
        ("%y%m%d %H%M%S", b"081109 203615", "2008-11-09T20:36:15Z"),
    ],
)
def test_named_and_odd_layouts(layout: str, text: bytes, expected: str) -> None:
    assert TimeReader(layout).read(text) == instant_ns(expected)


def test_times_of_one_second_differ_by_their_fraction() -> None:
    reader = TimeReader(["%m%d %H:%M:%S.%f"], anchor_ns=instant_ns("2026-12-01T00:00:00Z"))
    first = reader.read(b"0715 14:22:09.123456")
    assert first == instant_ns("2026-07-15T14:22:09.123456Z")
    assert reader.read(b"0715 14:22:09.654321") == first + 530_865_000  # type: ignore[operator]
    assert reader.read(b"0715 14:22:10.000001") == instant_ns("2026-07-15T14:22:10.000001Z")


@pytest.mark.parametrize("text", [b"2024-02-30 10:00:00", b"2024-01-01 24:00:00", b"not a time"])
def test_impossible_times_are_not_read(text: bytes) -> None:
    assert TimeReader(["%Y-%m-%d %H:%M:%S"]).read(text) is None


def test_a_layout_without_hours_is_refused() -> None:
    with pytest.raises(LayoutError):
        compile_layout("%Y-%m-%d")
