"""What the targets of one `/query` share: the panel's window and grid, records read once per
distinct filter set, and each target's query built from its payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from analyzer.analysis import series
from analyzer.analysis.conversations import AIRequest, ai_requests
from analyzer.analysis.filters import record_filter
from analyzer.analysis.pipeline import Analysis, analyze_records
from analyzer.analysis.pricing import PriceTable, load_prices
from analyzer.analysis.profile import TimeCounts
from analyzer.errors import InvalidParameter
from analyzer.model import LogRecord, Query, Severity, TimeRange
from analyzer.services import Services
from analyzer.sources.base import WindowRead
from analyzer.web.datasource.filters import RecordFilter
from analyzer.web.datasource.requests import Notices, TargetPayload, clean, variable_values

FETCH_LIMIT = 50_000  # records read for one panel; Loki pages beyond its own 5000 cap


def analysis_query(payload: TargetPayload, window: TimeRange, ref_id: str) -> Query:
    values: dict[str, Any] = {
        "services": variable_values(payload.services),
        **window.edges(),
        "limit": 10_000,
        "cache": False,
    }
    for name in ("mode", "workspace_id", "correlation_id"):
        value = clean(getattr(payload, name))
        if value is not None:
            values[name] = value
    severity = clean(payload.severity)
    if severity is not None:
        values["severity_threshold"] = severity
    try:
        return Query.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidParameter(
            f"invalid payload value '{where}' in target {ref_id}: {message}",
            suggestion="POST /grafana/metrics lists each target's payload options and values.",
            details={"refId": ref_id, "parameter": where},
        ) from None


class PanelData:
    """Records for the targets of one /query request, read once per distinct filter set."""

    def __init__(self, svc: Services, tenant: str, window: TimeRange, adhoc: list[RecordFilter]):
        self.svc = svc
        self.tenant = tenant
        self.window = window
        self.adhoc = adhoc
        self._fetched: dict[str, list[LogRecord]] = {}
        self._reads: dict[str, Any] = {}

    def records(self, query: Query) -> list[LogRecord]:
        key = query.model_dump_json(include={"services", "workspace_id", "correlation_id"})
        if key not in self._fetched:
            fetched = self.svc.source.fetch(query, tenant=self.tenant, limit=FETCH_LIMIT)
            keep = record_filter(query.model_copy(update={"severity_threshold": None}))
            self._fetched[key] = [
                r
                for r in fetched.records
                if self.window.contains(r.timestamp_ns)
                and keep(r)
                and all(f(r) for f in self.adhoc)
            ]
        records = self._fetched[key]
        if query.severity_threshold is not None:
            records = [r for r in records if r.level >= query.severity_threshold]
        return records

    def analysis(self, query: Query) -> Analysis:
        return analyze_records(self.records(query), query, self.window)

    # -- numbers counted where the logs live (time series over any window) ---------------------

    def counted_query(
        self, query: Query, notices: Notices, keyed: tuple[str, ...] = ("service", "level")
    ) -> Query:
        """The query a count reads: its services and workspace, the ad-hoc filters that name a
        workspace; those on `keyed` apply to the counts' keys, the others are said not to."""
        update: dict[str, Any] = {"severity_threshold": None}
        for f in self.adhoc:
            if f.key == "workspace_id" and f.operator == "=" and f.value:
                update["workspace_id"] = f.value
            elif f.key not in keyed:
                notices.warn(
                    f"ad-hoc filter {f.key} {f.operator} {f.value!r} does not apply to counts of "
                    "the whole window (it narrows the tables)"
                )
        return query.model_copy(update=update)

    def keeps_cell(self, service: str, level: Severity) -> bool:
        probe = LogRecord(0, service, level, "")
        return all(f(probe) for f in self.adhoc if f.key in ("service", "level"))

    def keeps_model(self, model: str) -> bool:
        probe = LogRecord(0, "", Severity.INFO, "", model=model)
        return all(f(probe) for f in self.adhoc if f.key == "model")

    def counts(self, query: Query, step_s: int) -> TimeCounts:
        key = "counts:" + query.model_dump_json(include={"services", "workspace_id", "correlation_id"})
        if key not in self._reads:
            self._reads[key] = self.svc.source.count_series(query, step_s, tenant=self.tenant)
        return self._reads[key]

    def sums(self, query: Query, field: str, by: str, step_s: int) -> dict[tuple[str, str], dict[int, float]]:
        key = f"sums:{field}:{by}:" + query.model_dump_json(include={"services", "workspace_id"})
        if key not in self._reads:
            self._reads[key] = self.svc.source.sum_series(query, field, by, step_s, tenant=self.tenant)
        return self._reads[key]

    def window_read(self, query: Query) -> WindowRead:
        key = "read:" + query.model_dump_json(include={"services", "workspace_id", "correlation_id"})
        if key not in self._reads:
            self._reads[key] = self.svc.source.read_window(query, tenant=self.tenant)
        return self._reads[key]

    def prices(self) -> PriceTable:
        return load_prices(self.svc.settings.prices_file)


class TargetContext:
    """One target of the panel: its payload, the query built from it, and the notices its frames
    carry."""

    def __init__(
        self,
        data: PanelData,
        grid: series.Grid,
        payload: TargetPayload,
        ref_id: str,
        notices: Notices,
    ):
        self.data = data
        self.grid = grid
        self.payload = payload
        self.ref_id = ref_id
        self.notices = notices
        self.query = analysis_query(payload, data.window, ref_id)

    @property
    def records(self) -> list[LogRecord]:
        return self.data.records(self.query)

    @property
    def ai_requests(self) -> list[AIRequest]:
        """AI requests (one per correlation id), the unit tokens and cost are counted in."""
        return ai_requests(self.records)

    def split_key(self) -> tuple[str, Callable[[AIRequest], str | None]]:
        by = (clean(self.payload.by) or "model").lower()
        if by == "model":
            return "model", lambda q: q.model or "unknown"
        if by in ("workspace", "workspace_id"):
            return "workspace_id", lambda q: q.workspace_id
        raise InvalidParameter(
            f"invalid payload value 'by' in target {self.ref_id}: {by!r}",
            suggestion="Use by: model or by: workspace.",
            details={"refId": self.ref_id, "parameter": "by"},
        )
