"""LokiSource against recorded Loki 3.5 answers: endpoints, headers and line parsing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from analyzer.errors import InvalidParameter
from analyzer.model import Query
from analyzer.sources.base import LogSource
from analyzer.sources.loki import LokiSource
from analyzer.sources.loki_answers import entries_to_records, iter_samples, streams_entries
from tests.loki.conftest import LOKI_FIXTURES


@pytest.fixture
def loki(recorded_loki) -> Iterator[LokiSource]:
    source = LokiSource(recorded_loki.url, retries=0, timeout=5.0)
    yield source
    source.close()


def window(recorded_loki, name: str = "labels") -> tuple[int, int]:
    params = recorded_loki.exchange(name)["request"]["params"]
    return int(params["start"]), int(params["end"])


def recorded_data(recorded_loki, name: str):
    return recorded_loki.exchange(name)["body"]["data"]


def test_loki_source_implements_the_log_source_protocol(loki: LokiSource) -> None:
    assert isinstance(loki, LogSource)
    assert loki.name == "loki"


def test_every_request_carries_the_default_tenant(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki)
    loki.labels(start_ns=start, end_ns=end)
    assert recorded_loki.requests[-1].headers["x-scope-orgid"] == "fake"


def test_a_tenant_given_per_call_is_sent_as_x_scope_orgid(recorded_loki, loki) -> None:
    start, end = window(recorded_loki)
    loki.labels(start_ns=start, end_ns=end, tenant="team-a")
    assert recorded_loki.requests[-1].headers["x-scope-orgid"] == "team-a"


def test_a_tenant_id_with_header_breaking_characters_is_refused(recorded_loki, loki) -> None:
    with pytest.raises(InvalidParameter) as caught:
        loki.labels(tenant="fake\r\nX-Evil: 1")
    assert caught.value.code == "INVALID_TENANT"
    assert recorded_loki.requests == []


def test_labels_returns_the_label_names(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki)
    assert loki.labels(start_ns=start, end_ns=end) == recorded_data(recorded_loki, "labels")


def test_label_values_reads_one_label(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki)
    values = loki.label_values("service_name", start_ns=start, end_ns=end)
    assert values == recorded_data(recorded_loki, "label_values_service_name")
    assert recorded_loki.requests[-1].path == "/loki/api/v1/label/service_name/values"


def test_label_values_refuses_a_name_that_would_change_the_path(loki: LokiSource) -> None:
    with pytest.raises(InvalidParameter):
        loki.label_values("../../ready")


def test_services_are_the_service_label_values(recorded_loki, loki: LokiSource) -> None:
    assert loki.services() == recorded_data(recorded_loki, "label_values_service")


def test_series_sends_match_and_returns_label_sets(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki, "series")
    series = loki.series('{env="dev"}', start_ns=start, end_ns=end)
    assert series == recorded_data(recorded_loki, "series")
    assert ("match[]", '{env="dev"}') in recorded_loki.requests[-1].multi_params


def test_query_range_asks_for_categorized_labels(recorded_loki, loki: LokiSource) -> None:
    params = recorded_loki.exchange("query_range_categorized_labels")["request"]["params"]
    data = loki.query_range(
        params["query"], int(params["start"]), int(params["end"]), limit=int(params["limit"])
    )
    sent = recorded_loki.requests[-1].headers
    assert sent["x-loki-response-encoding-flags"] == "categorize-labels"
    assert data["encodingFlags"] == ["categorize-labels"]


def test_matrix_samples_are_read_as_numbers(recorded_loki, loki: LokiSource) -> None:
    params = recorded_loki.exchange("query_range_matrix")["request"]["params"]
    data = loki.query_range(
        params["query"], int(params["start"]), int(params["end"]), step=params["step"]
    )
    recorded = recorded_data(recorded_loki, "query_range_matrix")
    samples = list(iter_samples(data))
    assert data["resultType"] == "matrix"
    assert len(samples) == sum(len(s["values"]) for s in recorded["result"])
    assert sum(v for _, _, v in samples) == sum(
        float(v) for s in recorded["result"] for _, v in s["values"]
    )
    assert all(set(labels) == {"service"} for labels, _, _ in samples)


def test_instant_vector_query_reads_one_sample_per_series(recorded_loki, loki) -> None:
    params = recorded_loki.exchange("query_instant_vector")["request"]["params"]
    data = loki.query(params["query"], int(params["time"]))
    by_service = {labels["service"]: value for labels, _, value in iter_samples(data)}
    recorded = recorded_data(recorded_loki, "query_instant_vector")["result"]
    assert by_service == {r["metric"]["service"]: float(r["value"][1]) for r in recorded}


def test_instant_scalar_expression_reads_its_value(recorded_loki, loki: LokiSource) -> None:
    params = recorded_loki.exchange("query_instant_scalar")["request"]["params"]
    [(labels, _, value)] = iter_samples(loki.query(params["query"], int(params["time"])))
    assert labels == {} and value == 2.0


def test_volume_reads_bytes_per_label_set(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki, "index_volume_by_service")
    data = loki.volume('{env="dev"}', start_ns=start, end_ns=end, target_labels=["service"], limit=10)
    sent = recorded_loki.requests[-1].params
    assert sent["targetLabels"] == "service" and sent["limit"] == "10"
    assert data == recorded_data(recorded_loki, "index_volume_by_service")


def test_volume_with_a_step_reads_volume_over_time(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki, "index_volume_range")
    data = loki.volume('{service=~"api|worker"}', start_ns=start, end_ns=end, step=1800)
    assert recorded_loki.requests[-1].path == "/loki/api/v1/index/volume_range"
    assert data["resultType"] == "matrix"


def test_index_stats_is_a_bare_object(recorded_loki, loki: LokiSource) -> None:
    start, end = window(recorded_loki, "index_stats")
    stats = loki.index_stats('{env="dev"}', start_ns=start, end_ns=end)
    assert stats == recorded_loki.exchange("index_stats")["body"]


def test_patterns_samples_are_integer_seconds_and_counts(recorded_loki, loki) -> None:
    start, end = window(recorded_loki, "patterns")
    patterns = loki.patterns('{service="api"}', start_ns=start, end_ns=end, step=300)
    recorded = recorded_data(recorded_loki, "patterns")
    assert [p["pattern"] for p in patterns] == [p["pattern"] for p in recorded]
    samples = [s for p in patterns for s in p["samples"]]
    assert samples and all(isinstance(ts, int) and isinstance(n, int) for ts, n in samples)


def test_check_reports_ready(recorded_loki, loki: LokiSource) -> None:
    status = loki.check()
    assert (status["ok"], status["detail"], status["circuit"]["state"]) == (True, "ready", "closed")


def test_check_reports_lokis_not_ready_text(recorded_loki, loki: LokiSource) -> None:
    recorded_loki.script("/ready", recorded_loki.exchange("ready_not_ready"))
    status = loki.check()
    assert status["ok"] is False
    assert status["detail"] == recorded_loki.exchange("ready_not_ready")["body"].strip()


def fetch_with_pages(recorded_loki, name: str, query: Query, **kwargs):
    """Fetch while the server slices the recorded exchange `name` by each request's window."""
    recorded_loki.pages_from = recorded_loki.exchange(name)
    with LokiSource(recorded_loki.url, retries=0, **kwargs) as source:
        return source.fetch(query)


