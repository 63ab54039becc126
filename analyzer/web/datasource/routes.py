"""The `/grafana/` blueprint: one function per endpoint of the plugin's protocol.

Errors under `/grafana/` carry a top-level `message` beside the usual `error` object: the
plugin shows a failed panel's `message`, and an object there reads as "[object Object]".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, g, request

from analyzer.analysis import series
from analyzer.errors import InvalidParameter
from analyzer.model import NS_PER_SECOND, TimeRange
from analyzer.services import Services
from analyzer.web import frames
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.datasource import tables, timeseries
from analyzer.web.datasource.catalog import (
    ADHOC_KEYS,
    METRICS,
    VARIABLE_TARGETS,
    unknown_target,
)
from analyzer.web.datasource.filters import record_filters
from analyzer.web.datasource.panel import PanelData, TargetContext
from analyzer.web.datasource.requests import (
    GrafanaQueryRequest,
    MetricsRequest,
    Notices,
    PayloadOptionsRequest,
    QueryTarget,
    TagValuesRequest,
    VariableRequest,
    target_payload,
    window,
)
from analyzer.web.datasource.values import lookback_window, tag_values_for, values_of
from analyzer.web.params import parse_params

bp = Blueprint("grafana_datasource", __name__, url_prefix="/grafana")
PREFIX = "/grafana"

BUILDERS: dict[str, Callable[[TargetContext], list[frames.Frame]]] = {
    **timeseries.TARGETS,
    **tables.TARGETS,
}

OPENAPI = [
    ("GET", "/grafana/", None, "Grafana datasource health (Save & test)."),
    ("POST", "/grafana/metrics", MetricsRequest, "Targets a panel can query, with payloads."),
    ("POST", "/grafana/metric-payload-options", PayloadOptionsRequest, "A payload's values."),
    ("POST", "/grafana/query", GrafanaQueryRequest, "Panel data as Grafana data frames."),
    ("POST", "/grafana/variable", VariableRequest, "Values for a dashboard variable."),
    ("POST", "/grafana/tag-keys", None, "Keys for ad-hoc filters."),
    ("POST", "/grafana/tag-values", TagValuesRequest, "Values of an ad-hoc filter key."),
]


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
        raise unknown_target(body.metric)
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
    name = "service" if body.name == "services" else body.name
    values = values_of(svc, g.tenant, name, lookback_window(svc))
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
    span = window(body.range) if body.range else lookback_window(svc)
    values = values_of(svc, g.tenant, VARIABLE_TARGETS[target], span)
    return _json([{"__text": v, "__value": v} for v in values])


@bp.route("/tag-keys", methods=["POST"])
@require("query", limit_group="datasource")
def tag_keys() -> Response:
    return _json([{"type": "string", "text": key} for key in ADHOC_KEYS])


@bp.route("/tag-values", methods=["POST"])
@require("query", limit_group="datasource")
def tag_values() -> Response:
    body = parse_params(TagValuesRequest, request)
    sent = body.timeRange or body.range
    values = tag_values_for(services(), body.key, g.tenant, window(sent) if sent else None)
    return _json([{"text": v} for v in values])


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
            raise unknown_target(t.target)
    filter_notices = Notices()
    adhoc = record_filters([*body.adhocFilters, *body.filters], filter_notices)
    span = window(body.range)
    svc = services()

    key, ttl = _cache_key(body, targets, span, g.tenant, svc)
    if svc.cache is not None:
        cached = svc.cache.get(key)
        if cached is not None:
            return Response(cached, mimetype="application/json")

    grid = series.make_grid(span, int(body.intervalMs or 0) or None, body.maxDataPoints)
    data = PanelData(svc, g.tenant, span, adhoc)
    out: list[frames.Frame] = []
    for t in targets:
        notices = Notices(list(filter_notices.items))
        ctx = TargetContext(data, grid, target_payload(t, notices), t.refId, notices)
        out.extend(notices.attach(BUILDERS[t.target or ""](ctx)))
    response = _json(out)
    if svc.cache is not None:
        svc.cache.set(key, response.get_data(as_text=True), ttl)
    return response


def _cache_key(
    body: GrafanaQueryRequest, targets: list[QueryTarget], span: TimeRange, tenant: str,
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
        key_span = f"rel:{raw.from_}:{raw.to}:{span.end_ns // bucket_ns}"
        ttl = settings.cache_ttl
    else:
        key_span = f"abs:{span.start_ns}:{span.end_ns}"
        ttl = settings.cache_ttl_absolute
    normal = {
        "targets": [[t.target, t.refId, t.payload] for t in targets],
        "filters": sorted(
            (f.key, f.operator, f.value, sorted(f.values or []))
            for f in [*body.adhocFilters, *body.filters]
        ),
        "intervalMs": body.intervalMs,
        "maxDataPoints": body.maxDataPoints,
        "span": key_span,
    }
    text = json.dumps(normal, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"ai-logs:grafana:{tenant or '-'}:{digest}", ttl


def _with_message(response: Response) -> Response:
    """Copy an error's message to the top level of a `/grafana/` error body."""
    if response.status_code < 400 or not request.path.startswith(PREFIX):
        return response
    body = response.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and "message" not in body:
        body["message"] = str(body["error"].get("message", ""))
        response.set_data(json.dumps(body))
    return response


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
    app.after_request(_with_message)
