"""Dashboard variables and ad-hoc filter values over Loki come from Loki's label API with the
panel's time range (recorded `label/<name>/values` answers over the 1M-line window), not from
reading raw lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.config import Settings

# the recorded 3-hour window of label_values_*_window.json, as Grafana sends it (ms precision)
SCALE_FROM, SCALE_TO = "2026-12-01T16:05:42.000Z", "2026-12-01T19:05:42.000Z"
SCALE_START_NS, SCALE_END_NS = "1796141142000000000", "1796151942000000000"


@pytest.fixture
def client(recorded_loki: Any, tmp_path: Path) -> FlaskClient:
    settings = Settings(loki_url=recorded_loki.url, data_dir=str(tmp_path), loki_retries=0,
                        rate_limits={"datasource": 100_000})  # fmt: skip
    return create_app(settings).test_client()


def time_range(start: str, end: str) -> dict[str, Any]:
    return {"from": start, "to": end, "raw": {"from": "now-3h", "to": "now"}}


def label_requests(recorded_loki: Any, name: str) -> list[Any]:
    return recorded_loki.requests_to(f"/loki/api/v1/label/{name}/values")


@pytest.mark.parametrize("label", ["service", "level"])
def test_tag_values_are_loki_label_values_for_the_panel_range(
    client: FlaskClient, recorded_loki: Any, label: str
) -> None:
    body = {"key": label, "filters": [], "timeRange": time_range(SCALE_FROM, SCALE_TO)}
    answer = client.post("/grafana/tag-values", json=body).get_json()
    recorded = recorded_loki.exchange(f"label_values_{label}_window")["body"]["data"]
    assert [a["text"] for a in answer] == recorded
    [sent] = label_requests(recorded_loki, label)
    assert (sent.params["start"], sent.params["end"]) == (SCALE_START_NS, SCALE_END_NS)


def test_variable_services_are_label_values_for_the_dashboard_range(
    client: FlaskClient, recorded_loki: Any
) -> None:
    body = {"payload": {"target": "services"}, "range": time_range(SCALE_FROM, SCALE_TO)}
    answer = client.post("/grafana/variable", json=body).get_json()
    recorded = recorded_loki.exchange("label_values_service_window")["body"]["data"]
    assert [a["__value"] for a in answer] == recorded
    [sent] = label_requests(recorded_loki, "service")
    assert (sent.params["start"], sent.params["end"]) == (SCALE_START_NS, SCALE_END_NS)


def test_no_raw_lines_are_read_for_label_values(client: FlaskClient, recorded_loki: Any) -> None:
    client.post("/grafana/variable", json={"payload": {"target": "services"},
                                           "range": time_range(SCALE_FROM, SCALE_TO)})  # fmt: skip
    client.post("/grafana/tag-values", json={"key": "level",
                                             "timeRange": time_range(SCALE_FROM, SCALE_TO)})  # fmt: skip
    assert recorded_loki.requests_to("/loki/api/v1/query_range") == []


def test_the_services_label_is_the_tenants(client: FlaskClient, recorded_loki: Any) -> None:
    body = {"key": "service", "timeRange": time_range(SCALE_FROM, SCALE_TO)}
    client.post("/grafana/tag-values", json=body)
    assert recorded_loki.requests_to("/loki/api/v1/labels")  # asked which label names services
