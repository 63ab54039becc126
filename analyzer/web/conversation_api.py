"""AI accounting endpoints: one conversation, one workspace's summary."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from analyzer.analysis.conversations import conversation_report
from analyzer.analysis.pricing import PriceTable, load_prices
from analyzer.analysis.workspace import workspace_summary
from analyzer.errors import InvalidParameter, NotFound
from analyzer.infra.privacy import mask
from analyzer.model import (
    NS_PER_SECOND,
    LogRecord,
    OutputFormat,
    Query,
    Span,
    Verbosity,
    Window,
    parse_duration,
)
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.correlation_api import FETCH_LIMIT, id_window, with_text
from analyzer.web.params import parse_params

bp = Blueprint("conversation_api", __name__, url_prefix="/api/v1/ai_logs")
MAX_SESSIONS = 3


class ConversationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_prompts: bool = True
    include_responses: bool = True
    include_metrics: bool = True
    include_related_logs: bool = False
    time_buffer: Span = Field(
        "5m", description="Session lines kept this long around the conversation."
    )
    time_range: Window = Field(
        "7d", description="How far back to look for the conversation (Loki)."
    )
    format: OutputFormat = OutputFormat.STRUCTURED
    verbosity: Verbosity = Verbosity.STANDARD


class WorkspaceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_range: Window = "24h"
    include_costs: bool = True
    format: OutputFormat = OutputFormat.STRUCTURED
    verbosity: Verbosity = Verbosity.STANDARD


OPENAPI = [
    (
        "GET",
        "/api/v1/ai_logs/conversations/{conversation_id}",
        ConversationParams,
        "One AI conversation: timeline, tokens, cost, latency, errors; PII masked.",
    ),
    (
        "GET",
        "/api/v1/ai_logs/workspace/{workspace_id}/summary",
        WorkspaceParams,
        "A workspace's AI usage: requests, tokens, models, errors, busiest hours, costs.",
    ),
]


def prices(svc: Services) -> PriceTable:
    table = svc.extras.get("prices")
    if table is None:
        table = svc.extras["prices"] = load_prices(svc.settings.prices_file)
    return table


def _check_id(value: str, name: str) -> str:
    try:
        Query(**{name: value})
    except Exception as exc:
        raise InvalidParameter(
            f"{name} {value!r} is not a valid id", suggestion="Ids are 1-64 printable characters."
        ) from exc
    return value


def _related(svc: Services, own: list[LogRecord], buffer_s: int, tenant: str) -> list[LogRecord]:
    sessions = sorted({r.session_id for r in own if r.session_id})[:MAX_SESSIONS]
    if not sessions:
        return []
    start = max(0, min(r.timestamp_ns for r in own) - buffer_s * NS_PER_SECOND)
    end = max(r.timestamp_ns for r in own) + buffer_s * NS_PER_SECOND
    out: list[LogRecord] = []
    for session in sessions:
        query = Query(session_id=session, start=str(start), end=str(end), limit=FETCH_LIMIT)
        out.extend(svc.source.fetch(query, tenant=tenant).records)
    return out


@bp.get("/conversations/<conversation_id>")
@require("query")
def conversation(conversation_id: str) -> Response:
    params = parse_params(ConversationParams, request)
    return jsonify(conversation_answer(services(), conversation_id, params, g.tenant))


def conversation_answer(
    svc: Services, conversation_id: str, params: ConversationParams, tenant: str
) -> dict[str, Any]:
    """The masked answer for one conversation; the HTTP view and the MCP tool both serve it."""
    _check_id(conversation_id, "conversation_id")
    query = Query(
        conversation_id=conversation_id,
        time_range=id_window(svc.source, params.time_range),
        limit=FETCH_LIMIT,
    )
    own = svc.source.fetch(query, tenant=tenant).records
    if not own:
        raise NotFound(
            f"no log line carries conversation_id {conversation_id!r}",
            code="CONVERSATION_NOT_FOUND",
            suggestion="Check the id, or widen time_range (e.g. time_range=30d).",
        )
    buffer_s = parse_duration(params.time_buffer)
    pool = own + (_related(svc, own, buffer_s, tenant) if params.include_related_logs else [])
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for record in pool:  # the session fetch returns the conversation's own lines again
        key = (record.timestamp_ns, record.service, record.raw or record.message)
        if key not in seen:
            seen.add(key)
            unique.append(record)
    body: dict[str, Any] = conversation_report(
        unique,
        conversation_id,
        prices=prices(svc),
        include_prompts=params.include_prompts,
        include_responses=params.include_responses,
        include_metrics=params.include_metrics,
        include_related_logs=params.include_related_logs,
        time_buffer_s=buffer_s,
    )
    return mask(with_text(body, "conversation", params.format, params.verbosity, svc))


def _error_patterns(records: list[LogRecord]) -> list[dict[str, Any]]:
    from analyzer.analysis.templates import group_by_template

    return group_by_template(records)


@bp.get("/workspace/<workspace_id>/summary")
@require("query")
def workspace(workspace_id: str) -> Response:
    params = parse_params(WorkspaceParams, request)
    return jsonify(workspace_answer(services(), workspace_id, params, g.tenant))


def workspace_answer(
    svc: Services, workspace_id: str, params: WorkspaceParams, tenant: str
) -> dict[str, Any]:
    """The masked summary of one workspace; the HTTP view and the MCP tool both serve it."""
    _check_id(workspace_id, "workspace_id")
    query = Query(workspace_id=workspace_id, time_range=params.time_range, limit=10000)
    fetched = svc.source.fetch(query, tenant=tenant)
    if not any(r.workspace_id == workspace_id for r in fetched.records):
        raise NotFound(
            f"no log line carries workspace_id {workspace_id!r} in the last {params.time_range}",
            code="WORKSPACE_NOT_FOUND",
            suggestion="Check the id, or widen time_range (e.g. time_range=7d).",
        )
    body = workspace_summary(
        fetched.records,
        workspace_id,
        prices=prices(svc),
        include_costs=params.include_costs,
        error_patterns=_error_patterns,
    )
    body["time_range"] = params.time_range
    body["window"] = fetched.window.to_dict()
    body["truncated"] = fetched.truncated
    return mask(with_text(body, "workspace", params.format, params.verbosity, svc))


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
