"""Every parameter of /api/v1/ai_logs/query: accepted values work, bad ones are a 400 naming it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

URL = "/api/v1/ai_logs/query"

GOOD = [
    ("mode", "performance"),
    ("mode", "audit"),
    ("services", "api,anythingllm"),
    ("time_range", "2h"),
    ("time_range", "30s"),
    ("start", "2026-11-24T09:00:00Z"),
    ("correlation_id", "corr-001eaa"),
    ("conversation_id", "conv-001"),
    ("session_id", "s-1"),
    ("workspace_id", "ws-1"),
    ("severity_threshold", "warning"),
    ("severity_threshold", "critical"),
    ("include_context", "50"),
    ("aggregation", "by_service"),
    ("aggregation", "by_error"),
    ("aggregation", "by_pattern"),
    ("format", "timeline"),
    ("format", "narrative"),
    ("deduplicate", "true"),
    ("highlight", "timeout"),
    ("context_window", "30s"),
    ("exclude_patterns", "slow vector.*"),
    ("verbosity", "detailed"),
    ("verbosity", "minimal"),
    ("limit", "10000"),
    ("cache", "false"),
]

BAD = [
    ("mode", "debugging"),
    ("time_range", "2 hours"),
    ("time_range", "5w"),
    ("start", "yesterday"),
    ("end", "not-a-time"),
    ("correlation_id", "x" * 65),
    ("workspace_id", ""),
    ("severity_threshold", "loud"),
    ("include_context", "51"),
    ("include_context", "-1"),
    ("aggregation", "by_host"),
    ("format", "xml"),
    ("deduplicate", "maybe"),
    ("context_window", "soon"),
    ("exclude_patterns", "(unclosed"),
    ("verbosity", "chatty"),
    ("limit", "0"),
    ("limit", "10001"),
    ("limit", "many"),
    ("cache", "perhaps"),
]


@pytest.mark.parametrize(("name", "value"), GOOD)
def test_accepted_value_answers_200(client: FlaskClient, name: str, value: str) -> None:
    response = client.get(URL, query_string={name: value, "time_range": "2h"} | {name: value})
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) >= {"summary", "logs", "insights", "metadata"}


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_value_is_a_400_naming_the_parameter(
    client: FlaskClient, name: str, value: str
) -> None:
    response = client.get(URL, query_string={name: value})
    body = response.get_json()
    assert response.status_code == 400
    assert body["error"]["code"] == "INVALID_PARAMETER"
    assert name in body["error"]["message"]
    assert body["error"]["suggestion"]


def test_unknown_parameter_is_a_400_naming_it(client: FlaskClient) -> None:
    body = client.get(URL, query_string={"serivces": "api"}).get_json()
    assert body["error"]["code"] == "UNKNOWN_PARAMETER"
    assert "serivces" in body["error"]["message"]
    assert "services" in body["error"]["suggestion"]


def test_more_than_ten_highlight_terms_is_a_400(client: FlaskClient) -> None:
    terms = [f"t{i}" for i in range(11)]
    body = client.get(URL, query_string=[("highlight", t) for t in terms]).get_json()
    assert body["error"]["code"] == "INVALID_PARAMETER"
    assert "highlight" in body["error"]["message"]


def test_more_than_ten_exclude_patterns_is_a_400(client: FlaskClient) -> None:
    response = client.post(URL, json={"exclude_patterns": [f"p{i}" for i in range(11)]})
    assert response.status_code == 400
    assert "exclude_patterns" in response.get_json()["error"]["message"]


def test_end_before_start_is_a_400(client: FlaskClient) -> None:
    response = client.get(
        URL, query_string={"start": "2026-11-24T10:00:00Z", "end": "2026-11-24T09:00:00Z"}
    )
    assert response.status_code == 400
    assert "end must be after start" in response.get_json()["error"]["message"]


def test_post_body_takes_the_same_parameters(client: FlaskClient) -> None:
    response = client.post(URL, json={"mode": "errors", "time_range": "2h", "services": ["api"]})
    body = response.get_json()
    assert response.status_code == 200
    assert body["metadata"]["query_mode"] == "errors"
    assert body["metadata"]["services_queried"] == ["api"]


def test_post_body_that_is_not_an_object_is_a_400(client: FlaskClient) -> None:
    response = client.post(URL, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_JSON"
