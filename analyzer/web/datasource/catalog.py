"""What a panel can ask for: the targets `/metrics` lists with the payload options each takes, the
keys ad-hoc filters apply to, and the queries a dashboard variable can run."""

from __future__ import annotations

from typing import Any

from analyzer.errors import InvalidParameter
from analyzer.model import Mode, Severity

# the record attributes ad-hoc filters narrow, and the operators they understand; Grafana 12 also
# offers <, > and keys of other datasources, which are ignored with a notice
ADHOC_KEYS = ("service", "level", "workspace_id", "model")
ADHOC_OPERATORS = ("=", "!=", "=~", "!~", "=|", "!=|")
# variable query -> the record attribute whose values it lists
VARIABLE_TARGETS = {
    "services": "service",
    "workspaces": "workspace_id",
    "models": "model",
    "conversations": "conversation_id",
}

_MODE = {"label": "Mode", "name": "mode", "type": "select",
         "options": [{"label": m.value, "value": m.value} for m in Mode]}  # fmt: skip
_SERVICES = {"label": "Services", "name": "services", "type": "multi-select",
             "placeholder": "all services"}  # fmt: skip
_SEVERITY = {"label": "Severity at least", "name": "severity", "type": "select",
             "options": [{"label": s.label, "value": s.label} for s in Severity]}  # fmt: skip
_WORKSPACE = {"label": "Workspace", "name": "workspace_id", "type": "select",
              "placeholder": "all workspaces"}  # fmt: skip
_CORRELATION = {"label": "Correlation id", "name": "correlation_id", "type": "input",
                "placeholder": "req-..."}  # fmt: skip
_BY = {"label": "Split by", "name": "by", "type": "select",
       "options": [{"label": "model", "value": "model"},
                   {"label": "workspace", "value": "workspace"}]}  # fmt: skip

METRICS: dict[str, dict[str, Any]] = {
    "error_rate": {"label": "Error rate by service (time series)",
                   "payloads": [_SERVICES, _WORKSPACE]},
    "pattern_occurrences": {"label": "Pattern occurrences by template (time series)",
                            "payloads": [_SERVICES, _SEVERITY, _WORKSPACE]},
    "token_usage": {"label": "Tokens over time by model or workspace (time series)",
                    "payloads": [_BY, _SERVICES, _WORKSPACE]},
    "cost": {"label": "Cost over time by model or workspace (time series)",
             "payloads": [_BY, _SERVICES, _WORKSPACE]},
    "top_patterns": {"label": "Top patterns with counts and suggestions (table)",
                     "payloads": [_SERVICES, _SEVERITY, _WORKSPACE]},
    "insights": {"label": "Ranked insights (table)",
                 "payloads": [_MODE, _SERVICES, _SEVERITY, _WORKSPACE]},
    "conversations": {"label": "AI conversations (table)", "payloads": [_SERVICES, _WORKSPACE]},
    "workspace_costs": {"label": "Cost by workspace (table)", "payloads": [_WORKSPACE, _SERVICES]},
    "correlation_graph": {"label": "Request flow of a correlation id (node graph)",
                          "payloads": [_CORRELATION]},
    "narrative": {"label": "Narrative summary (one-cell table)",
                  "payloads": [_MODE, _SERVICES, _SEVERITY, _WORKSPACE, _CORRELATION]},
}  # fmt: skip


def unknown_target(name: str | None) -> InvalidParameter:
    return InvalidParameter(
        f"unknown target {name!r}",
        code="UNKNOWN_TARGET",
        suggestion=f"Use one of: {', '.join(METRICS)} (POST /grafana/metrics lists them).",
        details={"target": name},
    )


def unknown_filter_key(key: str) -> InvalidParameter:
    return InvalidParameter(
        f"unknown ad-hoc filter key {key!r}",
        code="UNKNOWN_FILTER_KEY",
        suggestion=f"Use one of: {', '.join(ADHOC_KEYS)} (POST /grafana/tag-keys).",
        details={"key": key},
    )
