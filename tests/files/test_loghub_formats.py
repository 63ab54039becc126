"""The 8 Loghub-2k systems read as a user would point the tool at them: by detection alone, and
with one declared pattern each. Every line must become one record whose time agrees with the
set's ground-truth time columns, whose level agrees with its severity column where it has one,
and whose service comes from the column that names it.

Which column names the service (beware the names: Linux's `Level` and OpenSSH's `Component`
hold the host): Apache none (the file's name), BGL `Component` (KERNEL, APP, ...), HDFS none
(`Component` is a Java class, kept as the `logger` field), HealthApp `Component`, HPC
`Component`, Linux `Component` (the syslog program), OpenSSH the syslog program `sshd` (not a
column), Proxifier `Program`. Detection alone takes the program of the two syslog sets and the
file's name for the others, whose lines do not say which field is a service.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.model import LogRecord, Query, Severity
from analyzer.sources.files import FileSource
from analyzer.sources.formats import FormatRules

LOGHUB = Path(__file__).resolve().parent.parent / "fixtures" / "loghub2k"
SECOND = "%Y-%m-%d %H:%M:%S"
NO_YEAR = "%m-%d %H:%M:%S"  # sets whose lines carry no year are compared without it
EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")


def _epoch(column: str) -> Callable[[dict[str, str]], str]:
    return lambda row: datetime.fromtimestamp(int(row[column]), tz=UTC).strftime(SECOND)


def _text(
    layout: str, *columns: str, pad: int = 0, shown: str = SECOND
) -> Callable[[dict[str, str]], str]:
    def read(row: dict[str, str]) -> str:
        text = " ".join(row[c].zfill(pad) if pad else row[c] for c in columns)
        return datetime.strptime(text, layout).strftime(shown)

    return read


@dataclass(frozen=True)
class LoghubSet:
    name: str
    time: Callable[[dict[str, str]], str]  # the truth's time, shown as SECOND or NO_YEAR (UTC)
    pattern: str  # the one declared format line
    has_year: bool = True  # without one, the year comes from the file's last change
    level_column: str | None = None
    service_column: str | None = None  # with the declared pattern
    service: str | None = None  # a service no column names
    detected_service_column: str | None = None  # detection alone


def _healthapp_time(row: dict[str, str]) -> str:
    whole = row["Time"].rsplit(":", 1)[0]  # the milliseconds follow a colon
    return datetime.strptime(whole, "%Y%m%d-%H:%M:%S").strftime(SECOND)


SETS = {
    s.name: s
    for s in (
        LoghubSet("Apache", _text("%a %b %d %H:%M:%S %Y", "Time"), "[<time>] [<level>] <message>",
                  level_column="Level", service="Apache_2k"),
        LoghubSet("BGL", _epoch("Timestamp"),
                  "<_> <time> <_> <node> <_> <_> <type> <component> <level> <message>",
                  level_column="Level", service_column="Component"),
        LoghubSet("HDFS", _text("%y%m%d %H%M%S", "Date", "Time", pad=6),
                  "<date> <time> <pid> <level> <logger>: <message>",
                  level_column="Level", service="HDFS_2k"),
        LoghubSet("HealthApp", _healthapp_time, "<time>|<component>|<pid>|<message>",
                  service_column="Component"),
        LoghubSet("HPC", _epoch("Time"), "<_> <node> <component> <state> <time> <flag> <message>",
                  service_column="Component"),
        LoghubSet("Linux", _text("%b %d %H:%M:%S", "Month", "Date", "Time", shown=NO_YEAR),
                  "<month> <day> <time> <host> <program>: <message>", has_year=False,
                  service_column="Component", detected_service_column="Component"),
        LoghubSet("OpenSSH", _text("%b %d %H:%M:%S", "Date", "Day", "Time", shown=NO_YEAR),
                  "<month> <day> <time> <host> <program>[<pid>]: <message>", has_year=False,
                  service="sshd"),
        LoghubSet("Proxifier", _text("%m.%d %H:%M:%S", "Time", shown=NO_YEAR), "[<time>] <program> - <message>",
                  has_year=False, service_column="Program"),
    )
}


def truth_rows(name: str) -> list[dict[str, str]]:
    with (LOGHUB / name / f"{name}_2k.truth.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_set(name: str, pattern: str | None = None) -> tuple[FileSource, dict[int, LogRecord]]:
    rules = FormatRules.from_settings({"files": [{"format": pattern}]} if pattern else None)
    source = FileSource(str(LOGHUB / name / f"{name}_2k.log"), formats=rules)
    records = source.fetch(EVERYTHING).records
    return source, {int(r.origin.rsplit(":", 1)[1]): r for r in records}


def time_agreement(spec: LoghubSet, records: dict[int, LogRecord], rows: list[dict[str, str]]) -> float:
    shown = SECOND if spec.has_year else NO_YEAR
    agree = sum(
        1
        for row in rows
        if (r := records.get(int(row["LineId"]))) is not None
        and r.timestamp.strftime(shown) == spec.time(row)
    )
    return agree / len(rows)


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}", end="")


@pytest.mark.parametrize("name", SETS)
def test_detection_alone_makes_one_record_per_line_at_its_time(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = SETS[name]
    source, records = read_set(name)
    rows = truth_rows(name)
    account = source.input_account().files[0]
    agreement = time_agreement(spec, records, rows)
    report(capsys, f"loghub {name} detected as {account.format!r}: {len(records)} records from "
           f"{account.counts.lines} lines, time agrees on {agreement:.1%}")
    assert (account.counts.records, account.counts.joined, account.counts.unparsed) == (2000, 0, 0)
    assert agreement >= 0.99


@pytest.mark.parametrize("name", SETS)
def test_one_declared_pattern_makes_one_record_per_line_at_its_time(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = SETS[name]
    source, records = read_set(name, spec.pattern)
    rows = truth_rows(name)
    agreement = time_agreement(spec, records, rows)
    account = source.input_account().files[0]
    report(capsys, f"loghub {name} with {spec.pattern!r}: {len(records)} records, time agrees "
           f"on {agreement:.1%}")
    assert (account.counts.records, account.counts.unparsed) == (2000, 0)
    assert agreement >= 0.99


@pytest.mark.parametrize("name", [n for n, s in SETS.items() if s.level_column])
@pytest.mark.parametrize("declared", [False, True], ids=["detected", "declared"])
def test_levels_agree_with_the_severity_column(
    name: str, declared: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = SETS[name]
    _, records = read_set(name, spec.pattern if declared else None)
    rows = truth_rows(name)
    column = spec.level_column
    assert column is not None
    agree = sum(
        1 for row in rows
        if records[int(row["LineId"])].level is Severity.parse(row[column], default=Severity.INFO)
    )
    report(capsys, f"loghub {name} levels ({'declared' if declared else 'detected'}): agree on "
           f"{agree / len(rows):.1%}")
    assert agree / len(rows) >= 0.99


@pytest.mark.parametrize("name", SETS)
def test_the_service_comes_from_the_column_that_names_it(name: str) -> None:
    spec = SETS[name]
    _, records = read_set(name, spec.pattern)
    for row in truth_rows(name):
        record = records[int(row["LineId"])]
        wanted = row[spec.service_column] if spec.service_column else spec.service
        assert record.service == wanted, (row, record.service)


@pytest.mark.parametrize("name", SETS)
def test_detection_alone_names_the_syslog_program_or_the_file(name: str) -> None:
    spec = SETS[name]
    _, records = read_set(name)
    column = spec.detected_service_column
    for row in truth_rows(name):
        record = records[int(row["LineId"])]
        if column:
            assert record.service == row[column]
        else:
            assert record.service == (spec.service if spec.service == "sshd" else f"{name}_2k")


def test_hdfs_keeps_the_java_class_as_the_logger_field() -> None:
    _, records = read_set("HDFS", SETS["HDFS"].pattern)
    first = truth_rows("HDFS")[0]
    assert records[1].fields["logger"] == first["Component"]
    assert records[1].message.startswith("PacketResponder 1 for block")
