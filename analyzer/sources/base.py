"""The one seam every log source sits behind (like a transport in httpx)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from analyzer.model import LogRecord, Query, TimeRange

if TYPE_CHECKING:
    from analyzer.analysis.evidence import EvidenceSample
    from analyzer.analysis.plan import ReadPlan
    from analyzer.analysis.profile import TimeCounts, WindowProfile


@dataclass(slots=True)
class FetchResult:
    """Records in time order plus what the caller should know about how they were read."""

    records: list[LogRecord]
    window: TimeRange
    truncated: bool = False  # more lines matched than `limit`
    malformed_lines: int = 0
    queries: list[str] = field(default_factory=list)  # LogQL sent, for verbosity=detailed
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class WindowRead:
    """A source's answer to a window question: exact numbers and the evidence behind them."""

    plan: ReadPlan
    profile: WindowProfile
    evidence: EvidenceSample
    malformed_lines: int = 0
    queries: list[str] = field(default_factory=list)  # LogQL sent, for verbosity=detailed
    stats: dict[str, Any] = field(default_factory=dict)
    # the evidence already holds the lines of the requests that failed first (a source that
    # reads them with the window, Loki, saves the second read a round trip)
    requests_read: bool = False

    @property
    def window(self) -> TimeRange:
        return self.plan.window


@runtime_checkable
class LogSource(Protocol):
    """Fetch records for a query. `tenant` is Loki's X-Scope-OrgID; file sources ignore it."""

    name: str

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult: ...

    def read_window(self, query: Query, *, tenant: str | None = None) -> WindowRead:
        """The window's profile (exact counts) and a bounded evidence sample."""
        ...

    def read_around(
        self,
        plan: ReadPlan,
        anchors: list[tuple[int, int]],
        *,
        ids: dict[str, set[str]] | None = None,
        limit: int = 5000,
        tenant: str | None = None,
    ) -> EvidenceSample:
        """Lines inside the (start_ns, end_ns) spans, narrowed to ids when given."""
        ...

    def count_series(self, query: Query, step_s: int, *, tenant: str | None = None) -> TimeCounts:
        """Lines per service and level over the query's window, exact, at `step_s` or finer."""
        ...

    def sum_series(
        self, query: Query, field: str, by: str, step_s: int, *, tenant: str | None = None
    ) -> dict[tuple[str, str], dict[int, float]]:
        """Sums of a numeric field (tokens) per (`by` value, model), bucket start // step."""
        ...

    def services(self, *, tenant: str | None = None) -> list[str]: ...

    def label_values(self, label: str, *, tenant: str | None = None) -> list[str]: ...

    def now_ns(self) -> int:
        """The clock relative windows end at: wall time for Loki, the newest line for a replay."""
        ...

    def check(self) -> dict[str, Any]:
        """Readiness: {"ok": bool, "detail": str}."""
        ...


def sort_records(records: Iterable[LogRecord]) -> list[LogRecord]:
    return sorted(records, key=lambda r: r.timestamp_ns)
