"""Log line formats: which format a file is in, and how each format's lines are read.

`detect_path` picks a file's format from its first lines; `FormatRules` holds the formats a
user declares (`--log-format`, `formats:` in the settings); `InputAccount` is what a source
tells about every file it read or skipped. The formats: `text_formats.yaml` (text layouts and
time shapes, as data), `structured.py` (JSON ecosystems, logfmt), `text.py` (the regex engine,
the syslog reader, learned and timeless formats), `levels.py` (Loki's `detected_level`),
`times.py` (layouts, zones, missing years).
"""

from importlib import import_module
from typing import Any

# names -> the module that holds them, imported on first use: `records` reads `levels` while
# the formats read `records`, so the package itself must not import its modules eagerly
_WHERE = {
    "FileAccount": "account",
    "InputAccount": "account",
    "ScanCounts": "account",
    "LineContext": "context",
    "FormatError": "declared",
    "FormatRules": "declared",
    "declared": "declared",
    "detect": "detect",
    "detect_path": "detect",
    "format_names": "registry",
    "Sniffed": "sniff",
    "sniff": "sniff",
    "LineFormat": "text",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


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
