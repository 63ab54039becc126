"""What a question needs read: the plan a source answers with a profile and evidence.

`ReadPlan.for_query` turns a Query and its window into the filters every counted line must
pass, the caps of the evidence sample and whether lines must be parsed whole (ids, exclude
patterns and the modes that look inside every line). Sources answer the same plan: files in one
streaming pass, Loki with metric queries and a few narrow log queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from analyzer.analysis.filters import filter_of
from analyzer.model import NS_PER_SECOND, LogRecord, Mode, Query, Severity, TimeRange

ONSET_LINES = 5  # first failure lines kept per service and error episode
GROUP_EXAMPLES = 3  # first lines kept per message group (and its last)
RECENT_LINES = 20  # newest warnings and errors kept per service
MAX_GROUPS = 20_000  # message groups counted exactly; past it, new groups count as "other"
EPISODE_GAP_NS = 120 * NS_PER_SECOND  # a service quiet this long starts a new error episode
REQUEST_ANCHORS = 8  # failing requests per episode whose lines are read as context
MAX_EVIDENCE_LINES = 20_000
TARGET_GROUP_BUCKETS = 240


@dataclass(frozen=True, slots=True)
class ReadPlan:
    window: TimeRange
    mode: Mode = Mode.TROUBLESHOOT
    services: frozenset[str] = frozenset()  # empty: every service
    threshold: Severity | None = None  # lines below it are neither counted nor kept
    ids: tuple[tuple[str, str], ...] = ()  # (field, value) every kept line must carry
    exclude_patterns: tuple[str, ...] = ()
    onset_lines: int = ONSET_LINES
    group_examples: int = GROUP_EXAMPLES
    recent_lines: int = RECENT_LINES
    max_groups: int = MAX_GROUPS
    episode_gap_ns: int = EPISODE_GAP_NS
    match_lines: int = 1000  # lines the mode selects, kept as evidence (performance, audit, ...)
    context_lines: int = 0  # include_context
    context_ns: int = 0  # context_window
    group_step_ns: int = field(default=0)

    @classmethod
    def for_query(cls, query: Query, window: TimeRange) -> ReadPlan:
        context_ns = 0
        if query.context_window:
            from analyzer.model import parse_duration

            context_ns = parse_duration(query.context_window) * NS_PER_SECOND
        return cls(
            window=window,
            mode=query.mode,
            services=frozenset(query.services),
            threshold=query.severity_threshold,
            ids=tuple(sorted(query.ids().items())),
            exclude_patterns=tuple(query.exclude_patterns),
            match_lines=max(query.limit, 100),
            context_lines=query.include_context,
            context_ns=context_ns,
            group_step_ns=group_step(window),
        )

    @property
    def filters_records(self) -> bool:
        """Lines must be parsed whole to decide whether they count (ids, exclude patterns)."""
        return bool(self.ids or self.exclude_patterns)

    @property
    def needs_every_record(self) -> bool:
        """The mode looks inside every line it selects (durations, audit words, conversations)."""
        return self.filters_records or self.mode in (Mode.PERFORMANCE, Mode.AUDIT, Mode.CONVERSATION)

    def keeps_service(self, service: str) -> bool:
        return not self.services or service in self.services

    def record_filter(self) -> Callable[[LogRecord], bool]:
        """The query's record filter (services, threshold, ids, exclude patterns)."""
        return filter_of(self.services, self.threshold, dict(self.ids), self.exclude_patterns)

    def excludes(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.exclude_patterns]


def group_step(window: TimeRange) -> int:
    """Buckets for message groups over time, the resolution incidents are cut at: a minute,
    or 1/240 of a long window, in whole seconds."""
    seconds = max(60, -(-int(window.seconds) // TARGET_GROUP_BUCKETS))
    return seconds * NS_PER_SECOND
