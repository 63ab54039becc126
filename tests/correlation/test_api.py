"""The correlation, conversation and workspace endpoints over the demo logs, through Flask."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.services import build_services


@pytest.fixture
def client(demo: Any, tmp_path: Any) -> FlaskClient:
    settings = Settings(source_path=str(demo.path), data_dir=str(tmp_path))
    return create_app(settings, services=build_services(settings)).test_client()


def failed_request(demo: Any, kind: str) -> dict[str, Any]:
    incident = next(i for i in demo.truth["incidents"] if i["kind"] == kind)
    return next(r for r in demo.truth["requests"] if r["incident"] == incident["id"])


def test_correlate_reports_the_failing_hop_of_a_cache_outage_request(
    client: FlaskClient, demo: Any
) -> None:
    request = failed_request(demo, "cache_outage")
    answer = client.get(f"/api/v1/ai_logs/correlate?correlation_id={request['correlation_id']}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["failing_hop"] == "redis"
    assert [n["service"] for n in body["critical_path"]] == request["hops"]
    assert {
        "request_flow",
        "service_timeline",
        "bottlenecks",
        "errors",
        "total_duration_ms",
        "service_durations",
        "recommendations",
    } <= set(body)


def test_unknown_correlation_id_is_a_404_with_a_suggestion(client: FlaskClient) -> None:
    body = client.get("/api/v1/ai_logs/correlate?correlation_id=req-000000000000").get_json()
    assert body["error"]["code"] == "CORRELATION_NOT_FOUND"
    assert body["error"]["suggestion"]


def test_bad_parameters_are_named(client: FlaskClient) -> None:
    answer = client.get("/api/v1/ai_logs/correlate?correlation_id=x&time_window=soon")
    assert answer.status_code == 400
    assert "time_window" in answer.get_json()["error"]["message"]


def test_conversation_endpoint_never_returns_a_seeded_secret(
    client: FlaskClient, demo: Any
) -> None:
    texts = []
    for conversation in demo.truth["conversations"]:
        answer = client.get(
            f"/api/v1/ai_logs/conversations/{conversation['conversation_id']}"
            "?include_related_logs=true"
        )
        assert answer.status_code == 200
        texts.append(answer.get_data(as_text=True))
    text = "\n".join(texts)
    assert [s for s in demo.truth["secrets"] if s in text] == []
    assert [s for s in demo.truth["secrets"] if json.dumps(s)[1:-1] in text] == []


def test_workspace_summary_has_the_issue_fields(client: FlaskClient) -> None:
    body = client.get("/api/v1/ai_logs/workspace/ws-research/summary?time_range=24h").get_json()
    assert {
        "total_conversations",
        "total_requests",
        "total_tokens",
        "models_used",
        "error_count",
        "average_response_time",
        "peak_usage_times",
        "top_error_patterns",
        "cost_breakdown",
    } <= set(body)
    assert body["total_requests"] > 0


def test_narrative_format_adds_the_text_beside_the_structured_body(
    client: FlaskClient, demo: Any
) -> None:
    request = failed_request(demo, "database_outage")
    body = client.get(
        f"/api/v1/ai_logs/correlate?correlation_id={request['correlation_id']}&format=narrative"
    ).get_json()
    assert body["format"] == "narrative"
    assert "Where it started: It started at anythingllm-db, which has no logs of its own" in body["narrative"]
    assert body["failing_hop"] == "anythingllm-db"  # its database, named by anythingllm
