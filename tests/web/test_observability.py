"""Health, readiness, Prometheus metrics, OpenAPI and request ids."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port


def _samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_answers_ok(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_with_files_and_no_redis(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"]["ok"] is True


def test_readyz_is_503_when_redis_is_down(make_app: Callable[..., Flask]) -> None:
    client = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"]["ok"] is False


def test_metrics_count_queries_by_mode_and_cache_hit(client: FlaskClient) -> None:
    client.get("/api/v1/ai_logs/query", query_string={"mode": "audit"})
    client.get("/api/v1/ai_logs/query", query_string={"mode": "audit"})
    samples = _samples(client)
    assert samples[("ai_logs_queries_total", (("cache_hit", "true"), ("mode", "audit")))] >= 1
    assert samples[("ai_logs_query_duration_seconds_count", (("mode", "audit"),))] >= 2


def test_metrics_count_errors_by_code_and_endpoint(client: FlaskClient) -> None:
    client.get("/api/v1/ai_logs/query", query_string={"mode": "nope"})
    key = (
        "ai_logs_errors_total",
        (("endpoint", "agent_api.query_logs"), ("error_type", "INVALID_PARAMETER")),
    )
    assert _samples(client)[key] >= 1


def test_openapi_lists_every_route_of_the_app(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    spec = app.test_client().get("/openapi.json").get_json()
    documented = {path for path in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = str(rule).replace("<", "{").replace(">", "}")
        path = "/".join(
            "{" + seg[1:-1].split(":")[-1] + "}" if seg.startswith("{") else seg
            for seg in path.split("/")
        )
        assert path in documented, f"{path} is not in /openapi.json"


def test_openapi_query_parameters_come_from_the_query_model(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/ai_logs/query"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 10000
    window = re.compile(params["time_range"]["schema"]["pattern"])
    assert window.fullmatch("2h") and window.fullmatch("3650d")
    assert not window.fullmatch("0s") and not window.fullmatch("3651d")
    assert {"mode", "services", "exclude_patterns", "verbosity", "cache"} <= set(params)


def test_responses_carry_a_request_id(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    made = client.get("/healthz")
    assert given.headers["X-Correlation-ID"] == "abc-123"
    assert len(made.headers["X-Correlation-ID"]) >= 16
