"""The account of the input: per file, its format, lines read, records made, lines joined into
the record before them, lines no format read (with samples), and the files skipped with why.

Nothing is dropped silently: a query's metadata and the command line's header carry this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 3
SAMPLE_CHARS = 200
MAX_LISTED = 20


def _count(n: int, word: str) -> str:
    """`1 file`, `12 files`, `1,036,222 lines`: a terminal reader counts digits otherwise."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass
class ScanCounts:
    """What one read of a file counted, beside its records."""

    lines: int = 0
    records: int = 0
    blank: int = 0
    joined: int = 0
    unparsed: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    other_formats: Counter[str] = field(default_factory=Counter)

    def note_unparsed(self, line_no: int, raw: bytes) -> None:
        if len(self.samples) < MAX_SAMPLES:
            text = raw.decode("utf-8", errors="replace")
            if len(text) > SAMPLE_CHARS:
                text = text[:SAMPLE_CHARS] + "…"
            self.samples.append({"line": line_no, "text": text})


@dataclass
class FileAccount:
    """One file read: see the module docstring."""

    file: str
    format: str
    counts: ScanCounts
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        out: dict[str, Any] = {
            "file": self.file,
            "format": self.format,
            "lines": c.lines,
            "records": c.records,
            "joined": c.joined,
            "unparsed": c.unparsed,
        }
        if c.blank:
            out["blank"] = c.blank
        if c.samples:
            out["unparsed_samples"] = list(c.samples)
        if c.other_formats:
            out["other_formats"] = dict(c.other_formats.most_common())
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class InputAccount:
    """Every file of a source: those read and those skipped."""

    files: list[FileAccount] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        counts = [f.counts for f in self.files]
        return {
            "files_read": len(self.files),
            "files_skipped": len(self.skipped),
            "lines": sum(c.lines for c in counts),
            "records": sum(c.records for c in counts),
            "joined": sum(c.joined for c in counts),
            "blank": sum(c.blank for c in counts),
            "unparsed": sum(c.unparsed for c in counts),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.totals(),
            "files": [f.to_dict() for f in self.files],
            "skipped": list(self.skipped),
        }

    def formats(self) -> Counter[str]:
        return Counter(f.format for f in self.files)

    def headline(self) -> str:
        """One line for a terminal: files read by format, skipped, lines, unparsed."""
        t = self.totals()
        formats = ", ".join(f"{name}: {n:,}" for name, n in self.formats().most_common())
        parts = [f"{_count(t['files_read'], 'file')} read ({formats})" if formats else "no file read"]
        if t["files_skipped"]:
            parts.append(f"{t['files_skipped']:,} skipped")
        parts.append(f"{_count(t['lines'], 'line')} → {_count(t['records'], 'record')}")
        if t["joined"]:
            parts.append(f"{t['joined']:,} joined as continuation lines")
        if t["blank"]:
            parts.append(f"{t['blank']:,} blank")
        parts.append(f"{t['unparsed']:,} unparsed")
        return " · ".join(parts)

    def notes(self) -> list[str]:
        """What a reader of an answer should know: each file read (format, lines, records,
        joined and unparsed lines), files skipped, samples of unparsed lines, times completed
        from the files' last change or read in a default zone."""
        return [*self._files_read(), *self._problems(), *self._time_notes()]

    def header(self, *, detailed: bool = False) -> list[str]:
        """Lines for the top of a terminal answer: the headline, the files skipped and the
        unparsed lines; each file read and how its times were completed when `detailed`."""
        notes = self.notes() if detailed else self._problems()
        return [f"input: {self.headline()}", *(f"  {note}" for note in notes)]

    def _files_read(self) -> list[str]:
        if not self.files:
            return []
        listed = "; ".join(
            f"{a.file} ({a.format}: {_count(a.counts.lines, 'line')}, "
            f"{_count(a.counts.records, 'record')}, {a.counts.joined:,} joined, "
            f"{a.counts.unparsed:,} unparsed)"
            for a in self.files[:MAX_LISTED]
        )
        more = (
            f"; and {len(self.files) - MAX_LISTED} more (verbosity=detailed lists them all)"
            if len(self.files) > MAX_LISTED
            else ""
        )
        return [f"read {_count(len(self.files), 'file')}: {listed}{more}"]

    def _problems(self) -> list[str]:
        """The files skipped and the lines no format read."""
        out = []
        if self.skipped:
            shown = "; ".join(f"{s['file']} ({s['reason']})" for s in self.skipped[:MAX_LISTED])
            more = (
                f" and {len(self.skipped) - MAX_LISTED} more"
                if len(self.skipped) > MAX_LISTED
                else ""
            )
            out.append(f"{_count(len(self.skipped), 'file')} skipped: {shown}{more}")
        for account in self.files:
            c = account.counts
            if c.unparsed:
                sample = c.samples[0] if c.samples else None
                example = f", e.g. line {sample['line']}: {sample['text'][:120]!r}" if sample else ""
                out.append(
                    f"{account.file}: {c.unparsed} of {c.lines} lines could not be parsed{example}"
                )
        return out

    def _time_notes(self) -> list[str]:
        """Each way times were completed, with the files it applies to."""
        grouped: dict[str, list[str]] = {}
        for account in self.files:
            for note in account.notes:
                grouped.setdefault(note, []).append(account.file)
        return [
            f"{note}: " + ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
            for note, files in grouped.items()
        ]
