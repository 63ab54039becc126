"""What a time looks like inside a line: the `time_shapes` of `text_formats.yaml`.

Apart from the text formats so that a format can recognise its time's shape on its first line
(`guess_reader`) without importing the registry that builds formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from analyzer.sources.formats.times import ZONE_NAME_REGEX, TimeReader, compile_layout

FORMATS_FILE = Path(__file__).with_name("text_formats.yaml")
# written in a regex of the YAML where a zone name may follow a time; the names times.py reads
ZONE_TOKEN = "%ZONE%"


@lru_cache(maxsize=1)
def formats_document() -> dict[str, Any]:
    document = yaml.safe_load(FORMATS_FILE.read_text())
    for section in ("formats", "time_shapes"):
        for entry in document[section]:
            entry["regex"] = entry["regex"].replace(ZONE_TOKEN, ZONE_NAME_REGEX)
    return document


@dataclass(frozen=True)
class TimeShape:
    """What a time looks like inside a line (see `time_shapes` in the YAML)."""

    name: str
    regex: str
    time: list[str]
    epoch: bool = False

    @property
    def search(self) -> re.Pattern[bytes]:
        return _boxed_search(self.regex)


@lru_cache(maxsize=64)
def _boxed_search(regex: str) -> re.Pattern[bytes]:
    return re.compile((r"(?<![\w.:/+-])(?:" + regex + r")(?![\w:/])").encode())


@lru_cache(maxsize=1)
def time_shapes() -> list[TimeShape]:
    shapes = []
    for entry in formats_document()["time_shapes"]:
        layouts = entry["layout"]
        layouts = [layouts] if isinstance(layouts, str) else list(layouts)
        for layout in layouts:
            compile_layout(layout)  # a broken layout fails at load, not on some line
        shapes.append(TimeShape(entry["name"], entry["regex"], layouts, bool(entry.get("epoch"))))
    return shapes


@lru_cache(maxsize=1)
def _full_shapes() -> list[tuple[re.Pattern[str], TimeShape]]:
    return [(re.compile(shape.regex), shape) for shape in time_shapes()]


def guess_reader(text: str, tz: tzinfo, anchor_ns: int | None) -> TimeReader | None:
    """A reader for the shape of `text` (a whole time, as a declared format captures it),
    None when no shape reads it."""
    text = text.strip()
    for pattern, shape in _full_shapes():
        if pattern.fullmatch(text):
            reader = TimeReader(shape.time, tz, anchor_ns)
            if reader.read_text(text) is not None:
                return reader
    return None
