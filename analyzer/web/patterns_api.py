"""Pattern registry endpoints and the Loki ruler export.

- `GET  /api/v1/ai_logs/patterns`: filters and paging; `refresh=true` analyses a window first
  and records what it finds.
- `GET  /api/v1/ai_logs/patterns/<id>`, `PATCH` to resolve (or reopen) with notes (a key with
  the `admin` scope: resolving changes what every reader of the tenant sees).
- `GET  /api/v1/ai_logs/patterns/<id>/rule`: a Loki ruler rule group (YAML) alerting on the
  pattern's rate; `POST` pushes it to Loki's ruler, which writes only with object storage.

Everything answered is PII-masked, the rule's regex too: a rule that names one user's address
would itself leak it. `AI_LOGS_PATTERN_DETECTION=false` switches these endpoints off (503).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from analyzer.analysis.rule_export import RuleSpec, rule_group, rule_group_yaml
from analyzer.errors import AnalyzerError, InvalidParameter, NotFound
from analyzer.infra.privacy import mask, mask_text
from analyzer.infra.registry import (
    PatternEntry,
    PatternFilter,
    PatternRegistry,
    open_registry,
    record_detections,
)
from analyzer.model import Query, Severity, Span, Window
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params

bp = Blueprint("patterns_api", __name__, url_prefix="/api/v1/ai_logs")
REGISTRY_KEY = "pattern_registry"
PATTERN_ID = re.compile(r"[0-9a-f]{16}")
SEVERITIES = tuple(s.label for s in Severity)


class PatternListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern_type: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    severity: Annotated[str, Field(pattern="^(debug|info|warn|error|fatal)$")] | None = None
    service: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    resolved: bool | None = None
    page: int = Field(1, ge=1, le=10000)
    per_page: int = Field(50, ge=1, le=200)
    refresh: bool = Field(False, description="Analyse `time_range` first and record detections.")
    time_range: Window = "1h"
    services: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=50
    )


class PatternUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolved: bool = True
    resolution_notes: str = Field("", max_length=4000)


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(5, ge=0, le=1e9, description="Lines per interval that fire the alert.")
    interval: Window = "5m"
    for_: Span = Field("2m", alias="for")
    namespace: str = Field("ai-logs-patterns", pattern=r"^[A-Za-z0-9_.-]{1,64}$")


OPENAPI = [
    ("GET", "/api/v1/ai_logs/patterns", PatternListParams, "Detected patterns, filtered and paged."),
    ("GET", "/api/v1/ai_logs/patterns/{pattern_id}", None, "One detected pattern."),
    ("PATCH", "/api/v1/ai_logs/patterns/{pattern_id}", PatternUpdate, "Resolve or reopen a pattern with notes."),
    ("GET", "/api/v1/ai_logs/patterns/{pattern_id}/rule", RuleParams, "Loki ruler rule group (YAML) for a pattern."),
    ("POST", "/api/v1/ai_logs/patterns/{pattern_id}/rule", RuleParams, "Push the rule group to Loki's ruler."),
]


def registry(svc: Services | None = None) -> PatternRegistry:
    return (svc or services()).extras[REGISTRY_KEY]


@bp.before_request
def _switched_on() -> None:
    if request.path.startswith(f"{bp.url_prefix}/patterns") and not (
        services().settings.pattern_detection
    ):
        raise AnalyzerError(
            "pattern detection is switched off on this deployment (AI_LOGS_PATTERN_DETECTION"
            "=false)",
            code="PATTERN_DETECTION_DISABLED",
            status=503,
            suggestion="Use /api/v1/ai_logs/query for analyses; patterns come back when the "
            "operators switch detection on again.",
        )


def _entry(pattern_id: str) -> PatternEntry:
    return pattern_entry(services(), pattern_id, g.tenant)


def pattern_entry(svc: Services, pattern_id: str, tenant: str) -> PatternEntry:
    """The tenant's pattern (404 for another tenant's); the HTTP views and MCP tools share it."""
    if not PATTERN_ID.fullmatch(pattern_id):
        raise InvalidParameter(
            f"{pattern_id!r} is not a pattern id",
            code="INVALID_PATTERN_ID",
            suggestion="Use an id from GET /api/v1/ai_logs/patterns (16 hex characters).",
        )
    entry = registry(svc).get(tenant, pattern_id)
    if entry is None:
        raise NotFound(
            f"no pattern {pattern_id} for this tenant",
            code="PATTERN_NOT_FOUND",
            suggestion="List patterns with GET /api/v1/ai_logs/patterns?refresh=true.",
        )
    return entry


@bp.get("/patterns")
@require("query")
def list_patterns() -> Response:
    return jsonify(patterns_answer(services(), parse_params(PatternListParams, request), g.tenant))


def patterns_answer(svc: Services, params: PatternListParams, tenant: str) -> dict[str, Any]:
    """One page of the tenant's registry, refreshed first when asked; HTTP and MCP share it."""
    if params.refresh:
        from analyzer.querying import fetch_and_analyze, resolve_window
        from analyzer.sources.known import require_known_services

        query = Query(time_range=params.time_range, services=params.services, cache=False)
        require_known_services(
            svc.source, query.services, tenant=tenant, window=resolve_window(svc, query)
        )
        record_detections(registry(svc), fetch_and_analyze(svc, query, tenant=tenant), tenant=tenant)
    where = PatternFilter(
        pattern_type=params.pattern_type,
        severity=params.severity,
        service=params.service,
        resolved=params.resolved,
    )
    offset = (params.page - 1) * params.per_page
    items, total = registry(svc).list(tenant, where, offset=offset, limit=params.per_page)
    return {
        "patterns": [mask(e.to_dict()) for e in items],
        "page": params.page,
        "per_page": params.per_page,
        "total": total,
    }


