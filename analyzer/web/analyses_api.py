"""Stored alert analyses: `GET /api/v1/ai_logs/analyses[/<id>]`.

The list is newest first and shows each analysis's `status` (queued, running, done, failed);
`?status=failed` is the dead-letter view: analyses whose job ran out of attempts, with the error.
A caller sees only its own tenant's analyses.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from analyzer.errors import NotFound
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params

bp = Blueprint("analyses_api", __name__, url_prefix="/api/v1/ai_logs")

# fields of the list view; the full record (with the analysis) is at /analyses/<id>
LIST_FIELDS = (
    "id", "status", "alert", "resolved", "ends_at", "narrative", "attempts", "error",
    "created_at", "started_at", "finished_at", "report_url", "annotation_id", "job_id",
)


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


def _results(svc: Services) -> Any:
    from analyzer.worker import alert_stores

    return alert_stores(svc)[1]


def _public(record: dict[str, Any]) -> dict[str, Any]:
    from analyzer.infra.privacy import mask

    return mask({k: v for k, v in record.items() if k not in ("created_at_epoch", "tenant")})


@bp.get("/analyses")
@require("query")
def list_analyses() -> Response:
    return jsonify(analyses_answer(services(), parse_params(AnalysesParams, request), g.tenant))


def analyses_answer(svc: Services, params: AnalysesParams, tenant: str) -> dict[str, Any]:
    """The tenant's analyses, newest first; the HTTP view and the MCP tool both serve it."""
    records = _results(svc).list(status=params.status, tenant=tenant, limit=params.limit)
    items = [_public({k: r.get(k) for k in LIST_FIELDS}) for r in records]
    return {"analyses": items, "count": len(items)}


@bp.get("/analyses/<analysis_id>")
@require("query")
def get_analysis(analysis_id: str) -> Response:
    return jsonify(analysis_answer(services(), analysis_id, g.tenant))


def analysis_answer(svc: Services, analysis_id: str, tenant: str) -> dict[str, Any]:
    """One analysis of the tenant (404 for another tenant's); HTTP view and MCP tool share it."""
    record = _results(svc).get(analysis_id) if len(analysis_id) <= 64 else None
    if record is None or record.get("tenant") not in (None, tenant):
        raise NotFound(
            f"no analysis '{analysis_id[:64]}'",
            suggestion="List analyses at /api/v1/ai_logs/analyses; ids come from the webhook's answer.",
        )
    return _public(record)


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
