"""The shortcuts of text reading give the answers the plain reading gives: syslog read by byte
positions as its regex reads it, records built only when asked for, and records that continue
over a block's end read whole by a later narrow read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer.model import Query
from analyzer.sources.files import BLOCK_RECORDS, FileSource
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.registry import spec_named
from analyzer.sources.formats.text import RegexFormat

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SYSLOG_SAMPLES = [
    FIXTURES / "formats" / "syslog",
    FIXTURES / "loghub2k" / "Linux" / "Linux_2k.log",
    FIXTURES / "loghub2k" / "OpenSSH" / "OpenSSH_2k.log",
]
ODD_SYSLOG_LINES = [
    b"Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2",
    b"Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
    b"Nov 24 08:05:05 web01 last message repeated 3 times",
    b"Nov 24 08:05:05 web01 kernel:",
    b"Nov 24 08:05:05 web01 a[b]c: not a tag",
    b"<999>Nov 24 08:05:05 web01 x: bad pri",
    b"Nov 24 08:05:05  leading space host",
    b"Feb 30 08:05:05 web01 x: no such day",
]


def syslog_lines() -> list[bytes]:
    lines = [line for path in SYSLOG_SAMPLES for line in path.read_bytes().splitlines()]
    return lines + ODD_SYSLOG_LINES


def test_syslog_by_byte_positions_reads_what_its_regex_reads() -> None:
    spec = spec_named("syslog")
    assert spec is not None
    ctx = LineContext("file-stem", "syslog", 2026, int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1e9))
    fast, plain = spec.bind(ctx), RegexFormat(spec, ctx)
    assert type(fast) is not RegexFormat
    for line in syslog_lines():
        assert fast.summary(line) == plain.summary(line), line


def _stamp(seconds: int) -> str:
    return (datetime(2026, 11, 24, tzinfo=UTC) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%d %H:%M:%S,000"
    )


@pytest.fixture
def java_log(tmp_path: Path) -> Path:
    """Java lines, every seventh with a stack trace, long enough to fill several blocks."""
    path = tmp_path / "shop.log"
    with path.open("w") as out:
        for i in range(BLOCK_RECORDS * 3):
            level = "ERROR" if i % 7 == 0 else "INFO "
            out.write(f"{_stamp(i)} {level} [main] com.shop.Orders:{i} - order {i}\n")
            if i % 7 == 0:
                out.write("java.lang.IllegalStateException: out of stock\n")
                out.write(f"\tat com.shop.Orders.place(Orders.java:{i})\n")
    return path


def test_a_narrow_read_of_an_indexed_text_file_gives_the_records_of_a_whole_read(
    java_log: Path,
) -> None:
    day = Query(start="2026-11-24T00:00:00Z", end="2026-11-25T00:00:00Z")
    source = FileSource(str(java_log), max_cached_records=0)
    whole = {r.origin: r.message for r in source.fetch(day).records}  # builds the index
    for second in (0, BLOCK_RECORDS - 1, BLOCK_RECORDS, BLOCK_RECORDS + 1, 2 * BLOCK_RECORDS + 5):
        moment = datetime(2026, 11, 24, tzinfo=UTC) + timedelta(seconds=second)
        result = source.fetch(Query(start=moment, end=moment + timedelta(milliseconds=500)))
        assert [(r.origin, r.message) for r in result.records] == [
            (origin, message) for origin, message in whole.items() if f"order {second}" == message.split("\n")[0]
        ]
        assert result.stats["records_parsed"] <= 2 * BLOCK_RECORDS


def test_text_records_are_built_only_when_asked_for(java_log: Path) -> None:
    source = FileSource(str(java_log))
    errors = source.fetch(
        Query(start="2026-11-24T00:00:00Z", end="2026-11-25T00:00:00Z", severity_threshold="error")
    ).records
    assert len(errors) == len(range(0, BLOCK_RECORDS * 3, 7))
    assert errors[0].message == (
        "order 0\njava.lang.IllegalStateException: out of stock\n\tat com.shop.Orders.place(Orders.java:0)"
    )
    assert errors[0].fields["logger"] == "com.shop.Orders" and errors[0].fields["line"] == "0"
