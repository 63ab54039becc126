"""Ad-hoc filters as predicates over records.

Grafana 12 offers every ad-hoc operator on every datasource (`<`, `>`, one-of `=|`, not-one-of
`!=|`) and keys from other datasources of the dashboard. One filter that cannot apply must not
blank the panel: it is ignored, and the panel says so in a notice. A regex that does not compile
is the user's typo, and is still a 400 that names it.
"""

from __future__ import annotations

import re

from analyzer.errors import InvalidParameter
from analyzer.model import LogRecord, Severity
from analyzer.web.datasource.catalog import ADHOC_KEYS, ADHOC_OPERATORS
from analyzer.web.datasource.requests import AdhocFilter, Notices


class RecordFilter:
    """One ad-hoc filter whose key and operator apply to records."""

    def __init__(self, spec: AdhocFilter) -> None:
        self.key = spec.key
        self.operator = spec.operator
        self.value = spec.value
        self.values = set(spec.values if spec.values is not None else [spec.value])
        self.pattern: re.Pattern[str] | None = None
        if spec.operator in ("=~", "!~"):
            try:
                # anchored, as Grafana's ad-hoc regexes are for Prometheus and Loki
                self.pattern = re.compile(f"(?:{spec.value})")
            except re.error as exc:
                raise InvalidParameter(
                    f"ad-hoc filter {spec.key} {spec.operator} {spec.value!r} is not a valid "
                    f"regex: {exc}",
                    code="INVALID_REGEX",
                    suggestion="Fix the regular expression (Python/RE2 syntax, e.g. api|worker).",
                    details={"key": spec.key},
                ) from None
        self.levels: set[Severity] | None = None
        if self.key == "level" and spec.operator in ("=", "!=", "=|", "!=|"):
            self.levels = {Severity.parse(v, default=None) for v in self.values if v} - {None}  # type: ignore[arg-type]

    def _value_of(self, record: LogRecord) -> str:
        if self.key == "level":
            return record.level.label
        return str(getattr(record, self.key) or "")

    def __call__(self, record: LogRecord) -> bool:
        if self.levels is not None:
            same = record.level in self.levels
        elif self.pattern is not None:
            same = self.pattern.fullmatch(self._value_of(record)) is not None
        else:
            same = self._value_of(record) in self.values
        return same if self.operator in ("=", "=~", "=|") else not same


def record_filters(specs: list[AdhocFilter], notices: Notices) -> list[RecordFilter]:
    """The filters that apply; each one that cannot is named in a notice."""
    kept = []
    for spec in specs:
        if spec.key not in ADHOC_KEYS:
            notices.warn(
                f"ad-hoc filter {spec.key} {spec.operator} {spec.value!r} ignored: this "
                f"datasource filters on {', '.join(ADHOC_KEYS)}"
            )
        elif spec.operator not in ADHOC_OPERATORS:
            notices.warn(
                f"ad-hoc filter {spec.key} {spec.operator} {spec.value!r} ignored: operator "
                f"{spec.operator} does not apply here (use {' '.join(ADHOC_OPERATORS)})"
            )
        else:
            kept.append(RecordFilter(spec))
    return kept