def fixture_query(recorded_loki, name: str, **fields) -> Query:
    params = recorded_loki.exchange(name)["request"]["params"]
    return Query(start=params["start"], end=params["end"], **fields)


def test_fetch_sends_the_built_logql_with_time_only_in_start_and_end(recorded_loki) -> None:
    query = fixture_query(recorded_loki, "query_range_streams_forward_paged", services=["worker"])
    result = fetch_with_pages(recorded_loki, "query_range_streams_forward_paged", query)
    sent = recorded_loki.requests[-1].params
    assert sent["query"] == '{service="worker"}' == result.queries[0]
    assert int(sent["start"]) == result.window.start_ns
    assert int(sent["end"]) == result.window.end_ns
    assert sent["direction"] == "backward"


def test_structured_metadata_lands_in_the_record(recorded_loki) -> None:
    name = "query_range_categorized_labels"
    query = fixture_query(recorded_loki, name, correlation_id="corr-27209bdf1c11")
    [record] = fetch_with_pages(recorded_loki, name, query).records
    [[_, line, extra]] = recorded_data(recorded_loki, name)["result"][0]["values"]
    metadata = extra["structuredMetadata"]
    assert "trace_id" not in json.loads(line)  # only structured metadata carries it
    assert record.fields["trace_id"] == metadata["trace_id"]
    assert record.correlation_id == metadata["correlation_id"]
    assert "trace_id" not in record.labels  # index labels stay apart from metadata


