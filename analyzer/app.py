"""create_app(settings): wires the source, the stores and the blueprints."""

from __future__ import annotations

import importlib

from flask import Flask

from analyzer.config import Settings, load_settings
from analyzer.instrument.wsgi import CorrelationIdMiddleware
from analyzer.services import Services, build_services
from analyzer.web.json_body import StrictJSONProvider

# Each module exposes `register(app, services)`; order matters only for error handlers (first).
WEB_MODULES = (
    "analyzer.web.errors",
    "analyzer.web.admission",
    "analyzer.web.observability",
    "analyzer.web.agent_api",
    "analyzer.web.datasource",
    "analyzer.web.webhooks",
    "analyzer.web.analyses_api",
    "analyzer.web.reports",
    "analyzer.web.correlation_api",
    "analyzer.web.conversation_api",
    "analyzer.web.stream",
    "analyzer.web.patterns_api",
    "analyzer.mcp.http",
)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else load_settings())
    services = services or build_services(settings)
    app = Flask("analyzer")
    app.json = StrictJSONProvider(app)  # bodies: finite numbers, valid Unicode, bounded depth
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ai_logs"] = services
    for name in WEB_MODULES:
        importlib.import_module(name).register(app, services)
    # reads or creates X-Correlation-ID, returns it, and puts it on every log record
    app.wsgi_app = CorrelationIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
