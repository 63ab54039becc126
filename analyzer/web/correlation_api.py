"""`GET /api/v1/ai_logs/correlate`: one request followed across every service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from analyzer.analysis.correlate import request_flow
from analyzer.errors import NotFound
from analyzer.infra.privacy import mask
from analyzer.model import IdText, OutputFormat, Query, Verbosity, Window
from analyzer.services import Services
from analyzer.sources.base import LogSource
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params

bp = Blueprint("correlation_api", __name__, url_prefix="/api/v1/ai_logs")

# Ids do not depend on time, so over files (a finite replay) the whole set is searched.
FILE_SOURCE_WINDOW = "3650d"
FETCH_LIMIT = 5000


class CorrelateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    correlation_id: IdText = Field(description="The id every service logged for the request.")
    time_window: Window = Field("15m", description="How far back to look (Loki), e.g. 1h.")
    format: OutputFormat = OutputFormat.STRUCTURED
    verbosity: Verbosity = Verbosity.STANDARD


OPENAPI = [
    (
        "GET",
        "/api/v1/ai_logs/correlate",
        CorrelateParams,
        "Follow one correlation id across services: call graph, critical path, failing hop.",
    ),
]


def id_window(source: LogSource, requested: str) -> str:
    """Loki gets the caller's window; a file replay is searched whole."""
    return FILE_SOURCE_WINDOW if source.name == "files" else requested


def known_services(source: LogSource, tenant: str | None) -> list[str]:
    """Services that exist even if silent for this request; best effort, never fatal."""
    try:
        return source.services(tenant=tenant)
    except Exception:  # a labels call failing must not fail the correlation
        return []


def with_text(
    body: dict[str, Any], kind: str, fmt: OutputFormat, verbosity: Verbosity, svc: Services
) -> dict[str, Any]:
    """The structured body, plus the narrative or timeline text when that format was asked."""
    if fmt is OutputFormat.STRUCTURED:
        return body
    from analyzer.narrate import render

    body["format"] = fmt.value
    body[fmt.value] = render(
        kind,
        body,
        fmt=fmt.value,
        verbosity=verbosity.value,
        grafana_url=svc.settings.grafana_url,
        loki_uid=svc.settings.grafana_loki_uid,
    )
    return body


@bp.get("/correlate")
@require("query")
def correlate() -> Response:
    return jsonify(correlation_answer(services(), parse_params(CorrelateParams, request), g.tenant))


def correlation_answer(svc: Services, params: CorrelateParams, tenant: str) -> dict[str, Any]:
    """The masked answer for one correlation id; the HTTP view and the MCP tool both serve it."""
    query = Query(
        correlation_id=params.correlation_id,
        time_range=id_window(svc.source, params.time_window),
        limit=FETCH_LIMIT,
    )
    fetched = svc.source.fetch(query, tenant=tenant)
    result = request_flow(
        fetched.records, params.correlation_id, known_services=known_services(svc.source, tenant)
    )
    if not result.hops:
        raise NotFound(
            f"no log line carries correlation_id {params.correlation_id!r} in the last "
            f"{params.time_window}",
            code="CORRELATION_NOT_FOUND",
            suggestion="Check the id, or widen time_window (e.g. time_window=24h).",
        )
    body = result.to_dict()
    body["metadata"] = {
        "lines": len(fetched.records),
        "truncated": fetched.truncated,
        "queries": fetched.queries,
        "window": fetched.window.to_dict(),
    }
    return mask(with_text(body, "correlation", params.format, params.verbosity, svc))


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
