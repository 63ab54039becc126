"""The agent API's query endpoint: `GET|POST /api/v1/ai_logs/query`."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

from analyzer.infra import metrics
from analyzer.model import Query
from analyzer.querying import resolve_window, respond_json
from analyzer.services import Services
from analyzer.sources.known import require_known_services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params

bp = Blueprint("agent_api", __name__, url_prefix="/api/v1/ai_logs")

OPENAPI = [
    ("GET", "/api/v1/ai_logs/query", Query, "Analyse logs in one of five modes."),
    ("POST", "/api/v1/ai_logs/query", Query, "The same, parameters in a JSON body."),
]


@bp.route("/query", methods=["GET", "POST"])
@require("query")
def query_logs() -> Response:
    query = parse_params(Query, request)
    svc = services()
    started = time.perf_counter()
    if query.services and not query.expand_dependencies:
        window = resolve_window(svc, query)
        require_known_services(svc.source, query.services, tenant=g.tenant, window=window)
    text, cache_hit = respond_json(svc, query, tenant=g.tenant)
    metrics.QUERIES.labels(mode=query.mode.value, cache_hit=str(cache_hit).lower()).inc()
    metrics.QUERY_DURATION.labels(mode=query.mode.value).observe(time.perf_counter() - started)
    return Response(text, mimetype="application/json")

def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