def test_older_merged_label_shape_still_yields_ids(recorded_loki) -> None:
    name = "query_range_streams_forward_paged"
    query = fixture_query(recorded_loki, name, services=["worker"])
    records = fetch_with_pages(recorded_loki, name, query).records
    merged = [r for r in records if "trace_id" in r.labels]
    assert merged
    assert all(r.correlation_id == r.labels["correlation_id"] for r in merged)


def test_json_lines_parse_like_lokis_json_stage(recorded_loki) -> None:
    # query_range_json_level_error ran `| json`, so Loki's own parse is in each stream's labels
    name = "query_range_json_level_error"
    records = fetch_with_pages(recorded_loki, name, fixture_query(recorded_loki, name)).records
    assert len(records) == 10
    for record in records:
        assert record.message == record.labels["message"]
        assert record.tokens_used == int(record.labels["tokens_used"])
        assert record.level.label == record.labels["level"]


def test_logfmt_lines_parse_like_lokis_logfmt_stage(recorded_loki) -> None:
    name = "query_range_logfmt"
    records = fetch_with_pages(recorded_loki, name, fixture_query(recorded_loki, name)).records
    assert len(records) == 5
    for record in records:
        assert record.message == record.labels["msg"]
        assert record.duration == int(record.labels["duration_ms"]) / 1000
        assert record.correlation_id == record.labels["correlation_id"]
        assert record.service == "worker"


def test_records_come_back_in_time_order(recorded_loki) -> None:
    name = "query_range_json_level_error"
    records = fetch_with_pages(recorded_loki, name, fixture_query(recorded_loki, name)).records
    stamps = [r.timestamp_ns for r in records]
    assert stamps == sorted(stamps)


def test_a_cut_json_line_is_counted_as_malformed_and_kept_as_text(recorded_loki) -> None:
    exchange = recorded_loki.exchange("query_range_streams")
    value = exchange["body"]["data"]["result"][0]["values"][0]
    value[1] = value[1][: len(value[1]) // 2]  # as a writer that crashed mid-line leaves it
    recorded_loki.pages_from = exchange
    params = exchange["request"]["params"]
    with LokiSource(recorded_loki.url, retries=0) as source:
        result = source.fetch(Query(start=params["start"], end=params["end"]))
    assert result.malformed_lines == 1
    assert len(result.records) == 2
    assert value[1] in [r.message for r in result.records]


def test_fetch_reports_lokis_stats_summary(recorded_loki) -> None:
    name = "query_range_logfmt"
    result = fetch_with_pages(recorded_loki, name, fixture_query(recorded_loki, name))
    summary = recorded_data(recorded_loki, name)["stats"]["summary"]
    assert result.stats["pages"] == 1
    assert result.stats["lines_processed"] == summary["totalLinesProcessed"]
    assert result.stats["exec_time_s"] == pytest.approx(summary["execTime"])


def test_colour_codes_in_a_recorded_line_are_gone_from_the_record() -> None:
    """A container with a TTY sends its colours to Loki: the recorded answer, its first line
    coloured as such a container writes it."""
    recorded = json.loads((LOKI_FIXTURES / "query_range_streams.json").read_text())["body"]["data"]
    stream = recorded["result"][0]
    plain = stream["values"][0][1]
    stream["values"][0][1] = "\x1b[31m" + plain + "\x1b[0m"
    entries, _ = streams_entries(recorded)
    records, malformed = entries_to_records(entries)
    assert malformed == 0
    assert "\x1b" not in records[0].raw and "\x1b" not in records[0].message
    assert records[0].raw == plain
