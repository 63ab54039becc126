"""What every request passes before a view runs: the service is switched on, the body is not
too large, and one deadline (AI_LOGS_MAX_QUERY_TIME) bounds everything the request does.

- `AI_LOGS_ENABLED=false` is the rollback switch: every endpoint but health, readiness,
  metrics and the OpenAPI document answers 503 ANALYZER_DISABLED.
- A body over `max_body_bytes` is refused from its Content-Length, before it is read; a
  chunked body is cut by werkzeug at the same size.
- The deadline is a context variable (`infra.deadline`) that every Loki call consults.
"""

from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, g, request

from analyzer.errors import AnalyzerError
from analyzer.infra import deadline
from analyzer.services import Services

ALWAYS_ON = frozenset(
    {"observability.healthz", "observability.readyz", "observability.prometheus_metrics",
     "observability.openapi"}
)


def register(app: Flask, services: Services) -> None:
    settings = services.settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    @app.before_request
    def _admit() -> None:
        if not settings.enabled and request.endpoint not in ALWAYS_ON:
            raise AnalyzerError(
                "the analyzer is switched off on this deployment (AI_LOGS_ENABLED=false)",
                code="ANALYZER_DISABLED",
                status=503,
                suggestion="Query Loki directly (Grafana Explore) until the operators switch "
                "the analyzer back on.",
            )
        size = request.content_length
        if size is not None and size > settings.max_body_bytes:
            raise AnalyzerError(
                f"the request body is {size} bytes; at most {settings.max_body_bytes} are read",
                code="PAYLOAD_TOO_LARGE",
                status=413,
                suggestion="Send a smaller body (AI_LOGS_MAX_BODY_BYTES sets the cap).",
            )
        stack = ExitStack()
        stack.enter_context(deadline.bounded(settings.max_query_time))
        g.deadline_scope = stack

    @app.teardown_request
    def _release(_: BaseException | None) -> None:
        stack = g.pop("deadline_scope", None)
        if stack is not None:
            stack.close()
