"""The Grafana JSON datasource under /grafana/, driven by the plugin's own request shapes.

Request bodies are recorded in tests/fixtures/grafana_json_datasource/ from the plugin's docs:
- simPod/GrafanaJsonDatasource README.md @ 61606a3a5fb30574e7d57a7018b60b0519ef2902
  (/query, /tag-keys, /tag-values examples) and openapi.yaml @
  4b704d3ae811d0c635cbb542e1d9bef287a4785e (/tag-values schema);
- the 0.6.x openapi.yaml ("simPod JSON Datasource API", /metrics, /metric-payload-options and
  /variable), read from its copy dataprovider_api.yaml in majorx234/rust_grafana_dataprovider @
  cbc9ca29bd9579f1cec45fbddbf61539e6ea9e92.
Node Graph field names: Grafana's NodeGraphDataFrameFieldNames (id, title, subtitle, mainstat,
secondarystat, arc__*, detail__*, color; edges id, source, target, mainstat, secondarystat).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import pytest
from flask.testing import FlaskClient
from grafana_plugin_data import RANGE_FROM, RecordListSource, plugin_request, query_body

from analyzer.analysis import series
from analyzer.analysis.conversations import ai_requests
from analyzer.analysis.pricing import load_prices
from analyzer.model import LogRecord, TimeRange, instant_ns

PAYLOAD_TYPES = {"select", "multi-select", "input", "textarea"}
TARGETS = {
    "error_rate", "pattern_occurrences", "token_usage", "cost", "top_patterns", "insights",
    "conversations", "workspace_costs", "correlation_graph", "narrative",
}  # fmt: skip


def post(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/grafana/{path}", json=body)


def assert_error(response: Any, code: str) -> None:
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and error["suggestion"]


def assert_frame_shape(frame: dict[str, Any], ref_id: str) -> None:
    assert set(frame) >= {"name", "refId", "meta", "fields"}
    assert frame["refId"] == ref_id
    lengths = {len(f["values"]) for f in frame["fields"]}
    assert len(lengths) == 1, f"fields of {frame['name']} differ in length"
    for f in frame["fields"]:
        assert set(f) >= {"name", "type", "values", "config"}
        assert f["type"] in {"time", "number", "string", "boolean"}


def series_by_label(frames: list[dict[str, Any]], label: str) -> dict[str, dict[str, Any]]:
    return {fr["fields"][1]["labels"][label]: fr for fr in frames}


# ---- GET / ----


@pytest.mark.parametrize("path", ["/grafana/", "/grafana"])
def test_save_and_test_gets_200(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


# ---- /metrics ----


def test_metrics_lists_every_target_with_payload_options(client: FlaskClient) -> None:
    answer = post(client, "metrics", plugin_request("metrics")).get_json()
    assert {m["value"] for m in answer} == TARGETS
    for metric in answer:
        assert metric["label"] and isinstance(metric["payloads"], list)
        for payload in metric["payloads"]:
            assert payload["name"] and payload["label"]
            assert payload["type"] in PAYLOAD_TYPES
            for option in payload.get("options", []):
                assert set(option) == {"label", "value"}


def test_metrics_payload_names_are_the_documented_keys(client: FlaskClient) -> None:
    answer = post(client, "metrics", plugin_request("metrics")).get_json()
    names = {p["name"] for m in answer for p in m["payloads"]}
    assert names == {"mode", "services", "severity", "workspace_id", "correlation_id", "by"}


# ---- /metric-payload-options ----


def test_payload_options_for_services_come_from_the_source(
    client: FlaskClient, source: RecordListSource
) -> None:
    body = plugin_request("metric_payload_options") | {"metric": "error_rate", "name": "services"}
    answer = post(client, "metric-payload-options", body).get_json()
    assert answer == [{"label": s, "value": s} for s in source.services()]


def test_payload_options_for_workspaces_come_from_records(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = plugin_request("metric_payload_options") | {"metric": "cost", "name": "workspace_id"}
    answer = post(client, "metric-payload-options", body).get_json()
    assert [o["value"] for o in answer] == sorted({r.workspace_id for r in records if r.workspace_id})


def test_payload_options_of_the_plugin_example_metric_are_refused(client: FlaskClient) -> None:
    assert_error(post(client, "metric-payload-options", plugin_request("metric_payload_options")),
                 "UNKNOWN_TARGET")  # fmt: skip


def test_payload_options_for_an_unknown_payload_are_refused(client: FlaskClient) -> None:
    body = plugin_request("metric_payload_options") | {"metric": "error_rate"}
    assert_error(post(client, "metric-payload-options", body), "UNKNOWN_PAYLOAD")


# ---- /variable ----


@pytest.mark.parametrize(
    ("target", "attribute"),
    [("services", "service"), ("workspaces", "workspace_id"), ("models", "model"),
     ("conversations", "conversation_id")],
)  # fmt: skip
def test_variable_values_are_text_value_pairs(
    client: FlaskClient, records: list[LogRecord], target: str, attribute: str
) -> None:
    body = plugin_request("variable")
    body["payload"]["target"] = target
    answer = post(client, "variable", body).get_json()
    expected = sorted({getattr(r, attribute) for r in records if getattr(r, attribute)})
    assert answer == [{"__text": v, "__value": v} for v in expected]


def test_variable_of_the_plugin_example_target_is_refused(client: FlaskClient) -> None:
    assert_error(post(client, "variable", plugin_request("variable")), "UNKNOWN_VARIABLE")


# ---- /tag-keys, /tag-values ----


def test_tag_keys_are_the_ad_hoc_filter_keys(client: FlaskClient) -> None:
    answer = post(client, "tag-keys", plugin_request("tag_keys")).get_json()
    assert answer == [{"type": "string", "text": k} for k in ("service", "level", "workspace_id", "model")]


def test_tag_values_of_service_are_the_services(client: FlaskClient, source: RecordListSource) -> None:
    answer = post(client, "tag-values", {"key": "service"}).get_json()
    assert answer == [{"text": s} for s in source.services()]


def test_tag_values_of_model_come_from_records(client: FlaskClient, records: list[LogRecord]) -> None:
    answer = post(client, "tag-values", {"key": "model"}).get_json()
    assert answer == [{"text": m} for m in sorted({r.model for r in records if r.model})]


def test_tag_values_of_the_plugin_example_key_are_refused(client: FlaskClient) -> None:
    assert_error(post(client, "tag-values", plugin_request("tag_values")), "UNKNOWN_FILTER_KEY")


# ---- /query: errors ----


def test_query_without_targets_is_refused(client: FlaskClient) -> None:
    body = plugin_request("query")
    del body["targets"]
    assert_error(post(client, "query", body), "INVALID_PARAMETER")


def test_query_with_only_hidden_targets_is_refused(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A", "hide": True})
    assert_error(post(client, "query", body), "MISSING_TARGETS")


def test_query_of_the_plugin_example_targets_is_refused(client: FlaskClient) -> None:
    assert_error(post(client, "query", plugin_request("query")), "UNKNOWN_TARGET")


def test_query_with_an_unknown_ad_hoc_key_answers_with_a_notice(client: FlaskClient) -> None:
    body = plugin_request("query")  # its ad-hoc filter is City = Berlin
    body["targets"] = [{"target": "error_rate", "refId": "A"}]
    response = post(client, "query", body)
    assert response.status_code == 200
    [notice] = response.get_json()[0]["meta"]["notices"]
    assert notice["severity"] == "warning" and "City" in notice["text"]


def test_query_with_a_bad_regex_filter_is_refused(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A"},
                      adhocFilters=[{"key": "service", "operator": "=~", "value": "api("}])  # fmt: skip
    assert_error(post(client, "query", body), "INVALID_REGEX")


def test_query_with_an_unknown_payload_key_answers_with_a_notice(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A", "payload": {"service": "api"}})
    response = post(client, "query", body)
    assert response.status_code == 200
    [notice] = response.get_json()[0]["meta"]["notices"]
    assert "service" in notice["text"] and "ignored" in notice["text"]


def test_a_payload_string_nested_deeper_than_the_parser_goes_is_refused(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A", "payload": "[" * 100_000 + "]" * 100_000})
    assert_error(post(client, "query", body), "INVALID_PARAMETER")


def test_query_with_a_bad_severity_is_refused(client: FlaskClient) -> None:
    body = query_body({"target": "top_patterns", "refId": "A", "payload": {"severity": "loud"}})
    assert_error(post(client, "query", body), "INVALID_PARAMETER")


# ---- /query: time series ----


def test_error_rate_is_one_frame_per_service_with_bucketed_rates(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "error_rate", "refId": "A"})
    frames = post(client, "query", body).get_json()
    by_service = series_by_label(frames, "service")
    assert set(by_service) == {r.service for r in records}
    window = TimeRange(instant_ns(body["range"]["from"]), instant_ns(body["range"]["to"]))
    grid = series.make_grid(window, body["intervalMs"], body["maxDataPoints"])
    for service, frame in by_service.items():
        assert_frame_shape(frame, "A")
        times, values = frame["fields"][0], frame["fields"][1]
        assert (times["type"], values["type"]) == ("time", "number")
        assert times["values"] == grid.times_ms
        mine = [r for r in records if r.service == service and window.contains(r.timestamp_ns)]
        totals, errors = defaultdict(int), defaultdict(int)
        for r in mine:
            i = grid.index(r.timestamp_ns)
            totals[i] += 1
            errors[i] += r.is_error
        expected = [round(errors[i] / totals[i], 4) if totals[i] else None for i in range(grid.count)]
        assert values["values"] == expected


def test_time_series_step_is_the_panel_interval_when_points_allow(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A"}, intervalMs=60_000, maxDataPoints=1000)
    times = post(client, "query", body).get_json()[0]["fields"][0]["values"]
    assert {b - a for a, b in itertools.pairwise(times)} == {60_000}


@pytest.mark.parametrize("max_points", [1, 7, 50, 360])
def test_time_series_never_exceed_max_data_points(client: FlaskClient, max_points: int) -> None:
    body = query_body({"target": "pattern_occurrences", "refId": "P"},
                      intervalMs=1000, maxDataPoints=max_points)  # fmt: skip
    for frame in post(client, "query", body).get_json():
        assert_frame_shape(frame, "P")
        assert len(frame["fields"][0]["values"]) <= max_points


def test_pattern_occurrences_counts_every_record_of_the_top_templates(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "pattern_occurrences", "refId": "A",
                       "payload": {"services": "api", "severity": "error"}})  # fmt: skip
    frames = post(client, "query", body).get_json()
    counted = sum(sum(f["fields"][1]["values"]) for f in frames)
    assert counted == sum(1 for r in records if r.service == "api" and r.is_error)
    assert all(f["fields"][1]["labels"]["template"] for f in frames)


@pytest.mark.parametrize(("by", "attribute"), [("model", "model"), ("workspace", "workspace_id")])
def test_token_usage_sums_tokens_by_model_or_workspace(
    client: FlaskClient, records: list[LogRecord], by: str, attribute: str
) -> None:
    body = query_body({"target": "token_usage", "refId": "T", "payload": {"by": by}})
    frames = post(client, "query", body).get_json()
    totals = {name: sum(f["fields"][1]["values"]) for name, f in series_by_label(frames, attribute).items()}
    expected: dict[str, float] = defaultdict(float)
    for r in records:
        if r.tokens_used:
            expected[getattr(r, attribute)] += r.tokens_used
    assert totals == expected


# ---- /query: ad-hoc filters ----


@pytest.mark.parametrize(
    ("flt", "kept"),
    [({"key": "service", "operator": "=", "value": "api"}, {"api"}),
     ({"key": "service", "operator": "!=", "value": "api"}, {"worker", "anythingllm"}),
     ({"key": "service", "operator": "=~", "value": "api|work.*"}, {"api", "worker"}),
     ({"key": "service", "operator": "!~", "value": "a.*"}, {"worker"})],
)  # fmt: skip
def test_ad_hoc_filters_narrow_the_series(
    client: FlaskClient, flt: dict[str, str], kept: set[str]
) -> None:
    body = query_body({"target": "error_rate", "refId": "A"}, adhocFilters=[flt])
    assert set(series_by_label(post(client, "query", body).get_json(), "service")) == kept


def test_filters_key_of_newer_plugins_narrows_too(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A"},
                      filters=[{"key": "level", "operator": "=", "value": "error"}])  # fmt: skip
    frames = post(client, "query", body).get_json()
    # only error records are left, so every non-empty bucket is 100 % errors
    assert {v for f in frames for v in f["fields"][1]["values"] if v is not None} == {1.0}


def test_model_filter_narrows_token_usage(client: FlaskClient) -> None:
    body = query_body({"target": "token_usage", "refId": "T"},
                      adhocFilters=[{"key": "model", "operator": "=", "value": "gpt-4o"}])  # fmt: skip
    assert set(series_by_label(post(client, "query", body).get_json(), "model")) == {"gpt-4o"}


def test_all_and_unresolved_variables_mean_every_service(client: FlaskClient) -> None:
    for services in (".+", "$service", "", ["$__all"]):
        body = query_body({"target": "error_rate", "refId": "A", "payload": {"services": services}})
        assert len(post(client, "query", body).get_json()) == 3


def test_multi_value_variable_selects_those_services(client: FlaskClient) -> None:
    for services in (["api", "worker"], "{api,worker}", "(api|worker)"):
        body = query_body({"target": "error_rate", "refId": "A", "payload": {"services": services}})
        assert set(series_by_label(post(client, "query", body).get_json(), "service")) == {
            "api", "worker"
        }


# ---- /query: tables, node graph, narrative ----


def test_top_patterns_table_has_counts_and_suggestions(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "top_patterns", "refId": "B", "payload": {"severity": "warning"}})
    (frame,) = post(client, "query", body).get_json()
    assert_frame_shape(frame, "B")
    columns = {f["name"]: f for f in frame["fields"]}
    assert {"template", "count", "suggestion", "sample"} <= set(columns)
    assert columns["count"]["type"] == "number"
    assert sum(columns["count"]["values"]) == sum(1 for r in records if r.level.label in ("warn", "error"))
    assert any(columns["suggestion"]["values"])


def test_strings_returned_are_masked(client: FlaskClient) -> None:
    body = query_body({"target": "top_patterns", "refId": "B", "payload": {"severity": "warning"}})
    text = post(client, "query", body).get_data(as_text=True)
    assert "admin@example.com" not in text
    assert "<email>" in text


def test_insights_table_is_ranked(client: FlaskClient) -> None:
    body = query_body({"target": "insights", "refId": "C", "payload": {"mode": "errors"}})
    (frame,) = post(client, "query", body).get_json()
    assert_frame_shape(frame, "C")
    columns = {f["name"]: f["values"] for f in frame["fields"]}
    assert columns["rank"] == list(range(1, len(columns["rank"]) + 1)) and columns["rank"]
    assert all(columns["suggestion"])


def test_conversations_table_lists_each_conversation(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "conversations", "refId": "D", "payload": {"workspace_id": "ws-a"}})
    (frame,) = post(client, "query", body).get_json()
    assert_frame_shape(frame, "D")
    columns = {f["name"]: f["values"] for f in frame["fields"]}
    wanted = {r.conversation_id for r in records if r.workspace_id == "ws-a"}
    assert set(columns["conversation_id"]) == wanted
    tokens = dict(zip(columns["conversation_id"], columns["tokens"], strict=True))
    for conversation in wanted:
        assert tokens[conversation] == sum(
            r.tokens_used or 0 for r in records if r.conversation_id == conversation
        )


def test_correlation_graph_frames_are_what_the_node_graph_panel_reads(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "correlation_graph", "refId": "G",
                       "payload": {"correlation_id": "req-1"}})  # fmt: skip
    nodes, edges = post(client, "query", body).get_json()
    for frame in (nodes, edges):
        assert_frame_shape(frame, "G")
        assert frame["meta"]["preferredVisualisationType"] == "nodeGraph"
    assert (nodes["name"], edges["name"]) == ("nodes", "edges")
    node_names = [f["name"] for f in nodes["fields"]]
    assert node_names[:5] == ["id", "title", "subtitle", "mainstat", "secondarystat"]
    assert "color" in node_names
    arcs = [f for f in nodes["fields"] if f["name"].startswith("arc__")]
    assert arcs and all(f["config"]["color"]["mode"] == "fixed" for f in arcs)
    assert all(n in {"id", "title", "subtitle", "mainstat", "secondarystat", "color"}
               or n.startswith(("arc__", "detail__")) for n in node_names)  # fmt: skip
    assert [f["name"] for f in edges["fields"]][:4] == ["id", "source", "target", "mainstat"]
    ids = nodes["fields"][0]["values"]
    assert set(ids) == {r.service for r in records if r.correlation_id == "req-1"}
    fields = {f["name"]: f["values"] for f in edges["fields"]}
    assert set(fields["source"]) | set(fields["target"]) <= set(ids)


def test_correlation_graph_without_an_id_is_empty_not_an_error(client: FlaskClient) -> None:
    body = query_body({"target": "correlation_graph", "refId": "G",
                       "payload": {"correlation_id": "$correlation_id"}})  # fmt: skip
    response = post(client, "query", body)
    assert response.status_code == 200
    nodes, edges = response.get_json()
    assert nodes["fields"][0]["values"] == [] and edges["fields"][0]["values"] == []


def test_several_targets_answer_in_one_response(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A"},
                      {"target": "insights", "refId": "B"})  # fmt: skip
    frames = post(client, "query", body).get_json()
    assert {f["refId"] for f in frames} == {"A", "B"}


def test_payload_sent_as_a_json_string_is_read(client: FlaskClient) -> None:
    body = query_body({"target": "error_rate", "refId": "A", "payload": '{"services": "api"}'})
    assert set(series_by_label(post(client, "query", body).get_json(), "service")) == {"api"}


# ---- /query: cache ----


def test_identical_query_is_answered_from_the_cache(
    client: FlaskClient, source: RecordListSource
) -> None:
    body = query_body({"target": "error_rate", "refId": "A"})
    first = post(client, "query", body).get_json()
    fetches = source.fetches
    assert post(client, "query", body).get_json() == first
    assert source.fetches == fetches


def test_a_different_range_is_not_served_from_the_cache(
    client: FlaskClient, source: RecordListSource
) -> None:
    body = query_body({"target": "error_rate", "refId": "A"})
    post(client, "query", body)
    fetches = source.fetches
    later = query_body({"target": "error_rate", "refId": "A"})
    later["range"] = dict(later["range"], **{"from": RANGE_FROM.replace("06:33", "07:33")})
    later["range"]["raw"] = {"from": "now-5h", "to": "now"}
    post(client, "query", later)
    assert source.fetches > fetches


def test_cost_series_sum_to_the_priced_cost_of_each_model(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    body = query_body({"target": "cost", "refId": "K", "payload": {"by": "model"}})
    frames = post(client, "query", body).get_json()
    totals = {m: round(sum(f["fields"][1]["values"]), 6) for m, f in series_by_label(frames, "model").items()}
    prices = load_prices()
    expected: dict[str, float] = defaultdict(float)
    for request in ai_requests(records):
        value = request.cost(prices)
        if value is not None:
            expected[request.model or "unknown"] += value
    assert totals == {m: round(v, 6) for m, v in expected.items()}
    assert all(v > 0 for v in totals.values())


def test_workspace_costs_table_has_one_row_per_workspace(
    client: FlaskClient, records: list[LogRecord]
) -> None:
    (frame,) = post(client, "query", query_body({"target": "workspace_costs", "refId": "W"})).get_json()
    assert_frame_shape(frame, "W")
    columns = {f["name"]: f["values"] for f in frame["fields"]}
    tokens = dict(zip(columns["workspace_id"], columns["tokens"], strict=True))
    expected: dict[str, int] = defaultdict(int)
    for r in records:
        if r.workspace_id:
            expected[r.workspace_id] += r.tokens_used or 0
    assert tokens == expected
    assert columns["cost"] == sorted(columns["cost"], reverse=True)


def test_narrative_is_a_one_cell_table(client: FlaskClient) -> None:
    (frame,) = post(client, "query", query_body({"target": "narrative", "refId": "N"})).get_json()
    assert_frame_shape(frame, "N")
    (only,) = frame["fields"]
    assert only["type"] == "string" and len(only["values"]) == 1 and only["values"][0]
