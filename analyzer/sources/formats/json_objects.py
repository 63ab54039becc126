"""A line as a JSON object: the fast parser first, Python's for what it refuses.

Shared by format detection (is this file JSON lines?) and the file scan (read its fields), so
both agree on what counts as a JSON line.
"""

from __future__ import annotations

import json
from typing import Any

try:  # several times faster than json on the lines of a large dump
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - an environment installed before the dependency
    _loads = json.loads


def load_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, None when it is not one."""
    try:
        data = _loads(line)
    except ValueError:  # orjson's and json's decode errors, and invalid UTF-8
        return None
    return data if type(data) is dict else None


def lenient_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object the fast parser refuses (NaN, lone surrogates), as Python reads it."""
    try:
        data = json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):  # nested deeper than Python parses: not a record
        return None
    return data if type(data) is dict else None
