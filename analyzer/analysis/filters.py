"""Record filters that mirror what the LogQL built from a Query selects.

Sources that cannot filter server-side (files) use `matches`; the pipeline applies it again
so a source that filters loosely can never widen the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping

from analyzer.model import LogRecord, Query, Severity


def record_filter(query: Query) -> Callable[[LogRecord], bool]:
    return filter_of(
        set(query.services), query.severity_threshold, query.ids(), query.exclude_patterns
    )


def filter_of(
    services: Collection[str],
    threshold: Severity | None,
    ids: Mapping[str, str],
    exclude_patterns: Iterable[str],
) -> Callable[[LogRecord], bool]:
    excludes = [re.compile(p) for p in exclude_patterns]

    def matches(record: LogRecord) -> bool:
        if services and record.service not in services:
            return False
        if threshold is not None and record.level < threshold:
            return False
        for name, wanted in ids.items():
            if getattr(record, name) != wanted:
                return False
        return not any(rx.search(record.message) for rx in excludes)

    return matches

