"""Loki's answers as the analyzer reads them: log lines of a `streams` result, samples of a
`matrix` or `vector`, the few stats worth keeping.

Results come grouped by label set, not in time order; structured metadata arrives beside each
line only when asked for with the categorize-labels flag, and older Lokis merge it into the
stream labels instead, so both shapes are read. Pure: the HTTP exchange is `loki`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import LogRecord
from analyzer.sources import logql
from analyzer.sources.formats.ansi import plain_text
from analyzer.sources.records import parse_structured_line, record_from_mapping


@dataclass(slots=True)
class LokiEntry:
    """One log line as Loki returned it, before it becomes a LogRecord."""

    timestamp_ns: int
    line: str
    labels: dict[str, str]
    metadata: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        return (self.timestamp_ns, self.line, tuple(sorted(self.labels.items())))


def streams_entries(data: Mapping[str, Any]) -> tuple[list[LokiEntry], int]:
    """Flatten a `streams` result; count values that are not `[ts, line(, metadata)]`."""
    entries: list[LokiEntry] = []
    malformed = 0
    for stream in data.get("result") or []:
        labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
        for value in stream.get("values") or []:
            entry = _entry(value, labels)
            if entry is None:
                malformed += 1
            else:
                entries.append(entry)
    return entries, malformed


def _entry(value: Any, labels: dict[str, str]) -> LokiEntry | None:
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    try:
        timestamp_ns = int(value[0])
    except (TypeError, ValueError):
        return None
    extra = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
    return LokiEntry(
        timestamp_ns=timestamp_ns,
        # colour codes (a container with a TTY) hide levels and split templates: gone, as in files
        line=plain_text(value[1] if isinstance(value[1], str) else str(value[1])),
        labels=labels,
        metadata=dict(extra.get("structuredMetadata") or {}),
        parsed=dict(extra.get("parsed") or {}),
    )


def entries_to_records(entries: Sequence[LokiEntry]) -> tuple[list[LogRecord], int]:
    """Records from entries; a line that looks like JSON but does not parse counts as malformed
    and is kept as plain text."""
    records: list[LogRecord] = []
    malformed = 0
    origins: dict[tuple[tuple[str, str], ...], str] = {}
    for entry in entries:
        key = tuple(sorted(entry.labels.items()))
        origin = origins.get(key)
        if origin is None:
            origin = origins[key] = logql.stream_selector(entry.labels)
        records.append(_record(entry, origin))
        if entry.line.lstrip().startswith("{") and parse_structured_line(entry.line) is None:
            malformed += 1
    return records, malformed


def _record(entry: LokiEntry, origin: str) -> LogRecord:
    line_fields = parse_structured_line(entry.line) or {}
    # the line's own (typed) values win over Loki's string copies of them
    parsed = {k: v for k, v in entry.parsed.items() if not k.endswith("_extracted")}
    mapping = {**entry.metadata, **parsed, **line_fields}
    return record_from_mapping(
        mapping,
        timestamp_ns=entry.timestamp_ns,
        labels=entry.labels,
        raw=entry.line,
        origin=origin,
    )


_STATS_FIELDS = {
    "execTime": "exec_time_s",
    "queueTime": "queue_time_s",
    "totalLinesProcessed": "lines_processed",
    "totalBytesProcessed": "bytes_processed",
    "totalEntriesReturned": "entries_returned",
}


def _add_stats(stats: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Sum the few summary fields worth showing; the block's shape grows between versions."""
    stats["pages"] = stats.get("pages", 0) + 1
    summary = (data.get("stats") or {}).get("summary") or {}
    for source, target in _STATS_FIELDS.items():
        value = summary.get(source)
        if isinstance(value, int | float):
            stats[target] = round(stats.get(target, 0) + value, 6)


def iter_samples(data: Mapping[str, Any]) -> Iterator[tuple[dict[str, str], float, float]]:
    """(labels, unix seconds, value) from a matrix or vector result; values arrive as strings."""
    for series in data.get("result") or []:
        metric = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
        points = series.get("values")
        if points is None and series.get("value") is not None:
            points = [series["value"]]
        for ts, value in points or []:
            yield metric, float(ts), float(value)
