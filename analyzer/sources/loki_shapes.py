"""What each Loki endpoint's `data` must look like before anything reads it.

A proxy, a version skew or a broken Loki can answer 200 with JSON of another shape; reading
that blindly fails deep inside analysis. The transport checks the shape once, by path, and
answers 502 LOKI_BAD_RESPONSE naming what was wrong. Only what readers rely on is checked:
containers, pairs and numbers. An entry of a stream that is not `[ts, line, ...]` stays a
counted malformed line, as before. Paths not listed here pass unchecked.
"""

from __future__ import annotations

import math
from typing import Any

from analyzer.errors import SourceUnavailable

RESULT_TYPES = {"streams", "matrix", "vector", "scalar", "string"}


class ShapeError(ValueError):
    pass


def check_shape(path: str, data: Any) -> None:
    """Raise 502 LOKI_BAD_RESPONSE when `data` (the envelope's) cannot be what `path` answers."""
    checker = _checker(path)
    if checker is None:
        return
    try:
        checker(data)
    except ShapeError as exc:
        raise SourceUnavailable(
            f"Loki answered {path} with JSON of an unexpected shape: {exc}",
            code="LOKI_BAD_RESPONSE",
            status=502,
            suggestion="Check that LOKI_URL points at Loki itself (not a proxy that rewrites "
            "answers) and that it is Loki 2.9 or newer.",
        ) from None


def _checker(path: str) -> Any:
    tail = path.rsplit("/loki/api/v1/", 1)[-1]
    if tail in ("query_range", "query"):
        return _query_data
    if tail in ("labels",) or (tail.startswith("label/") and tail.endswith("/values")):
        return _strings
    if tail == "series":
        return _label_sets
    if tail in ("index/volume", "index/volume_range"):
        return _query_data
    if tail == "index/stats":
        return _numbers
    if tail == "patterns":
        return _patterns
    return None


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeError(message)


def _query_data(data: Any) -> None:
    _need(isinstance(data, dict), f"data is {_kind(data)}, not an object")
    kind = data.get("resultType")
    _need(kind in RESULT_TYPES, f"resultType {kind!r} is not one of {sorted(RESULT_TYPES)}")
    result = data.get("result")
    stats = data.get("stats")
    _need(stats is None or isinstance(stats, dict), "stats is not an object")
    if isinstance(stats, dict):
        _need(
            isinstance(stats.get("summary", {}), dict | type(None)), "stats.summary is not an object"
        )
    if kind in ("scalar", "string"):
        _need(isinstance(result, list) and len(result) == 2, f"a {kind} result is not a pair")
        return
    _need(result is None or isinstance(result, list), f"result is {_kind(result)}, not a list")
    for index, item in enumerate(result or []):
        where = f"result[{index}]"
        _need(isinstance(item, dict), f"{where} is {_kind(item)}, not an object")
        if kind == "streams":
            _stream(item, where)
        else:
            _series(item, where)


def _stream(item: dict[str, Any], where: str) -> None:
    _need(isinstance(item.get("stream", {}), dict), f"{where}.stream is not an object")
    values = item.get("values")
    _need(values is None or isinstance(values, list), f"{where}.values is not a list")
    for number, value in enumerate(values or []):
        if isinstance(value, list) and len(value) > 2 and isinstance(value[2], dict):
            for part in ("structuredMetadata", "parsed"):
                inner = value[2].get(part)
                _need(
                    inner is None or isinstance(inner, dict),
                    f"{where}.values[{number}][2].{part} is not an object",
                )


def _series(item: dict[str, Any], where: str) -> None:
    _need(isinstance(item.get("metric", {}), dict), f"{where}.metric is not an object")
    points = item.get("values")
    if points is None and item.get("value") is not None:
        points = [item["value"]]
    _need(points is None or isinstance(points, list), f"{where}.values is not a list")
    for number, point in enumerate(points or []):
        _need(
            isinstance(point, list | tuple) and len(point) == 2,
            f"{where}.values[{number}] is not a [time, value] pair",
        )
        _need(
            all(_numeric(part) for part in point), f"{where}.values[{number}] holds a non-number"
        )


def _strings(data: Any) -> None:
    _need(data is None or isinstance(data, list), f"data is {_kind(data)}, not a list")
    _need(all(isinstance(v, str) for v in data or []), "a label value is not a string")


def _label_sets(data: Any) -> None:
    _need(data is None or isinstance(data, list), f"data is {_kind(data)}, not a list")
    _need(all(isinstance(v, dict) for v in data or []), "a series is not an object of labels")


def _numbers(data: Any) -> None:
    _need(isinstance(data, dict), f"data is {_kind(data)}, not an object")
    _need(all(_numeric(v) for v in data.values()), "a statistic is not a number")


def _patterns(data: Any) -> None:
    _need(data is None or isinstance(data, list), f"data is {_kind(data)}, not a list")
    for index, item in enumerate(data or []):
        _need(isinstance(item, dict), f"data[{index}] is not an object")
        samples = item.get("samples")
        _need(samples is None or isinstance(samples, list), f"data[{index}].samples is not a list")
        for sample in samples or []:
            _need(
                isinstance(sample, list | tuple)
                and len(sample) == 2
                and all(_numeric(part, whole=True) for part in sample),
                f"data[{index}].samples holds something other than [time, count] pairs",
            )


def _numeric(value: Any, *, whole: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and (not whole or value.is_integer())
    if isinstance(value, str):  # Loki writes sample values as strings, "NaN" and "+Inf" too
        try:
            int(value) if whole else float(value)
        except ValueError:
            return False
        return True
    return False


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
