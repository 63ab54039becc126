"""Request bodies are parsed as strict JSON: shallow, finite, valid Unicode.

Python's parser accepts what JSON does not (NaN, Infinity, 1e400 as infinity, lone UTF-16
surrogates such as "\\ud800") and recurses once per nesting level, so a body nested a thousand
deep would end in a RecursionError far from the parser. Every blueprint reads bodies through
`request.get_json`, which calls the app's JSON provider: this one turns each of those into a
400 with a code before any view sees the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from analyzer.errors import InvalidParameter

MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _invalid(message: str, code: str = "INVALID_JSON") -> InvalidParameter:
    return InvalidParameter(
        f"the request body is not valid JSON: {message}",
        code=code,
        suggestion="Send a JSON object: finite numbers, valid Unicode, nested at most "
        f"{MAX_DEPTH} levels.",
    )


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _invalid(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> float:
    raise _invalid(f"{name} is not a JSON number")


def _check(value: Any, *, strings: bool) -> None:
    """Depth of containers, and (when asked) that every string encodes as UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise _invalid(f"nested deeper than {MAX_DEPTH} levels", "JSON_TOO_DEEP")
            for key, inner in item.items():
                if strings:
                    _utf8(key)
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise _invalid(f"nested deeper than {MAX_DEPTH} levels", "JSON_TOO_DEEP")
            stack.extend((inner, depth + 1) for inner in item)
        elif strings and isinstance(item, str):
            _utf8(item)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None


def strict_loads(data: str | bytes, **kwargs: Any) -> Any:
    kwargs.setdefault("parse_float", _finite)
    kwargs.setdefault("parse_constant", _constant)
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise _invalid(f"nested deeper than {MAX_DEPTH} levels", "JSON_TOO_DEEP") from None
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    _check(value, strings=bool(_SURROGATE_ESCAPE.search(text)))
    return value


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_loads(s, **kwargs)
