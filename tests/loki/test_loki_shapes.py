"""A 200 from Loki whose JSON has another shape, or says `"status": "error"`, is an upstream
error (502 with a code), never an empty success and never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.errors import AnalyzerError
from analyzer.services import build_services
from analyzer.sources.loki import LokiSource

QUERY_RANGE = "/loki/api/v1/query_range"


def _streams(**stream: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "streams", "result": [stream]}}


def _matrix(values: Any) -> dict[str, Any]:
    result = [{"metric": {"service": "api"}, "values": values}]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


GOOD_VALUE = ["1795496505694277189", "hello"]
WRONG_SHAPES: dict[str, Any] = {
    "body is a list": [1, 2],
    "data is a list": {"status": "success", "data": []},
    "data is a string": {"status": "success", "data": "streams"},
    "data is null": {"status": "success", "data": None},
    "resultType missing": {"status": "success", "data": {"result": []}},
    "resultType unknown": {"status": "success", "data": {"resultType": "table", "result": []}},
    "result is an object": {"status": "success", "data": {"resultType": "streams", "result": {}}},
    "result is a string": {"status": "success", "data": {"resultType": "streams", "result": "x"}},
    "result item is a string": {
        "status": "success",
        "data": {"resultType": "streams", "result": ["x"]},
    },
    "stream is a list": _streams(stream=["service", "api"], values=[GOOD_VALUE]),
    "values is an object": _streams(stream={}, values={"a": 1}),
    "values is a number": _streams(stream={}, values=7),
    "structured metadata is a string": _streams(
        stream={}, values=[[*GOOD_VALUE, {"structuredMetadata": "trace=1"}]]
    ),
    "matrix point is not a pair": _matrix([[1, "2", 3]]),
    "matrix value is not a number": _matrix([[1795496505, "many"]]),
    "stats is a list": {
        "status": "success",
        "data": {"resultType": "streams", "result": [], "stats": []},
    },
}


def answer(recorded_loki, body: Any) -> None:
    """Loki's range and instant queries both answer the wrong shape (an analysis sends both)."""
    recorded_loki.script(QUERY_RANGE, (200, json.dumps(body)))
    recorded_loki.script("/loki/api/v1/query", (200, json.dumps(body)))


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_a_wrong_shape_is_a_bad_response(recorded_loki, shape: str) -> None:
    answer(recorded_loki, WRONG_SHAPES[shape])
    with LokiSource(recorded_loki.url, retries=0) as loki, pytest.raises(AnalyzerError) as caught:
        loki.query_range('{service="api"}', 1, 2)
    assert (caught.value.status, caught.value.code) == (502, "LOKI_BAD_RESPONSE")
    assert "unexpected shape" in caught.value.message


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_the_api_answers_a_wrong_shape_with_502(recorded_loki, tmp_path: Path, shape) -> None:
    answer(recorded_loki, WRONG_SHAPES[shape])
    settings = Settings(loki_url=recorded_loki.url, loki_retries=0, data_dir=str(tmp_path))
    client = create_app(settings, services=build_services(settings)).test_client()
    response = client.get("/api/v1/ai_logs/query?cache=false")
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "LOKI_BAD_RESPONSE"


def test_status_error_inside_a_200_is_an_error_not_an_empty_answer(recorded_loki) -> None:
    answer(recorded_loki, {"status": "error", "errorType": "internal", "error": "ingester down"})
    with LokiSource(recorded_loki.url, retries=0) as loki, pytest.raises(AnalyzerError) as caught:
        loki.query_range('{service="api"}', 1, 2)
    assert (caught.value.status, caught.value.code) == (502, "LOKI_ERROR")
    assert "ingester down" in caught.value.message


def test_status_error_for_bad_data_is_a_bad_query(recorded_loki) -> None:
    answer(recorded_loki, {"status": "error", "errorType": "bad_data", "error": "parse error"})
    with LokiSource(recorded_loki.url, retries=0) as loki, pytest.raises(AnalyzerError) as caught:
        loki.query_range('{service="api"}', 1, 2)
    assert (caught.value.status, caught.value.code) == (400, "BAD_QUERY")


def test_every_recorded_success_still_passes_the_shape_check(recorded_loki) -> None:
    with LokiSource(recorded_loki.url, retries=0) as loki:
        for exchange in recorded_loki.exchanges:
            request = exchange["request"]
            if exchange["status"] != 200 or request["method"] != "GET":
                continue
            if not request["path"].startswith("/loki/api/v1/") or "/rules" in request["path"]:
                continue  # the ruler answers YAML
            loki.get(request["path"], request["params"], headers=request.get("headers"))
