"""A window larger than every internal limit, generated at test time, and its exact counts.

`ai-logs demo window` writes about 430,000 lines for one hour at 60 lines a second with a cache
outage; its ground truth counts what was written. `count_lines` recounts any span of it line by
line (the test's own independent count, for spans the truth does not cover).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analyzer.demo.window import generate_window
from analyzer.model import instant_ns

HOURS = 1.0
RATE = 60.0
REDIS_LEVELS = {"#": "warn", "*": "info", ".": "debug", "-": "debug"}


@dataclass
class Window:
    path: Path
    truth: dict[str, Any]

    @property
    def start(self) -> str:
        return self.truth["window_start"]

    @property
    def end(self) -> str:
        return self.truth["window_end"]


@pytest.fixture(scope="session")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Window]:
    out = tmp_path_factory.mktemp("volume")
    truth = generate_window(out, hours=HOURS, rate=RATE, seed=11)
    assert truth["total_lines"] >= 200_000
    yield Window(out, truth)


def count_lines(
    window: Window, start_ns: int, end_ns: int, *, step_ns: int | None = None
) -> Counter[Any]:
    """Lines per (service, level) with start_ns <= time <= end_ns, read from the files; with
    `step_ns`, per (service, level, time // step_ns)."""
    counts: Counter[Any] = Counter()

    def note(service: str, level: str, ts: int) -> None:
        if start_ns <= ts <= end_ns:
            counts[(service, level) if step_ns is None else (service, level, ts // step_ns)] += 1

    for path in sorted(window.path.iterdir()):
        if path.suffix == ".jsonl":
            for line in path.open():
                row = json.loads(line)
                note(row["service"], row["level"], instant_ns(row["timestamp"]))
        elif path.suffix == ".log":
            for line in path.open():
                # redis's own format: `1:M 01 Dec 2026 16:35:43.000 # message`
                _, day, month, year, clock, char = line.split()[:6]
                moment = datetime.strptime(f"{day} {month} {year} {clock}", "%d %b %Y %H:%M:%S.%f")
                moment = moment.replace(tzinfo=UTC)
                note("redis", REDIS_LEVELS[char],
                     int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000)
    return counts
