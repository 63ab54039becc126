"""What reading the lines of one file needs to know beyond the lines themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.sources.formats.text import LineFormat


@dataclass(slots=True)
class LineContext:
    """The file's name (its default service), zone and last change (the year or date its times
    may leave out), its format once known, and the record before the current line."""

    stem: str
    origin_name: str
    year: int  # of the last change, in the file's zone
    mtime_ns: int
    previous_ts: int | None = None
    previous_plain: bool = False  # the record before takes continuation lines
    tz: tzinfo = UTC
    format: LineFormat | None = None  # detected from the file's first lines, or declared
    others: object | None = None  # the other formats, bound once (line_formats.OtherFormats)
