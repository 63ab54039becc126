"""Log line formats: which format a file is in, and how each format's lines are read.

`detect_path` picks a file's format from its first lines; `FormatRules` holds the formats a
user declares (`--log-format`, `formats:` in the settings); `InputAccount` is what a source
tells about every file it read or skipped. The formats: `text_formats.yaml` (text layouts and
time shapes, as data), `structured.py` (JSON ecosystems, logfmt), `text.py` (the regex engine,
the syslog reader, learned and timeless formats), `levels.py` (Loki's `detected_level`),
`times.py` (layouts, zones, missing years).
"""

from analyzer.sources.formats.account import FileAccount, InputAccount, ScanCounts
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.declared import FormatError, FormatRules, declared
from analyzer.sources.formats.detect import detect, detect_path
from analyzer.sources.formats.registry import format_names
from analyzer.sources.formats.sniff import Sniffed, sniff
from analyzer.sources.formats.text import LineFormat

__all__ = [
    "FileAccount",
    "FormatError",
    "FormatRules",
    "InputAccount",
    "LineContext",
    "LineFormat",
    "ScanCounts",
    "Sniffed",
    "declared",
    "detect",
    "detect_path",
    "format_names",
    "sniff",
]
