"""Time-series panels over Loki come from metric queries at the panel's step, never from raw
lines: the recorded per-minute counts of the 1,036,196-line window draw the error-rate panel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.config import Settings
from tests.loki.conftest import SCALE_FIXTURES, ReplayLoki

FROM, TO = "2026-12-01T16:05:42.000Z", "2026-12-01T19:05:42.000Z"
COUNTS = "sum by (service, level) (count_over_time({env=\"prod\"}[1m]))"


@pytest.fixture
def client(scale_loki: ReplayLoki, tmp_path: Path) -> FlaskClient:
    settings = Settings(
        loki_url=scale_loki.url, loki_selector='{env="prod"}', data_dir=str(tmp_path),
        loki_retries=0, rate_limits={"datasource": 100_000},
    )
    return create_app(settings).test_client()


def error_rate_panel(client: FlaskClient) -> list[dict[str, Any]]:
    body = {
        "range": {"from": FROM, "to": TO, "raw": {"from": "now-3h", "to": "now"}},
        "intervalMs": 60_000,
        "maxDataPoints": 1000,
        "targets": [{"target": "error_rate", "refId": "A"}],
    }
    response = client.post("/grafana/query", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_error_rate_panel_is_one_metric_query_at_the_panels_step(
    client: FlaskClient, scale_loki: ReplayLoki
) -> None:
    error_rate_panel(client)
    ranges = scale_loki.requests_to("/loki/api/v1/query_range")
    assert [(r.params["query"], r.params["step"]) for r in ranges] == [(COUNTS, "60")]
    assert not [r for r in ranges if "limit" in r.params]  # no raw line was read


def test_the_error_rate_frames_hold_the_recorded_counts(client: FlaskClient, scale_loki: ReplayLoki) -> None:
    frames = {f["fields"][1]["labels"]["service"]: f for f in error_rate_panel(client)}
    assert set(frames) == {"admin-ui", "anythingllm", "api", "browser", "redis", "worker"}
    recorded = json.loads((SCALE_FIXTURES / "count_by_service_level_1m.json").read_text())
    recorded = recorded["body"]["data"]["result"]
    per_minute: dict[tuple[str, int], dict[str, int]] = {}
    for series in recorded:
        metric = series["metric"]
        for ts, value in series["values"]:
            cell = per_minute.setdefault((metric["service"], int(ts) - 60), {})
            cell[metric["level"]] = cell.get(metric["level"], 0) + int(value)
    api = frames["api"]
    times, rates = api["fields"][0]["values"], api["fields"][1]["values"]
    checked = 0
    for at_ms, rate in zip(times, rates, strict=True):
        cell = per_minute.get(("api", at_ms // 1000))
        if cell:
            assert rate == round(cell.get("error", 0) / sum(cell.values()), 4)
            checked += 1
    assert checked >= 170  # a point a minute over three hours, each the recorded count's share