@bp.get("/patterns/<pattern_id>")
@require("query")
def get_pattern(pattern_id: str) -> Response:
    return jsonify(mask(_entry(pattern_id).to_dict()))


@bp.patch("/patterns/<pattern_id>")
@require("admin")
def update_pattern(pattern_id: str) -> Response:
    update = parse_params(PatternUpdate, request)
    _entry(pattern_id)
    entry = registry().resolve(
        g.tenant, pattern_id, resolved=update.resolved, notes=update.resolution_notes
    )
    assert entry is not None  # checked above; a concurrent delete does not exist
    return jsonify(mask(entry.to_dict()))


def _group(entry: PatternEntry, params: RuleParams) -> dict[str, Any]:
    spec = RuleSpec(
        pattern_id=entry.id,
        pattern_type=mask_text(entry.pattern_type),
        regex=mask_text(entry.regex),
        exclude=[mask_text(e) for e in entry.exclude],
        severity="critical" if entry.severity in ("error", "fatal") else "warning",
        suggestion=mask_text(entry.suggestion),
        services=entry.affected_services,
        description=mask_text(entry.title),
    )
    return rule_group(spec, threshold=params.threshold, interval=params.interval, for_=params.for_)


@bp.get("/patterns/<pattern_id>/rule")
@require("query")
def pattern_rule(pattern_id: str) -> Response:
    params = parse_params(RuleParams, request)
    entry = _entry(pattern_id)
    return Response(pattern_rule_yaml(entry, params), mimetype="application/yaml")


def pattern_rule_yaml(entry: PatternEntry, params: RuleParams) -> str:
    """The rule group's YAML, masked; the HTTP view and the MCP tool share it."""
    return rule_group_yaml(_group(entry, params))


@bp.post("/patterns/<pattern_id>/rule")
@require("admin")
def push_pattern_rule(pattern_id: str) -> Response:
    params = parse_params(RuleParams, request)
    entry = _entry(pattern_id)
    text = rule_group_yaml(_group(entry, params))
    source = services().source
    push = getattr(source, "push_rule_group", None)
    if push is None:
        raise AnalyzerError(
            f"the log source ({source.name}) has no ruler to push rules to",
            code="RULER_UNAVAILABLE",
            status=409,
            suggestion=f"Set LOKI_URL, or place this YAML in ruler_rules/{g.tenant}/.",
            details={"yaml": text, "path": f"ruler_rules/{g.tenant}/"},
        )
    try:
        push(params.namespace, text, tenant=g.tenant)
    except AnalyzerError as exc:
        if exc.code == "RULER_READ_ONLY":
            exc.details = {**exc.details, "yaml": text, "path": f"ruler_rules/{g.tenant}/"}
        raise
    return jsonify({"pushed": True, "namespace": params.namespace, "group": _group(entry, params)["name"]})


def register(app: Flask, services: Services) -> None:
    services.extras.setdefault(REGISTRY_KEY, open_registry(services.settings, services.redis))
    app.register_blueprint(bp)
