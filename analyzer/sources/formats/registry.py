"""The known formats, loaded once from `text_formats.yaml`: text specs in priority order, time
shapes, and the shape of a line that continues the record before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path

import yaml

from analyzer.sources.formats.text import TextSpec, load_specs
from analyzer.sources.formats.times import TimeReader, compile_layout

FORMATS_FILE = Path(__file__).with_name("text_formats.yaml")

# A line that belongs to the record before it, in any format: indented lines (stack frames,
# wrapped text), Java's `Caused by:` / `... 12 more`, Python's traceback header, its chained
# exception lines and its last line (`ValueError: bad input`), Go's panics and goroutine dumps,
# and the closing brackets of a dumped structure.
CONTINUATION = re.compile(
    rb"[ \t]"
    rb"|at [\w$.<>/]+[.(]"
    rb"|(?:Caused by|Suppressed|Wrapped by): "
    rb"|\.\.\. \d+ (?:more|common frames omitted)"
    rb"|Traceback \(most recent call last\):"
    rb"|During handling of the above exception"
    rb"|The above exception was the direct cause"
    rb"|(?:[\w$]+\.)*[\w$]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault)(?:: |:?\s*$)"
    rb"|goroutine \d+ \[|panic: |\[signal "
    rb"|[\]})][,;]?\s*$"
)


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
def _catalog() -> dict[str, object]:
    data = yaml.safe_load(FORMATS_FILE.read_text())
    specs = load_specs(data["formats"])
    shapes = []
    for entry in data["time_shapes"]:
        layouts = entry["layout"]
        layouts = [layouts] if isinstance(layouts, str) else list(layouts)
        for layout in layouts:
            compile_layout(layout)  # a broken layout fails at load, not on some line
        shapes.append(TimeShape(entry["name"], entry["regex"], layouts, bool(entry.get("epoch"))))
    return {"specs": specs, "shapes": shapes}


def text_specs() -> list[TextSpec]:
    return _catalog()["specs"]  # type: ignore[return-value]


def time_shapes() -> list[TimeShape]:
    return _catalog()["shapes"]  # type: ignore[return-value]


def spec_named(name: str) -> TextSpec | None:
    wanted = name.strip().lower()
    for spec in text_specs():
        if spec.name == wanted:
            return spec
    return None


def format_names() -> list[str]:
    return ["json", "logfmt", *(spec.name for spec in text_specs())]


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
