"""Error cascades: failures that spread across services within a short span.

Services are ordered by their first failure; a chain continues while each next service starts
failing within `span_seconds` of the previous one. The earliest service and the one the others
name most (from `root_cause.accuse`) are the root-cause candidates the cascade reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from analyzer.analysis.root_cause import Failure
from analyzer.model import NS_PER_SECOND

DEFAULT_SPAN_SECONDS = 300


@dataclass(slots=True)
class CascadeStep:
    service: str
    first_ns: int
    last_ns: int
    count: int
    sample: str


@dataclass(slots=True)
class Cascade:
    steps: list[CascadeStep]
    earliest: str
    most_referenced: str | None
    references: dict[str, int] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return [s.service for s in self.steps]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.steps)


def detect_cascades(failures: list[Failure], span_seconds: int = DEFAULT_SPAN_SECONDS) -> list[Cascade]:
    by_service: dict[str, list[Failure]] = {}
    for f in sorted(failures, key=lambda f: f.record.timestamp_ns):
        by_service.setdefault(f.record.service, []).append(f)
    steps = sorted(
        (
            CascadeStep(
                service=s,
                first_ns=fs[0].record.timestamp_ns,
                last_ns=fs[-1].record.timestamp_ns,
                count=len(fs),
                sample=fs[0].record.message,
            )
            for s, fs in by_service.items()
        ),
        key=lambda st: (st.first_ns, st.service),
    )
    return chain_steps(steps, failures, span_seconds)


def chain_steps(
    steps: list[CascadeStep], failures: list[Failure], span_seconds: int = DEFAULT_SPAN_SECONDS
) -> list[Cascade]:
    """Services in order of their first failure, chained while each starts within the span of
    the one before; chains of two or more are cascades. `failures` give the references."""
    steps = sorted(steps, key=lambda st: (st.first_ns, st.service))
    span_ns = span_seconds * NS_PER_SECOND
    chains: list[list[CascadeStep]] = []
    for step in steps:
        if chains and step.first_ns - chains[-1][-1].first_ns <= span_ns:
            chains[-1].append(step)
        else:
            chains.append([step])
    out = []
    for chain in chains:
        if len(chain) < 2:
            continue
        members = {s.service for s in chain}
        refs: Counter[str] = Counter()
        for f in failures:
            if f.record.service in members and f.accused != f.record.service and f.reason == "named":
                refs[f.accused] += max(1, round(f.weight))
        out.append(
            Cascade(
                steps=chain,
                earliest=chain[0].service,
                most_referenced=refs.most_common(1)[0][0] if refs else None,
                references=dict(refs.most_common()),
            )
        )
    return out
