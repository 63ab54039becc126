"""The evidence sample: a bounded set of real lines chosen for the question.

Not "the newest N lines": a source keeps, for each service, the first lines of each error
episode (the onset is what names the root cause), a few lines of each message group (the first
and the last), the lines of the requests that failed first, lines around anchors when context is
asked for, and the newest warnings and errors. Each line says why it was kept. The profile
(`profile`) holds the numbers; this holds the words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import LogRecord

# why a line was kept
ONSET = "onset"  # among the first failures of a service's error episode
GROUP = "group"  # an example of a message group (first lines and the last)
REQUEST = "request"  # a line of a request that failed at an onset
CONTEXT = "context"  # near an anchor (include_context / context_window)
RECENT = "recent"  # among the newest warnings and errors of a service
MATCH = "match"  # a line the mode selects (performance, audit, conversation, ids)


def _key(record: LogRecord) -> tuple[int, str, str, str]:
    return (record.timestamp_ns, record.service, record.origin, record.message)


@dataclass(slots=True)
class EvidenceSample:
    """Lines in time order, each with the reasons it was kept; `limits` are the caps used."""

    records: list[LogRecord] = field(default_factory=list)
    reasons: list[frozenset[str]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def chosen(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for why in self.reasons:
            counts.update(why)
        return dict(sorted(counts.items()))

    def describe(self) -> dict[str, Any]:
        return {"lines": len(self.records), "chosen": self.chosen(), "limits": dict(self.limits)}


class EvidenceBuilder:
    """Collects lines from several passes, each once, with every reason it was offered for."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[int, str, str, str], int] = {}
        self._records: list[LogRecord] = []
        self._reasons: list[set[str]] = []

    def add(self, record: LogRecord, why: str) -> None:
        key = _key(record)
        index = self._by_key.get(key)
        if index is None:
            self._by_key[key] = len(self._records)
            self._records.append(record)
            self._reasons.append({why})
        else:
            self._reasons[index].add(why)

    def extend(self, records: Iterable[LogRecord], why: str) -> None:
        for record in records:
            self.add(record, why)

    def __len__(self) -> int:
        return len(self._records)

    def build(self, limits: dict[str, int] | None = None) -> EvidenceSample:
        order = sorted(range(len(self._records)), key=lambda i: self._records[i].timestamp_ns)
        return EvidenceSample(
            records=[self._records[i] for i in order],
            reasons=[frozenset(self._reasons[i]) for i in order],
            limits=dict(limits or {}),
        )


def merge(*samples: EvidenceSample) -> EvidenceSample:
    builder = EvidenceBuilder()
    limits: dict[str, int] = {}
    for sample in samples:
        limits.update(sample.limits)
        for record, why in zip(sample.records, sample.reasons, strict=True):
            for reason in why:
                builder.add(record, reason)
    return builder.build(limits)
