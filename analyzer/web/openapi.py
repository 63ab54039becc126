"""/openapi.json, generated from the same pydantic models that validate requests.

Each web module lists its endpoints in a module-level `OPENAPI` of
`(method, path, RequestModel | None, summary)`.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def build_spec(module_names: tuple[str, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    defs: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for name in module_names:
        module = importlib.import_module(name)
        for method, path, model, summary in getattr(module, "OPENAPI", []):
            op: dict[str, Any] = {
                "summary": summary,
                "responses": {
                    "200": {"description": "OK"},
                    "4XX": {
                        "description": "Bad input, auth or rate limit",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                },
            }
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
            openapi_path = path.replace("<", "{").replace(">", "}")
            for part in openapi_path.split("/"):
                if part.startswith("{") and ":" in part:
                    openapi_path = openapi_path.replace(part, "{" + part[1:-1].split(":")[1] + "}")
            params = [seg[1:-1] for seg in openapi_path.split("/") if seg.startswith("{")]
            if params:
                op.setdefault("parameters", [])
                op["parameters"] = [
                    {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                    for p in params
                ] + op["parameters"]
            paths.setdefault(openapi_path, {})[method.lower()] = op
    return {
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
