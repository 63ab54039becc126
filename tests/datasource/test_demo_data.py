"""The datasource over the project's generated demo logs, read by the file source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.demo.generator import generate

START = "2026-11-24T08:00:00Z"
END = "2026-11-24T09:00:00Z"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlaskClient, dict[str, Any]]:
    logs = tmp_path_factory.mktemp("demo")
    generate(logs, seed=7, start=START, duration="1h", rate=20)
    truth = json.loads((Path(logs) / "ground_truth.json").read_text())
    settings = Settings(source_path=str(logs), data_dir=str(tmp_path_factory.mktemp("var")))
    return create_app(settings).test_client(), truth


def body(*targets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"range": {"from": START, "to": END, "raw": {"from": START, "to": END}},
            "intervalMs": 60_000, "maxDataPoints": 100, "targets": list(targets), **extra}  # fmt: skip


def failed_ids(truth: Any) -> list[str]:
    if isinstance(truth, dict):
        found = list(truth.get("failed_correlation_ids", []))
        return found + [i for v in truth.values() for i in failed_ids(v)]
    if isinstance(truth, list):
        return [i for v in truth for i in failed_ids(v)]
    return []


def test_error_rate_covers_every_generated_service(demo: tuple[FlaskClient, Any]) -> None:
    client, _ = demo
    frames = client.post("/grafana/query", json=body({"target": "error_rate", "refId": "A"})).get_json()
    services = {f["fields"][1]["labels"]["service"] for f in frames}
    listed = {o["value"] for o in client.post("/grafana/metric-payload-options", json={
        "metric": "error_rate", "payload": {}, "name": "services"}).get_json()}  # fmt: skip
    assert services and services <= listed
    assert all(len(f["fields"][0]["values"]) <= 100 for f in frames)


def test_failed_request_of_the_ground_truth_draws_a_node_graph(demo: tuple[FlaskClient, Any]) -> None:
    client, truth = demo
    ids = failed_ids(truth)
    if not ids:
        pytest.skip("this demo run injected no failed request")
    target = {"target": "correlation_graph", "refId": "G", "payload": {"correlation_id": ids[0]}}
    nodes, edges = client.post("/grafana/query", json=body(target)).get_json()
    assert nodes["meta"]["preferredVisualisationType"] == "nodeGraph"
    assert len(nodes["fields"][0]["values"]) >= 2
    assert len(edges["fields"][0]["values"]) >= 1
