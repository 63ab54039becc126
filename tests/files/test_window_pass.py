"""The window pass counts every line exactly whichever way it reads a line: the byte fast path
(`"key":"` or `"key": "`, `Z` or `+00:00`), a full parse (other keys, numbers as times, a cut
line), or by columns (a large file of one layout)."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from analyzer.model import Query, Severity
from analyzer.sources import files as files_module
from analyzer.sources.files import FileSource

BASE = 1_796_141_142  # epoch seconds


def stamp(second: float, style: str) -> str:
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(BASE + second, tz=UTC).isoformat(timespec="microseconds")
    return text if style == "offset" else text.replace("+00:00", "Z")


def write_lines(path: Path, rows: list[dict[str, object]], *, spaced: bool) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    path.write_text("".join(json.dumps(r, separators=separators) + "\n" for r in rows))


def rows(n: int, seed: int, style: str = "z") -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        level = rng.choice(["info", "info", "info", "warn", "error", "debug"])
        service = rng.choice(["api", "worker", "browser"])
        out.append({"timestamp": stamp(i * 0.01, style), "level": level, "service": service,
                    "message": f"event {rng.randrange(50)} for req-{rng.getrandbits(32):08x}"})  # fmt: skip
    return out


def expected(data: list[dict[str, object]]) -> Counter[tuple[str, Severity]]:
    return Counter((str(r["service"]), Severity.parse(r["level"])) for r in data)


def window_query() -> Query:
    return Query(start=str(BASE - 1), end=str(BASE + 100_000))


@pytest.mark.parametrize("spaced", [False, True], ids=["compact", "json.dumps"])
@pytest.mark.parametrize("style", ["z", "offset"])
def test_every_line_is_counted_whatever_the_separators_and_utc_spelling(
    tmp_path: Path, spaced: bool, style: str
) -> None:
    data = rows(3000, 1, style)
    write_lines(tmp_path / "app.jsonl", data, spaced=spaced)
    profile = FileSource(str(tmp_path)).read_window(window_query()).profile
    assert Counter(profile.totals) == expected(data)


def test_lines_of_another_shape_in_the_same_file_are_parsed_and_counted(tmp_path: Path) -> None:
    data = rows(2000, 2)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in data)
    odd = [
        {"level": "error", "service": "api", "timestamp": stamp(5, "z"), "message": "keys reordered"},
        {"ts": BASE + 6, "level": "warn", "service": "worker", "msg": "epoch number as time"},
    ]
    text += "".join(json.dumps(r) + "\n" for r in odd)
    text += '{"timestamp":"' + stamp(7, "z") + '","level":"error","service":"api","message":"cut\n'
    (tmp_path / "app.jsonl").write_text(text)
    read = FileSource(str(tmp_path)).read_window(window_query())
    want = expected(data) + Counter({("api", Severity.ERROR): 1, ("worker", Severity.WARN): 1})
    assert Counter(read.profile.totals) == want
    assert read.malformed_lines == 1


def test_a_large_file_read_by_columns_counts_as_one_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = rows(60_000, 3)
    write_lines(tmp_path / "app.jsonl", data, spaced=True)
    by_columns = FileSource(str(tmp_path)).read_window(window_query()).profile
    monkeypatch.setattr(files_module, "COLUMNAR_MIN_BYTES", 1 << 62)
    by_lines = FileSource(str(tmp_path)).read_window(window_query()).profile
    assert Counter(by_columns.totals) == Counter(by_lines.totals) == expected(data)
    assert by_columns.first_ns == by_lines.first_ns
    groups = lambda p: {(g.service, g.level, g.key): g.count for g in p.groups}  # noqa: E731
    assert groups(by_columns) == groups(by_lines)
