"""The known formats, loaded once from `text_formats.yaml`: text specs in priority order, time
shapes (`time_shapes`), and the shape of a line that continues the record before it."""

from __future__ import annotations

import re
from functools import lru_cache

from analyzer.sources.formats.text import TextSpec, load_specs
from analyzer.sources.formats.time_shapes import (
    TimeShape,
    formats_document,
    guess_reader,
    time_shapes,
)

__all__ = ["CONTINUATION", "TimeShape", "format_names", "guess_reader", "spec_named", "text_specs",
           "time_shapes"]

# A line that belongs to the record before it, in any format: indented lines (stack frames,
# wrapped text), Java's `Caused by:` / `... 12 more`, Python's traceback header, its chained
# exception lines and its last line (`ValueError: bad input`), Go's panics and goroutine dumps
# (with their frames: `main.main()`),
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
    rb"|goroutine \d+ \[|panic: |\[signal |created by "
    rb"|(?:[\w.-]+/)*[\w-]+\.[\w.*()$-]*\([^\n]*\)\s*$"  # a Go stack frame: net/http.(*conn).serve(...)
    rb"|[\]})][,;]?\s*$"
)


@lru_cache(maxsize=1)
def text_specs() -> list[TextSpec]:
    return load_specs(formats_document()["formats"])


def spec_named(name: str) -> TextSpec | None:
    wanted = name.strip().lower()
    for spec in text_specs():
        if spec.name == wanted:
            return spec
    return None


def format_names() -> list[str]:
    return ["json", "logfmt", *(spec.name for spec in text_specs())]
