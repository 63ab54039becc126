"""The log-field vocabulary of `log_fields.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

FIELDS_FILE = Path(__file__).resolve().parent / "log_fields.yaml"


@dataclass(frozen=True)
class LogFields:
    json_fields: frozenset[str]
    index_labels: frozenset[str]
    high_cardinality: frozenset[str]


@cache
def log_fields() -> LogFields:
    data = yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8"))
    return LogFields(
        json_fields=frozenset(data["json_fields"]),
        index_labels=frozenset(data["index_labels"]),
        high_cardinality=frozenset(data["high_cardinality"]),
    )
