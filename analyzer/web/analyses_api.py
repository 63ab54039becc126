"""Stored alert analyses: `GET /api/v1/ai_logs/analyses[/<id>]`.

The list is newest first and shows each analysis's `status` (queued, running, done, failed) and,
apart from it, its Grafana `annotation` state; `?status=failed` is the dead-letter view: analyses
whose job ran out of attempts, with the error. A caller sees only its own tenant's analyses.

While Redis is away the list is served from the local store (what was accepted or changed during
the outage) with `complete: false` and a notice; one analysis that can only be in Redis is a 503.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from analyzer.alerting.records import report_link
from analyzer.alerting.stores import alert_stores
from analyzer.infra.results import ResultsUnavailable
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params
from analyzer.web.reports import ResultsUnreachable, stored_analysis

bp = Blueprint("analyses_api", __name__, url_prefix="/api/v1/ai_logs")

# fields of the list view; the full record (with the analysis) is at /analyses/<id>
LIST_FIELDS = (
    "id", "status", "alert", "resolved", "ends_at", "narrative", "attempts", "error",
    "created_at", "started_at", "finished_at", "report_url", "annotation", "annotation_id", "job_id",
)
# kept to ourselves; links are added after masking, which would rewrite an address in their host
PRIVATE_FIELDS = ("created_at_epoch", "updated_at_epoch", "tenant", "report_url", "grafana_url")


class AnalysesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["queued", "running", "done", "failed"] | None = Field(
        None, description="Only analyses in this state; `failed` lists the dead-lettered jobs."
    )
    limit: int = Field(50, ge=1, le=500, description="Most analyses returned, newest first.")


OPENAPI = [
    ("GET", "/api/v1/ai_logs/analyses", AnalysesParams, "Alert analyses, newest first."),
    ("GET", "/api/v1/ai_logs/analyses/{analysis_id}", None, "One alert analysis with its result."),
]


def _public(
    record: dict[str, Any], fields: tuple[str, ...] | None = None, svc: Services | None = None
) -> dict[str, Any]:
    from analyzer.infra.privacy import mask

    shown = {k: v for k, v in record.items() if k not in PRIVATE_FIELDS and (not fields or k in fields)}
    out = mask(shown)
    out["report_url"] = report_link(record, (svc or services()).settings.public_url)
    if record.get("grafana_url") and not fields:
        out["grafana_url"] = record["grafana_url"]
    return out


@bp.get("/analyses")
@require("query")
def list_analyses() -> Response:
    return jsonify(analyses_answer(services(), parse_params(AnalysesParams, request), g.tenant))


def analyses_answer(svc: Services, params: AnalysesParams, tenant: str) -> dict[str, Any]:
    """The tenant's analyses, newest first; the HTTP view and the MCP tool both serve it."""
    try:
        listing = alert_stores(svc)[1].list(status=params.status, tenant=tenant, limit=params.limit)
    except ResultsUnavailable as exc:
        raise ResultsUnreachable(str(exc)) from None
    items = [_public(r, LIST_FIELDS, svc) for r in listing.records]
    body: dict[str, Any] = {"analyses": items, "count": len(items), "complete": listing.complete}
    if not listing.complete:
        body["notice"] = {
            "code": "RESULTS_PARTIAL",
            "message": "Redis cannot be reached: listed are the analyses stored locally while it "
            "is away (every alert accepted meanwhile); those kept in Redis are not.",
            "suggestion": "Retry once Redis is back for the complete list.",
        }
    return body


@bp.get("/analyses/<analysis_id>")
@require("query")
def get_analysis(analysis_id: str) -> Response:
    return jsonify(analysis_answer(services(), analysis_id, g.tenant))


def analysis_answer(svc: Services, analysis_id: str, tenant: str) -> dict[str, Any]:
    """One analysis of the tenant (404 for another tenant's); HTTP view and MCP tool share it."""
    return _public(stored_analysis(analysis_id, svc, tenant), svc=svc)


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
