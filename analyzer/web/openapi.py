"""/openapi.json, generated from the same pydantic models that validate requests.

Each web module lists its endpoints in a module-level `OPENAPI` of
`(method, path, RequestModel | None, summary)`. The document states what the running service
does: operations that need no key say so (`security: []`), and with no keys file (open mode,
loopback only) none does; every error class an operation can answer is documented.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask
from pydantic import BaseModel

from analyzer import __version__

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "suggestion"],
            "properties": {
                "code": {"type": "string", "example": "INVALID_PARAMETER"},
                "message": {"type": "string"},
                "suggestion": {"type": "string"},
            },
        }
    },
}


def _parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        out.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": prop.get("description", ""),
                "schema": {k: v for k, v in prop.items() if k != "description"},
            }
        )
    return out


ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RESPONSES = {
    "2XX": {"description": "OK"},
    "4XX": {
        "description": "Bad input (400), key (401/403), path or method (404/405), body too "
        "large (413) or of another type (415), rate limit (429)",
        "content": ERROR_REF,
    },
    "5XX": {
        "description": "Loki or Redis unavailable (502/503, with Retry-After while the circuit "
        "is open), query time limit reached (504), or an unexpected failure (500)",
        "content": ERROR_REF,
    },
}


# What each path parameter accepts, as the views check it (unknown ids are a 404).
_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\x00-\\x1f\\x7f]+$"}
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "conversation_id": _ID,
    "workspace_id": _ID,
    "pattern_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
}


def _openapi_path(rule: str) -> str:
    return "/".join(
        "{" + seg[1:-1].split(":")[-1] + "}" if seg.startswith("<") else seg
        for seg in rule.split("/")
    )


def scopes_by_operation(app: Flask) -> dict[tuple[str, str], str | None]:
    """(method, OpenAPI path) -> the key scope its view requires, None when it needs none."""
    out: dict[tuple[str, str], str | None] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        scope = getattr(view, "required_scope", None)
        for method in rule.methods or ():
            key = (method.lower(), _openapi_path(str(rule)))
            out[key] = out.get(key) or scope  # two views on one path (/stream): either guards
    return out


def build_spec(
    module_names: tuple[str, ...],
    *,
    secured: bool = True,
    scopes: dict[tuple[str, str], str | None] | None = None,
) -> dict[str, Any]:
    from analyzer.web.openapi_bodies import request_bodies

    bodies = request_bodies()
    paths: dict[str, dict[str, Any]] = {}
    defs: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for name in module_names:
        module = importlib.import_module(name)
        for method, path, model, summary in getattr(module, "OPENAPI", []):
            op: dict[str, Any] = {"summary": summary, "responses": dict(RESPONSES)}
            if scopes is not None and not scopes.get((method.lower(), _openapi_path(path))):
                op["security"] = []  # answers without a key
            if model is not None:
                if method.upper() == "GET":
                    op["parameters"] = _parameters(model, defs)
                else:
                    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                    defs.update(schema.pop("$defs", {}))
                    defs[model.__name__] = schema
                    op["requestBody"] = {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                            }
                        }
                    }
            body = bodies.get((method.lower(), path))
            if body is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
            openapi_path = path.replace("<", "{").replace(">", "}")
            for part in openapi_path.split("/"):
                if part.startswith("{") and ":" in part:
                    openapi_path = openapi_path.replace(part, "{" + part[1:-1].split(":")[1] + "}")
            params = [seg[1:-1] for seg in openapi_path.split("/") if seg.startswith("{")]
            if params:
                op.setdefault("parameters", [])
                op["parameters"] = [
                    {
                        "name": p,
                        "in": "path",
                        "required": True,
                        "schema": PATH_PARAMETERS.get(p, {"type": "string"}),
                    }
                    for p in params
                ] + op["parameters"]
            paths.setdefault(openapi_path, {})[method.lower()] = op
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "AI Logs Analyzer",
            "version": __version__,
            "description": (
                "Log analysis for Grafana and Loki: queries, patterns, correlation, AI usage."
            ),
        },
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"apiKey": []}, {"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
    if not secured:  # open mode: no keys exist, every operation answers without one
        del spec["security"]
        for operations in paths.values():
            for op in operations.values():
                op.pop("security", None)
    return spec
