"""Which format a file is in, from its first lines.

Every known format reads the sample (the first `SAMPLE_LINES` lines that do not continue the
line before them); the first format in priority order that reads at least `NEAR_BEST` of what
the best one reads wins, so a specific layout (Spring Boot) is chosen over a general one
(ISO-prefixed) that reads the same lines. A file most of whose records (lines that do not
continue the one before) are JSON objects is JSON.
When no format reads half the sample, the place of a time in the lines is learned (a time of a
known shape at the same field in most lines); failing that, the best partial format is kept, and
a file with no time at all is `TimelessFormat`. Lines no format reads are not lost: the scanner
tries the other formats on each of them and counts what it cannot read.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from analyzer.sources.formats.ansi import plain_bytes
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.json_objects import load_object
from analyzer.sources.formats.registry import CONTINUATION, text_specs, time_shapes
from analyzer.sources.formats.sniff import head
from analyzer.sources.formats.structured import JsonFormat, LogfmtFormat, json_kind
from analyzer.sources.formats.text import LearnedFormat, LineFormat, TimelessFormat

SAMPLE_LINES = 200
HEAD_BYTES = 65_536
NEAR_BEST = 0.8
ENOUGH = 0.5  # a format (or a learned time) must read this share of the sample to be chosen


def sample_lines(head: bytes) -> list[bytes]:
    """The first lines of a file's head (a cut last line dropped), blank lines left out."""
    lines = head.split(b"\n")
    if len(head) >= HEAD_BYTES and len(lines) > 1:
        lines.pop()
    return [plain_bytes(line.rstrip(b"\r")) for line in lines if line.strip()][: SAMPLE_LINES * 4]


def detect(lines: list[bytes], ctx: LineContext) -> LineFormat:
    """The format of a file whose first non-blank lines are `lines`."""
    if not lines:
        return TimelessFormat(ctx, CONTINUATION)
    objects = [line for line in lines[:SAMPLE_LINES] if line.lstrip()[:1] == b"{"]
    if len(objects) * 2 >= min(len(lines), SAMPLE_LINES):
        for line in objects:
            data = load_object(line.strip())
            if isinstance(data, dict):
                return JsonFormat(json_kind(data))
        return JsonFormat("json")
    starts = [line for line in lines if not CONTINUATION.match(line)][:SAMPLE_LINES]
    if not starts:
        starts = lines[:SAMPLE_LINES]
    # JSON when most records are objects: a Go panic or a stack trace between JSON lines
    # continues the record before it and does not count against JSON
    objects = [data for line in starts if line.lstrip()[:1] == b"{"
               for data in [load_object(line.strip())] if data is not None]
    if objects and len(objects) * 2 >= len(starts):
        return JsonFormat(json_kind(objects[0]))
    candidates: list[LineFormat] = [spec.bind(ctx) for spec in text_specs()]
    candidates.append(LogfmtFormat(ctx))
    scores = [sum(1 for line in starts if fmt.summary(line) is not None) for fmt in candidates]
    best = max(scores)
    chosen = next(fmt for fmt, score in zip(candidates, scores, strict=True) if score >= best * NEAR_BEST)
    if best >= len(starts) * ENOUGH:
        return chosen
    learned = learn(starts, ctx)
    if learned is not None:
        return learned
    if best > 0:
        return chosen
    return TimelessFormat(ctx, CONTINUATION)


def learn(lines: list[bytes], ctx: LineContext) -> LineFormat | None:
    """A format for lines that keep a time of a known shape at the same field: the shape and
    field most lines agree on, the earliest field first (a header's time comes first)."""
    places: Counter[tuple[int, int]] = Counter()
    shapes = time_shapes()
    for line in lines:
        head = line[:160]
        seen: set[tuple[int, int]] = set()
        for index, shape in enumerate(shapes):
            for found in shape.search.finditer(head):
                # the fields before the time; a bracket that opens it belongs to its field
                field = len(head[: found.start()].rstrip(b"[(<").split())
                key = (field, index)
                if key not in seen:
                    seen.add(key)
                    places[key] += 1
    enough = len(lines) * ENOUGH
    for (field, index), count in sorted(places.items(), key=lambda item: (item[0][0], item[0][1])):
        if count < enough:
            continue
        fmt = LearnedFormat(shapes[index], field, ctx)
        read = sum(1 for line in lines if fmt.summary(line) is not None)
        if read >= enough:
            return fmt
    return None


_DETECTED: dict[tuple[str, int, int, str], LineFormat] = {}
_LOCK = threading.Lock()
_MAX_DETECTED = 4096


def detect_path(path: Path, ctx: LineContext) -> LineFormat:
    """`detect` on the file's first lines, remembered per file state (a byte range of a file
    is read in the format of its first lines), bound to `ctx`."""
    try:
        stat = path.stat()
    except OSError:
        return TimelessFormat(ctx, CONTINUATION)
    key = (str(path), stat.st_size, stat.st_mtime_ns, str(ctx.tz))
    found = _DETECTED.get(key)
    if found is None:
        try:
            lines = sample_lines(head(path, HEAD_BYTES))
        except (OSError, EOFError):
            lines = []
        found = detect(lines, ctx)
        with _LOCK:
            if len(_DETECTED) >= _MAX_DETECTED:
                _DETECTED.clear()
            _DETECTED[key] = found
        return found
    return found.rebind(ctx)
