"""Grafana JSON datasource (`simpod-json-datasource`) under `/grafana/`.

The plugin's OpenAPI file fixes the protocol: `GET /` answers "Save & test"; `/metrics` lists
what can be queried and the payload each accepts; `/metric-payload-options` fills the payload
drop-downs; `/query` answers panels; `/variable` feeds dashboard variables; `/tag-keys` and
`/tag-values` feed ad-hoc filters. Every panel answer is a list of data frames (see `frames`).

Grafana sends more keys than the OpenAPI file lists (`scopedVars`, `requestId`, `timezone`, the
target's `datasource`, ...) and adds keys between versions, so the envelope models ignore
unknown keys; the target `payload`, which is ours, forbids them so a typo is reported.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer.analysis import correlate, series
from analyzer.analysis.conversations import AIRequest, ai_requests
from analyzer.analysis.filters import record_filter
from analyzer.analysis.pipeline import Analysis, analyze_records
from analyzer.analysis.pricing import PriceTable, load_prices
from analyzer.analysis.workspace import workspace_summary
from analyzer.errors import InvalidParameter
from analyzer.model import (
    NS_PER_SECOND,
    LogRecord,
    Mode,
    Query,
    Severity,
    TimeRange,
    format_timestamp,
    instant_ns,
    parse_duration,
)
from analyzer.services import Services
from analyzer.web import frames
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params

bp = Blueprint("grafana_datasource", __name__, url_prefix="/grafana")

FETCH_LIMIT = 50_000  # records read for one panel; Loki pages beyond its own 5000 cap
VALUES_LOOKBACK = "24h"  # where variable and tag values come from when no range is sent
TOP_SERIES = 10  # lines per time-series panel (patterns, models) before the rest is dropped
TOP_ROWS = 50
ADHOC_KEYS = ("service", "level", "workspace_id", "model")
ADHOC_OPERATORS = ("=", "!=", "=~", "!~")
VARIABLE_TARGETS = ("services", "workspaces", "models", "conversations")
# values Grafana puts in a payload for "all" or for an empty textbox variable
_ALL_VALUES = {"", "$__all", "all", ".+", ".*", "*"}
_UNRESOLVED_VARIABLE = re.compile(r"^\$\{?\w+(:\w+)?\}?$")


# ---- request models (the plugin's OpenAPI file, with what real Grafana adds ignored) ----


class RawTimeFrame(BaseModel):
    model_config = ConfigDict(extra="ignore")
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class PanelRange(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str = Field(alias="from", description="Start, RFC 3339 (Grafana sends UTC with ms).")
    to: str = Field(description="End, RFC 3339.")
    raw: RawTimeFrame | None = None


class TargetPayload(BaseModel):
    """The options a panel sets for a target (the plugin's builder mode shows them)."""

    model_config = ConfigDict(extra="forbid")
    mode: str | None = Field(None, description="Analysis mode: troubleshoot, errors, ...")
    services: str | list[str] | None = Field(None, description="Services; empty means all.")
    severity: str | None = Field(None, description="Lowest level kept: debug..fatal.")
    workspace_id: str | None = None
    correlation_id: str | None = None
    by: str | None = Field(None, description="token_usage / cost: model or workspace.")


class QueryTarget(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target: str | None = None
    refId: str = "A"
    payload: dict[str, Any] | str | None = None  # a string in the plugin's code mode
    hide: bool = False


class AdhocFilter(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str
    operator: str = "="
    value: str = ""


class GrafanaQueryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    panelId: int | str | None = None
    range: PanelRange
    rangeRaw: RawTimeFrame | None = None
    interval: str | None = None
    intervalMs: float | None = Field(None, ge=0)
    maxDataPoints: int | None = Field(None, ge=1)
    targets: list[QueryTarget]
    adhocFilters: list[AdhocFilter] = Field(default_factory=list)
    filters: list[AdhocFilter] = Field(default_factory=list)


class MetricsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: str | None = None
    payload: dict[str, Any] | None = None


class PayloadOptionsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: str
    payload: dict[str, Any] = Field(default_factory=dict)
    name: str


class VariablePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target: str


class VariableRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    payload: VariablePayload | str
    range: PanelRange | None = None


class TagValuesRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str


OPENAPI = [
    ("GET", "/grafana/", None, "Grafana datasource health (Save & test)."),
    ("POST", "/grafana/metrics", MetricsRequest, "Targets a panel can query, with payloads."),
    ("POST", "/grafana/metric-payload-options", PayloadOptionsRequest, "A payload's values."),
    ("POST", "/grafana/query", GrafanaQueryRequest, "Panel data as Grafana data frames."),
    ("POST", "/grafana/variable", VariableRequest, "Values for a dashboard variable."),
    ("POST", "/grafana/tag-keys", None, "Keys for ad-hoc filters."),
    ("POST", "/grafana/tag-values", TagValuesRequest, "Values of an ad-hoc filter key."),
]


# ---- what can be queried ----

_MODE = {"label": "Mode", "name": "mode", "type": "select",
         "options": [{"label": m.value, "value": m.value} for m in Mode]}  # fmt: skip
_SERVICES = {"label": "Services", "name": "services", "type": "multi-select",
             "placeholder": "all services"}  # fmt: skip
_SEVERITY = {"label": "Severity at least", "name": "severity", "type": "select",
             "options": [{"label": s.label, "value": s.label} for s in Severity]}  # fmt: skip
_WORKSPACE = {"label": "Workspace", "name": "workspace_id", "type": "select",
              "placeholder": "all workspaces"}  # fmt: skip
_CORRELATION = {"label": "Correlation id", "name": "correlation_id", "type": "input",
                "placeholder": "req-..."}  # fmt: skip
_BY = {"label": "Split by", "name": "by", "type": "select",
       "options": [{"label": "model", "value": "model"},
                   {"label": "workspace", "value": "workspace"}]}  # fmt: skip

METRICS: dict[str, dict[str, Any]] = {
    "error_rate": {"label": "Error rate by service (time series)",
                   "payloads": [_SERVICES, _WORKSPACE]},
    "pattern_occurrences": {"label": "Pattern occurrences by template (time series)",
                            "payloads": [_SERVICES, _SEVERITY, _WORKSPACE]},
    "token_usage": {"label": "Tokens over time by model or workspace (time series)",
                    "payloads": [_BY, _SERVICES, _WORKSPACE]},
    "cost": {"label": "Cost over time by model or workspace (time series)",
             "payloads": [_BY, _SERVICES, _WORKSPACE]},
    "top_patterns": {"label": "Top patterns with counts and suggestions (table)",
                     "payloads": [_SERVICES, _SEVERITY, _WORKSPACE]},
    "insights": {"label": "Ranked insights (table)",
                 "payloads": [_MODE, _SERVICES, _SEVERITY, _WORKSPACE]},
    "conversations": {"label": "AI conversations (table)", "payloads": [_SERVICES, _WORKSPACE]},
    "workspace_costs": {"label": "Cost by workspace (table)", "payloads": [_WORKSPACE, _SERVICES]},
    "correlation_graph": {"label": "Request flow of a correlation id (node graph)",
                          "payloads": [_CORRELATION]},
    "narrative": {"label": "Narrative summary (one-cell table)",
                  "payloads": [_MODE, _SERVICES, _SEVERITY, _WORKSPACE, _CORRELATION]},
}  # fmt: skip


def _unknown_target(name: str | None) -> InvalidParameter:
    return InvalidParameter(
        f"unknown target {name!r}",
        code="UNKNOWN_TARGET",
        suggestion=f"Use one of: {', '.join(METRICS)} (POST /grafana/metrics lists them).",
        details={"target": name},
    )


# ---- payload and filter normalisation ----


def _clean(value: str | None) -> str | None:
    """None for "all", for an empty textbox and for a variable Grafana did not replace."""
    if value is None:
        return None
    text = value.strip()
    if text.lower() in _ALL_VALUES or _UNRESOLVED_VARIABLE.match(text):
        return None
    return text


def _service_list(value: str | list[str] | None) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if _clean(item) is None:
            if item and item.strip():
                return []  # "All" among the picks means every service
            continue
        # Grafana's multi-value formats: {a,b} (glob), (a|b) (regex), a,b (csv)
        text = (item or "").strip().strip("{}()")
        out.extend(part.strip() for part in re.split(r"[,|]", text) if part.strip())
    return sorted(set(out))


def _payload(target: QueryTarget) -> TargetPayload:
    """The target's payload, validated here so the error names the target and the option."""
    raw = target.payload
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else None
        except ValueError:
            raw = "not JSON"
    if raw is None:
        return TargetPayload()
    if not isinstance(raw, dict):
        raise InvalidParameter(
            f"payload of target {target.refId} is not a JSON object",
            suggestion="Send payload as an object, e.g. {\"services\": \"api\"}.",
            details={"refId": target.refId},
        )
    try:
        return TargetPayload.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        problem = (
            "is not a payload option"
            if first.get("type") == "extra_forbidden"
            else str(first.get("msg", "is invalid"))
        )
        raise InvalidParameter(
            f"payload '{name}' of target {target.refId} {problem}",
            suggestion="Payload options: " + ", ".join(TargetPayload.model_fields) + ".",
            details={"refId": target.refId, "parameter": name},
        ) from None


class RecordFilter:
    """An ad-hoc filter as a predicate over records."""

    def __init__(self, spec: AdhocFilter) -> None:
        if spec.key not in ADHOC_KEYS:
            raise InvalidParameter(
                f"unknown ad-hoc filter key {spec.key!r}",
                code="UNKNOWN_FILTER_KEY",
                suggestion=f"Filter on one of: {', '.join(ADHOC_KEYS)} (POST /grafana/tag-keys).",
                details={"key": spec.key},
            )
        if spec.operator not in ADHOC_OPERATORS:
            raise InvalidParameter(
                f"unsupported ad-hoc filter operator {spec.operator!r}",
                code="UNSUPPORTED_OPERATOR",
                suggestion=f"Use one of: {' '.join(ADHOC_OPERATORS)}.",
                details={"operator": spec.operator},
            )
        self.key = spec.key
        self.operator = spec.operator
        self.value = spec.value
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

    def _value_of(self, record: LogRecord) -> str:
        if self.key == "level":
            return record.level.label
        return str(getattr(record, self.key) or "")

    def __call__(self, record: LogRecord) -> bool:
        actual = self._value_of(record)
        if self.key == "level" and self.operator in ("=", "!=") and self.value:
            wanted = Severity.parse(self.value, default=None) if self.value else None
            same = wanted is not None and record.level == wanted
        elif self.pattern is not None:
            same = self.pattern.fullmatch(actual) is not None
        else:
            same = actual == self.value
        return same if self.operator in ("=", "=~") else not same


# ---- time window and the records behind a panel ----


def _window(panel_range: PanelRange) -> TimeRange:
    try:
        start, end = instant_ns(panel_range.from_), instant_ns(panel_range.to)
        return TimeRange(start, end)
    except ValueError as exc:
        raise InvalidParameter(
            f"invalid range: {exc}",
            suggestion="Send range.from and range.to as RFC 3339 times, from before to.",
            details={"parameter": "range"},
        ) from None


def _lookback_window(svc: Services) -> TimeRange:
    end = svc.source.now_ns()
    return TimeRange(end - parse_duration(VALUES_LOOKBACK) * NS_PER_SECOND, end)


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


def _analysis_query(payload: TargetPayload, window: TimeRange, ref_id: str) -> Query:
    values: dict[str, Any] = {
        "services": _service_list(payload.services),
        "start": _dt(window.start_ns),
        "end": _dt(window.end_ns),
        "limit": 10_000,
        "cache": False,
    }
    for name in ("mode", "workspace_id", "correlation_id"):
        value = _clean(getattr(payload, name))
        if value is not None:
            values[name] = value
    severity = _clean(payload.severity)
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


# ---- one builder per target ----


class TargetContext:
    def __init__(self, data: PanelData, grid: series.Grid, payload: TargetPayload, ref_id: str):
        self.data = data
        self.grid = grid
        self.payload = payload
        self.ref_id = ref_id
        self.query = _analysis_query(payload, data.window, ref_id)

    @property
    def records(self) -> list[LogRecord]:
        return self.data.records(self.query)

    @property
    def ai_requests(self) -> list[AIRequest]:
        """AI requests (one per correlation id), the unit tokens and cost are counted in."""
        return ai_requests(self.records)

    def split_key(self) -> tuple[str, Callable[[AIRequest], str | None]]:
        by = (_clean(self.payload.by) or "model").lower()
        if by == "model":
            return "model", lambda q: q.model or "unknown"
        if by in ("workspace", "workspace_id"):
            return "workspace_id", lambda q: q.workspace_id
        raise InvalidParameter(
            f"invalid payload value 'by' in target {self.ref_id}: {by!r}",
            suggestion="Use by: model or by: workspace.",
            details={"refId": self.ref_id, "parameter": "by"},
        )


def _error_rate(ctx: TargetContext) -> list[frames.Frame]:
    rates = series.error_rate_by_service(ctx.records, ctx.grid)
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, rates, value_name="error_rate", label="service", unit="percentunit"
    )


def _pattern_occurrences(ctx: TargetContext) -> list[frames.Frame]:
    from analyzer.analysis.templates import mine

    records = ctx.records
    texts = [m.template for m in mine(r.message for r in records)]
    counts = series.occurrences_by_template(records, texts, ctx.grid, top=TOP_SERIES)
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, counts, value_name="occurrences", label="template"
    )


def _token_usage(ctx: TargetContext) -> list[frames.Frame]:
    label, key = ctx.split_key()
    sums = series.sums_by(
        ctx.ai_requests, ctx.grid, key, lambda q: q.total_tokens or None, at=lambda q: q.first_ns
    )
    top = {str(k): sums[k] for k in series.top_keys(sums, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="tokens", label=label, unit="short"
    )


def _cost(ctx: TargetContext) -> list[frames.Frame]:
    label, key = ctx.split_key()
    prices = _prices()
    sums = series.sums_by(
        ctx.ai_requests, ctx.grid, key, lambda q: q.cost(prices), at=lambda q: q.first_ns
    )
    top = {str(k): [round(v, 6) for v in sums[k]] for k in series.top_keys(sums, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="cost", label=label, unit="currencyUSD"
    )


def _top_patterns(ctx: TargetContext) -> list[frames.Frame]:
    from analyzer.analysis.templates import group_by_template

    records = ctx.records
    groups = group_by_template(records)[:TOP_ROWS]
    suggestions = _pattern_suggestions(records, ctx)
    rows = [
        {
            "template": g_["template"],
            "count": g_["count"],
            "services": ", ".join(g_["services"]),
            "first_seen": g_["first_seen"],
            "last_seen": g_["last_seen"],
            "sample": g_["sample"],
            "suggestion": suggestions.get(g_["template_id"], ""),
        }
        for g_ in groups
    ]
    columns: list[tuple[str, frames.FieldType]] = [
        ("template", "string"), ("count", "number"), ("services", "string"),
        ("first_seen", "string"), ("last_seen", "string"), ("sample", "string"),
        ("suggestion", "string"),
    ]  # fmt: skip
    return [frames.table_frame(ctx.ref_id, "top_patterns", columns, rows)]


def _pattern_suggestions(records: list[LogRecord], ctx: TargetContext) -> dict[str, str]:
    """Template id -> the suggestion of the highest-ranked insight whose samples it matches."""
    from analyzer.analysis.templates import mine

    insights = analyze_records(records, ctx.query, ctx.data.window).insights
    if not insights or not records:
        return {}
    matches = mine(r.message for r in records)
    template_of = {r.message: m.template_id for r, m in zip(records, matches, strict=True)}
    out: dict[str, str] = {}
    for insight in sorted(insights, key=lambda i: -i.score):
        for sample in insight.evidence.samples:
            template_id = template_of.get(sample)
            if template_id and template_id not in out:
                out[template_id] = insight.suggestion
    return out


def _insights(ctx: TargetContext) -> list[frames.Frame]:
    analysis = ctx.data.analysis(ctx.query)
    rows = []
    for position, insight in enumerate(analysis.insights[:TOP_ROWS], start=1):
        rows.append(
            {
                "rank": position,
                "severity": insight.severity.label,
                "kind": insight.kind,
                "title": insight.title,
                "service": insight.service or "",
                "count": insight.evidence.count,
                "confidence": round(insight.confidence, 3),
                "first_seen": format_timestamp(insight.evidence.first_seen_ns),
                "last_seen": format_timestamp(insight.evidence.last_seen_ns),
                "suggestion": insight.suggestion,
                "logql": insight.evidence.logql or "",
            }
        )
    columns: list[tuple[str, frames.FieldType]] = [
        ("rank", "number"), ("severity", "string"), ("kind", "string"), ("title", "string"),
        ("service", "string"), ("count", "number"), ("confidence", "number"),
        ("first_seen", "string"), ("last_seen", "string"), ("suggestion", "string"),
        ("logql", "string"),
    ]  # fmt: skip
    units = {"confidence": "percentunit"}
    return [frames.table_frame(ctx.ref_id, "insights", columns, rows, units=units)]


def _conversations(ctx: TargetContext) -> list[frames.Frame]:
    """One row per conversation: lines, AI requests, tokens, cost, failures and time span."""
    prices = _prices()
    lines: dict[str, list[LogRecord]] = {}
    for r in ctx.records:
        if r.conversation_id:
            lines.setdefault(r.conversation_id, []).append(r)
    requests: dict[str, list[AIRequest]] = {}
    for q in ctx.ai_requests:
        if q.conversation_id:
            requests.setdefault(q.conversation_id, []).append(q)
    rows = []
    for conversation_id, own in lines.items():
        asked = requests.get(conversation_id, [])
        costs = [q.cost(prices) for q in asked]
        times = [q.response_time for q in asked if q.response_time is not None]
        rows.append(
            {
                "conversation_id": conversation_id,
                "workspace_id": next((r.workspace_id for r in own if r.workspace_id), ""),
                "models": ", ".join(sorted({q.model for q in asked if q.model})),
                "requests": len(asked),
                "tokens": sum(q.total_tokens for q in asked),
                "cost": round(sum(c for c in costs if c is not None), 6) if asked else None,
                "failed_requests": sum(1 for q in asked if q.failed),
                "lines": len(own),
                "first_seen": format_timestamp(own[0].timestamp_ns),
                "last_seen": format_timestamp(own[-1].timestamp_ns),
                "mean_response_ms": round(1000 * sum(times) / len(times), 1) if times else None,
            }
        )
    rows.sort(key=lambda row: (-row["failed_requests"], row["first_seen"]))
    columns: list[tuple[str, frames.FieldType]] = [
        ("conversation_id", "string"), ("workspace_id", "string"), ("models", "string"),
        ("requests", "number"), ("tokens", "number"), ("cost", "number"),
        ("failed_requests", "number"), ("lines", "number"), ("first_seen", "string"),
        ("last_seen", "string"), ("mean_response_ms", "number"),
    ]  # fmt: skip
    units = {"cost": "currencyUSD", "mean_response_ms": "ms"}
    return [frames.table_frame(ctx.ref_id, "conversations", columns, rows[: TOP_ROWS * 4], units=units)]


def _workspace_costs(ctx: TargetContext) -> list[frames.Frame]:
    """One row per workspace with AI requests, most expensive first."""
    prices = _prices()
    records = ctx.records
    rows = []
    for workspace_id in sorted({q.workspace_id for q in ctx.ai_requests if q.workspace_id}):
        summary = workspace_summary(records, workspace_id, prices=prices)
        costs = summary["cost_breakdown"]
        rows.append(
            {
                "workspace_id": workspace_id,
                "requests": summary["total_requests"],
                "conversations": summary["total_conversations"],
                "tokens": summary["total_tokens"],
                "cost": costs["total_cost"],
                "cost_complete": costs["cost_complete"],
                "failed_requests": summary["failed_requests"],
                "error_rate": summary["error_rate"],
                "models": ", ".join(summary["models_used"]),
            }
        )
    rows.sort(key=lambda row: (-row["cost"], row["workspace_id"]))
    columns: list[tuple[str, frames.FieldType]] = [
        ("workspace_id", "string"), ("requests", "number"), ("conversations", "number"),
        ("tokens", "number"), ("cost", "number"), ("cost_complete", "boolean"),
        ("failed_requests", "number"), ("error_rate", "number"), ("models", "string"),
    ]  # fmt: skip
    units = {"cost": "currencyUSD", "error_rate": "percentunit"}
    return [frames.table_frame(ctx.ref_id, "workspace_costs", columns, rows, units=units)]


def _correlation_graph(ctx: TargetContext) -> list[frames.Frame]:
    # no id yet (the dashboard loads before anyone types one): an empty graph, not an error
    correlation_id = ctx.query.correlation_id or ""
    records = ctx.records if correlation_id else []
    known = ctx.data.svc.source.services(tenant=ctx.data.tenant) if correlation_id else []
    result = correlate.request_flow(records, correlation_id, known_services=known)
    nodes_fields, edges_fields = correlate.node_graph_frames(result)
    return frames.node_graph_frames(ctx.ref_id, nodes_fields, edges_fields)


def _narrative(ctx: TargetContext) -> list[frames.Frame]:
    from analyzer import narrate

    settings = services().settings
    body = ctx.data.analysis(ctx.query).to_dict()
    text = narrate.render(
        "query",
        body,
        fmt="narrative",
        verbosity=ctx.query.verbosity.value,
        grafana_url=settings.grafana_url,
        loki_uid=settings.grafana_loki_uid,
    )
    return [frames.text_frame(ctx.ref_id, "narrative", str(text))]


BUILDERS: dict[str, Callable[[TargetContext], list[frames.Frame]]] = {
    "error_rate": _error_rate,
    "pattern_occurrences": _pattern_occurrences,
    "token_usage": _token_usage,
    "cost": _cost,
    "top_patterns": _top_patterns,
    "insights": _insights,
    "conversations": _conversations,
    "workspace_costs": _workspace_costs,
    "correlation_graph": _correlation_graph,
    "narrative": _narrative,
}


def _prices() -> PriceTable:
    return load_prices(services().settings.prices_file)


# ---- endpoints ----


def _json(body: Any) -> Response:
    from analyzer.infra.privacy import mask

    return Response(json.dumps(mask(body), default=str), mimetype="application/json")


@bp.route("/", methods=["GET"], strict_slashes=False)
@require("query", limit_group="datasource")
def health() -> Response:
    return _json({"status": "ok", "message": "AI Logs Analyzer datasource is working"})


@bp.route("/metrics", methods=["POST"])
@require("query", limit_group="datasource")
def list_metrics() -> Response:
    parse_params(MetricsRequest, request)
    return _json([{"label": spec["label"], "value": name, "payloads": spec["payloads"]}
                  for name, spec in METRICS.items()])  # fmt: skip


@bp.route("/metric-payload-options", methods=["POST"])
@require("query", limit_group="datasource")
def metric_payload_options() -> Response:
    body = parse_params(PayloadOptionsRequest, request)
    spec = METRICS.get(body.metric)
    if spec is None:
        raise _unknown_target(body.metric)
    payload = next((p for p in spec["payloads"] if p["name"] == body.name), None)
    if payload is None:
        raise InvalidParameter(
            f"target {body.metric!r} has no payload {body.name!r}",
            code="UNKNOWN_PAYLOAD",
            suggestion="Use a payload name that POST /grafana/metrics lists for this target.",
            details={"name": body.name},
        )
    if "options" in payload:
        return _json(payload["options"])
    svc = services()
    if body.name == "services":
        values = svc.source.services(tenant=g.tenant)
    else:
        values = _values_from_records(svc, "workspace_id", _lookback_window(svc))
    return _json([{"label": v, "value": v} for v in values])


@bp.route("/variable", methods=["POST"])
@require("query", limit_group="datasource")
def variable() -> Response:
    body = parse_params(VariableRequest, request)
    target = body.payload if isinstance(body.payload, str) else body.payload.target
    target = target.strip()
    if target not in VARIABLE_TARGETS:
        raise InvalidParameter(
            f"unknown variable query {target!r}",
            code="UNKNOWN_VARIABLE",
            suggestion=f"Use one of: {', '.join(VARIABLE_TARGETS)}.",
            details={"target": target},
        )
    svc = services()
    window = _window(body.range) if body.range else _lookback_window(svc)
    if target == "services":
        values = svc.source.services(tenant=g.tenant)
    else:
        name = {"workspaces": "workspace_id", "models": "model",
                "conversations": "conversation_id"}[target]  # fmt: skip
        values = _values_from_records(svc, name, window)
    return _json([{"__text": v, "__value": v} for v in values])


@bp.route("/tag-keys", methods=["POST"])
@require("query", limit_group="datasource")
def tag_keys() -> Response:
    return _json([{"type": "string", "text": key} for key in ADHOC_KEYS])


@bp.route("/tag-values", methods=["POST"])
@require("query", limit_group="datasource")
def tag_values() -> Response:
    body = parse_params(TagValuesRequest, request)
    return _json([{"text": v} for v in tag_values_for(services(), body.key, g.tenant)])


def tag_values_for(svc: Services, key: str, tenant: str) -> list[str]:
    """Values of one ad-hoc filter key; the Grafana endpoint and the MCP tool share it."""
    if key not in ADHOC_KEYS:
        raise InvalidParameter(
            f"unknown ad-hoc filter key {key!r}",
            code="UNKNOWN_FILTER_KEY",
            suggestion=f"Use one of: {', '.join(ADHOC_KEYS)} (POST /grafana/tag-keys).",
            details={"key": key},
        )
    if key == "service":
        return svc.source.services(tenant=tenant)
    if key == "level":
        return [s.label for s in Severity]
    return _values_from_records(svc, key, _lookback_window(svc), tenant)


def _values_from_records(
    svc: Services, name: str, window: TimeRange, tenant: str | None = None
) -> list[str]:
    """Distinct values of a record attribute: ids are Loki structured metadata, not labels."""
    query = Query(start=_dt(window.start_ns), end=_dt(window.end_ns), limit=10_000, cache=False)
    fetched = svc.source.fetch(query, tenant=tenant or g.tenant, limit=FETCH_LIMIT)
    return sorted({str(v) for r in fetched.records if (v := getattr(r, name, None))})


@bp.route("/query", methods=["POST"])
@require("query", limit_group="datasource")
def query() -> Response:
    body = parse_params(GrafanaQueryRequest, request)
    targets = [t for t in body.targets if not t.hide]
    if not targets:
        raise InvalidParameter(
            "no targets to query",
            code="MISSING_TARGETS",
            suggestion="Pick a target in the panel's query editor (POST /grafana/metrics).",
        )
    for t in targets:
        if t.target not in BUILDERS:
            raise _unknown_target(t.target)
    adhoc = [RecordFilter(f) for f in [*body.adhocFilters, *body.filters]]
    window = _window(body.range)
    svc = services()

    key, ttl = _cache_key(body, targets, window, g.tenant, svc)
    if svc.cache is not None:
        cached = svc.cache.get(key)
        if cached is not None:
            return Response(cached, mimetype="application/json")

    grid = series.make_grid(window, int(body.intervalMs or 0) or None, body.maxDataPoints)
    data = PanelData(svc, g.tenant, window, adhoc)
    out: list[frames.Frame] = []
    for t in targets:
        ctx = TargetContext(data, grid, _payload(t), t.refId)
        out.extend(BUILDERS[t.target or ""](ctx))
    response = _json(out)
    if svc.cache is not None:
        svc.cache.set(key, response.get_data(as_text=True), ttl)
    return response


def _cache_key(
    body: GrafanaQueryRequest, targets: list[QueryTarget], window: TimeRange, tenant: str,
    svc: Services,
) -> tuple[str, int]:
    """Tenant + normalised request + time bucket: a dashboard refreshing "last 1h" every few
    seconds reuses one answer per bucket; an absolute range keeps its answer longer."""
    settings = svc.settings
    raw = body.range.raw or body.rangeRaw
    relative = bool(raw and raw.to and raw.to.strip().startswith("now"))
    if relative:
        bucket_ns = settings.cache_bucket_seconds * NS_PER_SECOND
        assert raw is not None
        span = f"rel:{raw.from_}:{raw.to}:{window.end_ns // bucket_ns}"
        ttl = settings.cache_ttl
    else:
        span = f"abs:{window.start_ns}:{window.end_ns}"
        ttl = settings.cache_ttl_absolute
    normal = {
        "targets": [
            [t.target, t.refId, _payload(t).model_dump(exclude_none=True)] for t in targets
        ],
        "filters": sorted(
            (f.key, f.operator, f.value) for f in [*body.adhocFilters, *body.filters]
        ),
        "intervalMs": body.intervalMs,
        "maxDataPoints": body.maxDataPoints,
        "span": span,
    }
    text = json.dumps(normal, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"ai-logs:grafana:{tenant or '-'}:{digest}", ttl


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)

