"""Demo logs generated once per session, read into records the way a file source reads them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analyzer.demo import generate
from analyzer.model import LogRecord
from analyzer.sources.records import record_from_mapping


@dataclass
class Demo:
    path: Path
    truth: dict[str, Any]
    lines: list[dict[str, Any]]  # raw JSON lines, for computing expectations by hand
    records: list[LogRecord]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    truth = generate(out, seed=7)
    lines: list[dict[str, Any]] = []
    records: list[LogRecord] = []
    for path in sorted(out.glob("*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            data = json.loads(text)
            lines.append(data)
            records.append(record_from_mapping(data, raw=text, origin=f"{path.name}:{number}"))
    return Demo(out, truth, lines, records)
