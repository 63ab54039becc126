"""The analyzer watching itself: /healthz, /readyz, /metrics, /openapi.json, request ids."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from analyzer.infra import metrics
from analyzer.infra.redis_client import redis_ok
from analyzer.instrument import get_correlation_id
from analyzer.services import Services

bp = Blueprint("observability", __name__)
log = logging.getLogger("analyzer.access")

OPENAPI = [
    ("GET", "/healthz", None, "Liveness: the process answers."),
    ("GET", "/readyz", None, "Readiness: Loki (or the log files) and Redis answer."),
    ("GET", "/metrics", None, "Prometheus metrics of the analyzer itself."),
    ("GET", "/openapi.json", None, "This description."),
]


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    from analyzer.web.context import services

    svc = services()
    try:
        source = svc.source.check()
    except Exception as exc:
        source = {"ok": False, "detail": f"{type(exc).__name__}"}
    redis_ready, redis_detail = redis_ok(svc.redis)
    checks = {
        svc.source.name: source,
        "redis": {"ok": redis_ready, "detail": redis_detail},
    }
    ready = all(c["ok"] for c in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), (
        200 if ready else 503
    )


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    from analyzer.app import WEB_MODULES
    from analyzer.web.context import services
    from analyzer.web.openapi import build_spec, scopes_by_operation

    return jsonify(
        build_spec(
            WEB_MODULES,
            secured=services().keys is not None,
            scopes=scopes_by_operation(current_app),
        )
    )


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.correlation_id = get_correlation_id()  # set by the correlation-id middleware

    @app.after_request
    def _finish(response: Response) -> Response:
        decision = g.get("ratelimit")
        if decision is not None:
            for name, value in decision.headers().items():
                response.headers.setdefault(name, value)
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed, 2),
                "correlation_id": g.get("correlation_id"),
                "key": getattr(g.get("principal"), "name", None),
            },
        )
        return response
