"""Requests to the analyzer's API written in prose (runbooks, alert descriptions), checked
against the API's own request models: the `OPENAPI` lists of the web modules name each
endpoint's method, path and the pydantic model that validates its parameters.

A request is written `GET /api/v1/ai_logs/query?mode=errors&time_range=30m` or
`POST /api/v1/ai_logs/query {"mode": "errors"}`; alert templates in it (`{{ $labels.service }}`,
`{{ .Labels.model }}`) stand for a value and are checked as one.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

API_PREFIX = "/api/v1/ai_logs/"
_REQUEST = re.compile(r"\b(GET|POST|PATCH|PUT|DELETE)\s+(/api/v1/ai_logs/[^\s;,)\"'`]*)")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_SAMPLE = "sample"  # what a template stands for when the request is validated


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    pattern: re.Pattern[str]
    model: type[BaseModel] | None


@dataclass(frozen=True)
class WrittenRequest:
    method: str
    target: str  # path and query string as written
    body: dict[str, Any] | None
    offset: int  # where it starts in the text


@cache
def endpoints() -> tuple[Endpoint, ...]:
    from analyzer.app import WEB_MODULES

    found = []
    for name in WEB_MODULES:
        for method, path, model, _summary in getattr(importlib.import_module(name), "OPENAPI", []):
            regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path))
            found.append(Endpoint(method, path, re.compile(regex + "/?"), model))
    return tuple(found)


def find_requests(text: str) -> list[WrittenRequest]:
    """The API requests written in `text`, with the JSON body that follows a POST."""
    plain = _TEMPLATE.sub(_SAMPLE, text)
    found = []
    for match in _REQUEST.finditer(plain):
        body = None
        rest = plain[match.end():].lstrip()
        if rest.startswith("{"):
            try:
                body, _ = json.JSONDecoder().raw_decode(rest)
            except ValueError:
                body = {"__invalid_json__": rest[:60]}
        target = match.group(2).rstrip(".:")  # the end of a sentence is not part of the path
        found.append(WrittenRequest(match.group(1), target, body, match.start()))
    return found


def request_problem(request: WrittenRequest) -> str | None:
    """Why the API would refuse the request, or None when it is valid."""
    from analyzer.errors import InvalidParameter
    from analyzer.web.params import validate

    parts = urlsplit(request.target)
    same_path = [e for e in endpoints() if e.pattern.fullmatch(parts.path)]
    if not same_path:
        return f"{parts.path} is not an endpoint of the API (GET /openapi.json lists them)"
    endpoint = next((e for e in same_path if e.method == request.method), None)
    if endpoint is None:
        allowed = ", ".join(sorted({e.method for e in same_path}))
        return f"{request.method} is not allowed on {parts.path} (use {allowed})"
    if isinstance(request.body, dict) and "__invalid_json__" in request.body:
        return f"the body of {request.method} {parts.path} is not JSON"
    values: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        values.setdefault(key, []).append(value)
    merged: dict[str, Any] = {k: v if len(v) > 1 else v[0] for k, v in values.items()}
    if isinstance(request.body, dict):
        merged.update(request.body)
    if endpoint.model is None:
        return f"{endpoint.path} takes no parameters" if merged else None
    try:
        validate(endpoint.model, merged)
    except InvalidParameter as exc:
        return f"{request.method} {parts.path}: {exc.message} ({exc.suggestion})"
    return None
