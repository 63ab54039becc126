"""Request bodies of the Grafana-facing endpoints, as the service reads them.

The datasource's envelope models ignore unknown keys (Grafana adds keys between versions) and
take plain strings, then check names against the targets, payloads, variables and filter keys
it serves. These schemas state those names, so /openapi.json says which bodies are accepted.
Rules JSON Schema cannot state stay in prose: a range whose end is after its start.
"""

from __future__ import annotations

from typing import Any

from analyzer.model import INSTANT_SCHEMA, LATEST, SEVERITY_SCHEMA, Mode

_TEXT_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_TIME = INSTANT_SCHEMA["anyOf"][0]  # RFC 3339 in Loki's years


def _payload() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"anyOf": [{"enum": [m.value for m in Mode]}, {"type": "null"}]},
            "services": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ]
            },
            "severity": {"anyOf": SEVERITY_SCHEMA["anyOf"][1:]},
            "workspace_id": _TEXT_OR_NULL,
            "correlation_id": _TEXT_OR_NULL,
            "by": {"anyOf": [{"enum": ["model", "workspace"]}, {"type": "null"}]},
        },
    }


def request_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> the JSON schema of the request body."""
    from analyzer.web.datasource.catalog import ADHOC_KEYS, METRICS, VARIABLE_TARGETS

    target = {
        "type": "object",
        "required": ["target"],
        "properties": {
            "target": {"enum": sorted(METRICS)},
            "refId": {"type": "string"},
            "hide": {"type": "boolean"},
            "payload": {"anyOf": [_payload(), {"type": "null"}]},
        },
    }
    panel_range = {
        "type": "object",
        "required": ["from", "to"],
        "properties": {"from": _TIME, "to": _TIME},
        "description": "`to` after `from`.",
    }
    return {
        ("post", "/grafana/query"): {
            "type": "object",
            "required": ["range", "targets"],
            "properties": {
                "range": panel_range,
                "intervalMs": {"type": "number", "minimum": 0},
                "maxDataPoints": {"type": "integer", "minimum": 1},
                "targets": {
                    "type": "array",
                    "items": target,
                    "minItems": 1,
                    "contains": {"properties": {"hide": {"const": False}}},
                },
                "adhocFilters": {"type": "array", "items": _filter(ADHOC_KEYS)},
                "filters": {"type": "array", "items": _filter(ADHOC_KEYS)},
            },
        },
        ("post", "/grafana/metric-payload-options"): {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["metric", "name"],
                    "properties": {
                        "metric": {"const": name},
                        "name": {"enum": [p["name"] for p in spec["payloads"]]},
                        "payload": {"type": "object"},
                    },
                }
                for name, spec in sorted(METRICS.items())
                if spec["payloads"]
            ]
        },
        ("post", "/grafana/variable"): {
            "type": "object",
            "required": ["payload"],
            "properties": {
                "payload": {
                    "anyOf": [
                        {
                            "type": "object",
                            "required": ["target"],
                            "properties": {"target": {"enum": list(VARIABLE_TARGETS)}},
                        },
                        {"enum": list(VARIABLE_TARGETS)},
                    ]
                },
                "range": {"anyOf": [panel_range, {"type": "null"}]},
            },
        },
        ("post", "/grafana/tag-values"): {
            "type": "object",
            "required": ["key"],
            "properties": {"key": {"enum": list(ADHOC_KEYS)}},
        },
        # Grafana's notification; fields are read leniently (text of any value), so only the
        # shape that must hold is stated
        ("post", "/webhooks/grafana"): {
            "type": "object",
            "required": ["alerts"],
            "properties": {
                "alerts": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["startsAt"],
                        "properties": {
                            "status": {
                                "anyOf": [
                                    {
                                        "type": "string",
                                        "pattern": _any_case_choice("firing", "resolved"),
                                    },
                                    {"enum": [None, "", False, 0]},
                                ]
                            },
                            "labels": {"type": ["object", "null"]},
                            "annotations": {"type": ["object", "null"]},
                            "startsAt": {
                                "anyOf": [
                                    _TIME,
                                    {"type": "integer", "minimum": 1, "maximum": int(LATEST.timestamp())},
                                ]
                            },
                        },
                    },
                },
            },
        },
    }


def _any_case_choice(*words: str) -> str:
    return "^(?:" + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" for c in word) for word in words
    ) + ")$"


def _filter(keys: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["key"],
        "properties": {
            "key": {"enum": list(keys)},
            "operator": {"enum": ["=", "!=", "=~", "!~"]},
            "value": {"type": "string"},
        },
    }
