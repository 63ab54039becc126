"""Pointed at a machine's /var/log, every file is either read or named as skipped with the reason,
and every line is a record, a line joined into the record before it, or counted as unparsed
with a sample: in the source's account, the answer's metadata and the command line's header."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.errors import SourceUnavailable
from analyzer.model import Query
from analyzer.sources.files import FileSource

FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")


@pytest.fixture
def var_log(tmp_path: Path) -> Path:
    """A Debian machine's /var/log in miniature: syslog files without a suffix, rotated and
    compressed ones, package logs, a log without times, binary login records, an empty file,
    a journald journal, a README, and a JSON log with a line that is no JSON."""
    root = tmp_path / "log"
    root.mkdir()
    syslog = (FORMATS / "syslog").read_bytes()
    (root / "syslog").write_bytes(syslog)
    (root / "auth.log").write_bytes(syslog)
    with gzip.open(root / "syslog.2.gz", "wb") as handle:
        handle.write(syslog)
    with bz2.open(root / "kern.log.1.bz2", "wb") as handle:
        handle.write(syslog)
    shutil.copytree(FORMATS / "apt", root / "apt")
    with lzma.open(root / "apt" / "eipp.log.xz", "wb") as handle:
        handle.write(b"Request: EIPP 0.1\nPlanner: internal\n\nPackage: nginx\nVersion: 1.22.1-9\n")
    shutil.copy(FORMATS / "dpkg.log", root / "dpkg.log")
    shutil.copy(FORMATS / "alternatives.log", root / "alternatives.log")
    (root / "fontconfig.log").write_text("Font directories:\n\t/usr/share/fonts\n\t/usr/local/share/fonts\n")
    (root / "wtmp").write_bytes(b"\x07\x00\x00\x00\x8a\x11\x00\x00tty1" + b"\x00" * 372)
    (root / "btmp").write_bytes(b"")
    (root / "journal" / "3f0c").mkdir(parents=True)
    (root / "journal" / "3f0c" / "system.journal").write_bytes(b"LPKSHHRH\x00\x00\x00\x01" + b"\x00" * 64)
    (root / "README").write_text("You are looking for the traditional text log files in /var/log,\nand they are gone?\n")
    (root / "private").mkdir()
    (root / "nginx").mkdir()
    shutil.copy(FORMATS / "nginx" / "access.log", root / "nginx" / "access.log")
    (root / "app.jsonl").write_text(
        '{"time":"2026-11-24T08:00:00Z","level":"info","msg":"started"}\n'
        "panic output that is no JSON\n"
        '{"time":"2026-11-24T08:00:01Z","level":"error","msg":"failed"}\n'
    )
    (root / ".hidden").write_text("not listed\n")
    return root


def every_file(root: Path) -> set[str]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found |= {str((Path(dirpath) / f).relative_to(root)) for f in filenames if not f.startswith(".")}
    return found


def test_every_file_is_read_or_skipped_with_its_reason(var_log: Path) -> None:
    account = FileSource(str(var_log)).input_account()
    read = {a.file for a in account.files}
    skipped = {s["file"]: s["reason"] for s in account.skipped}
    assert read | set(skipped) == every_file(var_log)
    assert not read & set(skipped)
    assert skipped == {
        "README": "no timestamps in its first lines and not named like a log",
        "btmp": "empty",
        "journal/3f0c/system.journal": "systemd journal (binary): export it with journalctl -o json",
        "wtmp": "binary login records (read them with last)",
    }


def test_compressed_and_rotated_files_are_read(var_log: Path) -> None:
    formats = {a.file: a.format for a in FileSource(str(var_log)).input_account().files}
    assert formats["syslog.2.gz"] == formats["kern.log.1.bz2"] == formats["syslog"] == "syslog"
    assert formats["apt/eipp.log.xz"] == "no timestamps"
    assert formats["fontconfig.log"] == "no timestamps"


def test_each_file_accounts_for_every_line(var_log: Path) -> None:
    account = FileSource(str(var_log)).input_account()
    for file in account.files:
        c = file.counts
        assert c.records + c.joined + c.blank + c.unparsed == c.lines, file.file


def test_a_line_no_format_reads_is_counted_with_a_sample(var_log: Path) -> None:
    source = FileSource(str(var_log))
    app = next(a for a in source.input_account().files if a.file == "app.jsonl")
    assert (app.counts.records, app.counts.unparsed) == (2, 1)
    assert app.counts.samples == [{"line": 2, "text": "panic output that is no JSON"}]
    assert source.fetch(EVERYTHING).malformed_lines == 1


def test_the_answer_says_what_was_read_and_skipped(var_log: Path) -> None:
    read = FileSource(str(var_log)).read_window(EVERYTHING)
    notes = read.profile.coverage()["notes"]
    assert any(n.startswith("read 12 files: alternatives.log (alternatives: 2 lines") for n in notes)
    assert any(n.startswith("4 files skipped: README (no timestamps") for n in notes)
    assert any(
        n == "app.jsonl: 1 of 3 lines could not be parsed, e.g. line 2: 'panic output that is no JSON'"
        for n in notes
    )
    assert read.stats["input"]["unparsed"] == 1
    assert read.stats["input"]["files_skipped"] == 4


def test_the_command_line_header_says_what_was_read_skipped_and_unparsed(
    var_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--source", str(var_log), "--time-range", "3650d"]) == 0
    header = capsys.readouterr().out.split("\n\n", 1)[0].splitlines()
    [account] = [line for line in header if line.startswith("input: ")]
    assert account.startswith("input: 12 files read (syslog: 4, no timestamps: 2, apt: 2, ")
    assert account.endswith(
        " · 4 skipped · 78 lines → 61 records · 11 joined as continuation lines · 5 blank · 1 unparsed"
    )  # every line is one of these: 61 + 11 + 5 + 1 = 78
    at = header.index(account)
    assert header[at + 1].startswith("  4 files skipped: README (no timestamps in its first lines")
    assert header[at + 2].startswith("  app.jsonl: 1 of 3 lines could not be parsed")


def test_a_file_named_alone_is_read_even_without_a_log_name(var_log: Path) -> None:
    assert [a.file for a in FileSource(str(var_log / "syslog")).input_account().files] == ["syslog"]


def test_a_file_named_alone_that_is_no_text_says_why(var_log: Path) -> None:
    with pytest.raises(SourceUnavailable) as caught:
        FileSource(str(var_log / "wtmp")).fetch(EVERYTHING)
    assert "wtmp: binary login records" in caught.value.message


def test_a_broken_link_is_named(var_log: Path) -> None:
    (var_log / "current").symlink_to(var_log / "gone.log")
    skipped = {s["file"]: s["reason"] for s in FileSource(str(var_log)).input_account().skipped}
    assert skipped["current"] == "a broken symbolic link"


def test_a_text_log_with_a_stray_nul_byte_is_read_not_skipped_as_binary(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(
        b"2026-12-01T10:00:02Z WARN bad \xff\xfe bytes \x00 after a crash\n2026-12-01T10:00:03Z ERROR next\n"
    )
    source = FileSource(str(tmp_path))
    assert [r.level.label for r in source.fetch(EVERYTHING).records] == ["warn", "error"]
    assert source.input_account().skipped == []


def test_a_json_line_nested_deeper_than_a_parser_goes_is_counted_and_the_rest_read(tmp_path: Path) -> None:
    deep = '{"time":"2026-12-01T10:00:00Z","msg":"deep","a":' + "[" * 5000 + "]" * 5000 + "}"
    (tmp_path / "app.jsonl").write_text(deep + '\n{"time":"2026-12-01T10:00:01Z","msg":"fine"}\n')
    source = FileSource(str(tmp_path))
    assert [r.message for r in source.fetch(EVERYTHING).records] == ["fine"]
    assert source.input_account().files[0].counts.unparsed == 1
