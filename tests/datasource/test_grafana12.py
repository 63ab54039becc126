"""The datasource in real Grafana 12 panels: request bodies shaped as Grafana 12 sends them
(tests/fixtures/grafana_json_datasource/grafana12_*.json), one behaviour per test.

- ad-hoc filters Grafana offers but that cannot apply (`<`, `>`, keys of other datasources) are
  ignored with a notice on the frame, and the others still narrow;
- payload keys the plugin kept from an earlier target are ignored with a notice;
- multi-value variables, regex-escaped by Grafana, are unescaped;
- `/grafana/*` errors carry a top-level `message`;
- table dates are `time` fields;
- `/tag-values` and `/variable` answer for the range Grafana sends.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from grafana_plugin_data import RecordListSource, demo_records, plugin_request, record

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.model import LogRecord, Severity, instant_ns
from analyzer.services import build_services

PAYMENTS = "payments.v2"


@pytest.fixture
def records() -> list[LogRecord]:
    """The demo records plus a service whose name has a regex metacharacter."""
    extra = [record(m, PAYMENTS, Severity.ERROR if m % 30 == 0 else Severity.INFO,
                    f"charge {m} settled") for m in range(0, 360, 5)]  # fmt: skip
    return [*demo_records(), *extra]


@pytest.fixture
def client(records: list[LogRecord], tmp_path: Path) -> FlaskClient:
    settings = Settings(data_dir=str(tmp_path), rate_limits={"datasource": 100_000})
    source = RecordListSource(records)
    return create_app(settings, services=build_services(settings, source=source)).test_client()


def grafana12_query(**target: Any) -> dict[str, Any]:
    body = plugin_request("grafana12_query")
    body["targets"][0].update(target)
    return body


def services_drawn(frames: list[dict[str, Any]]) -> set[str]:
    return {f["fields"][1]["labels"]["service"] for f in frames if f["fields"][1].get("labels")}


def notices(frames: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [n for f in frames for n in f["meta"].get("notices", [])]


def query(client: FlaskClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/grafana/query", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# ---- the request as Grafana 12 sends it ----


def test_the_grafana12_request_is_answered(client: FlaskClient) -> None:
    frames = query(client, plugin_request("grafana12_query"))
    assert services_drawn(frames) == {"api", "worker"}
    assert notices(frames) == []


# ---- ad-hoc filters ----


@pytest.mark.parametrize("operator", ["<", ">"])
def test_a_comparison_filter_is_ignored_with_a_notice(client: FlaskClient, operator: str) -> None:
    body = grafana12_query(payload={})
    body["filters"] = [{"key": "service", "operator": operator, "value": "b", "values": ["b"],
                        "condition": ""}]  # fmt: skip
    frames = query(client, body)
    assert services_drawn(frames) == {"api", "worker", "anythingllm", PAYMENTS}
    [notice] = notices(frames)
    assert notice["severity"] == "warning"
    assert f"service {operator} 'b' ignored" in notice["text"]


def test_a_filter_on_a_key_of_another_datasource_is_ignored_and_the_rest_apply(
    client: FlaskClient,
) -> None:
    body = grafana12_query(payload={})
    body["filters"] = [
        {"key": "pod", "operator": "=", "value": "api-7f9c", "condition": ""},
        {"key": "service", "operator": "=", "value": "worker", "condition": ""},
    ]
    frames = query(client, body)
    assert services_drawn(frames) == {"worker"}
    [notice] = notices(frames)
    assert "pod = 'api-7f9c' ignored" in notice["text"]


def test_each_target_of_the_panel_carries_the_filter_notice_once(client: FlaskClient) -> None:
    body = grafana12_query(payload={})
    body["targets"].append(dict(body["targets"][0], refId="B", target="insights"))
    body["filters"] = [{"key": "service", "operator": "<", "value": "m", "condition": ""}]
    frames = query(client, body)
    for ref_id in ("A", "B"):
        assert len(notices([f for f in frames if f["refId"] == ref_id])) == 1


@pytest.mark.parametrize(
    ("operator", "kept"),
    [("=|", {"api", "worker"}), ("!=|", {"anythingllm", PAYMENTS})],
)  # fmt: skip
def test_one_of_filters_take_their_values(client: FlaskClient, operator: str, kept: set[str]) -> None:
    body = grafana12_query(payload={})
    body["filters"] = [{"key": "service", "operator": operator, "value": "api",
                        "values": ["api", "worker"], "condition": ""}]  # fmt: skip
    assert services_drawn(query(client, body)) == kept


# ---- payloads ----


def test_a_payload_key_kept_from_another_target_is_ignored_with_a_notice(
    client: FlaskClient,
) -> None:
    frames = query(client, grafana12_query(payload={"services": "api", "additional": "x"}))
    assert services_drawn(frames) == {"api"}
    [notice] = notices(frames)
    assert "additional" in notice["text"] and "ignored" in notice["text"]


def test_a_regex_escaped_single_value_is_unescaped(client: FlaskClient) -> None:
    frames = query(client, grafana12_query(payload={"services": "payments\\.v2"}))
    assert services_drawn(frames) == {PAYMENTS}


def test_a_regex_escaped_multi_value_is_unescaped(client: FlaskClient) -> None:
    frames = query(client, grafana12_query(payload={"services": "(payments\\.v2|api)"}))
    assert services_drawn(frames) == {PAYMENTS, "api"}


def test_a_regex_escaped_list_of_values_is_unescaped(client: FlaskClient) -> None:
    frames = query(client, grafana12_query(payload={"services": ["payments\\.v2", "worker"]}))
    assert services_drawn(frames) == {PAYMENTS, "worker"}


# ---- errors ----


def test_a_panel_error_has_a_top_level_message(client: FlaskClient) -> None:
    response = client.post("/grafana/query", json=grafana12_query(target="upper_50"))
    body = response.get_json()
    assert response.status_code == 400
    assert body["message"] == body["error"]["message"] == "unknown target 'upper_50'"
    assert body["error"]["code"] == "UNKNOWN_TARGET"


def test_a_missing_path_under_grafana_has_a_top_level_message(client: FlaskClient) -> None:
    body = client.post("/grafana/annotations", json={}).get_json()
    assert body["message"] == body["error"]["message"]


def test_errors_outside_grafana_keep_their_shape(client: FlaskClient) -> None:
    body = client.get("/api/v1/ai_logs/nothing").get_json()
    assert set(body) == {"error"}


# ---- table dates ----


@pytest.mark.parametrize("target", ["top_patterns", "insights", "conversations"])
def test_dates_in_tables_are_time_fields(client: FlaskClient, target: str) -> None:
    (frame,) = query(client, grafana12_query(target=target, payload={}))
    fields = {f["name"]: f for f in frame["fields"]}
    for name in ("first_seen", "last_seen"):
        assert fields[name]["type"] == "time"
        assert fields[name]["values"] and all(isinstance(v, int) for v in fields[name]["values"])


def test_a_pattern_first_seen_is_the_epoch_ms_of_its_first_line(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    (frame,) = query(client, grafana12_query(target="top_patterns", payload={"services": "api"}))
    fields = {f["name"]: f["values"] for f in frame["fields"]}
    first_api = min(r.timestamp_ns for r in records if r.service == "api")
    assert min(fields["first_seen"]) == first_api // 1_000_000


# ---- values for the range Grafana sends ----


def in_range(records: list[LogRecord], start: str, end: str, attribute: str) -> list[str]:
    low, high = instant_ns(start), instant_ns(end)
    return sorted({getattr(r, attribute) for r in records
                   if low <= r.timestamp_ns <= high and getattr(r, attribute)})  # fmt: skip


def narrowed(body: dict[str, Any], name: str) -> tuple[dict[str, Any], str, str]:
    """The body with its range cut to minutes 90-100 of the records (one model called)."""
    body = copy.deepcopy(body)
    start, end = "2016-10-31T08:03:44.866Z", "2016-10-31T08:13:44.866Z"
    body[name].update({"from": start, "to": end})
    return body, start, end


def test_tag_values_answer_for_the_time_range_sent(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body, start, end = narrowed(plugin_request("grafana12_tag_values"), "timeRange")
    answer = client.post("/grafana/tag-values", json=body).get_json()
    assert [a["text"] for a in answer] == in_range(records, start, end, "model")
    assert len(answer) == 1  # the whole range has two models


def test_tag_values_over_the_whole_range_list_every_value(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    answer = client.post("/grafana/tag-values", json=plugin_request("grafana12_tag_values"))
    assert [a["text"] for a in answer.get_json()] == sorted({r.model for r in records if r.model})


def test_variable_values_answer_for_the_range_sent(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body, start, end = narrowed(plugin_request("grafana12_variable"), "range")
    answer = client.post("/grafana/variable", json=body).get_json()
    assert [a["__value"] for a in answer] == in_range(records, start, end, "model")
