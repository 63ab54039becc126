"""`service` or `service_name`: the label that names services is picked per tenant from the labels
Loki has (or forced by a setting), and every LogQL the analyzer sends uses it."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.config import load_settings
from analyzer.model import Query
from analyzer.sources import logql, open_source
from analyzer.sources.loki import LokiSource

PAGED = "query_range_streams_forward_paged"


def serve_pages(recorded_loki: Any) -> Query:
    recorded_loki.pages_from = recorded_loki.exchange(PAGED)
    params = recorded_loki.exchange(PAGED)["request"]["params"]
    return Query(services=["worker"], start=params["start"], end=params["end"])


def sent_queries(recorded_loki: Any) -> list[str]:
    return [r.params["query"] for r in recorded_loki.requests_to("/loki/api/v1/query_range")]


# ---- building LogQL ----


def test_the_selector_names_services_with_the_label_given() -> None:
    assert logql.selector(["api"], service_label="service_name") == '{service_name="api"}'
    assert logql.selector(["api", "worker"], service_label="service_name") == (
        '{service_name=~"api|worker"}'
    )


def test_the_any_service_selector_uses_the_label_given() -> None:
    assert logql.selector([]) == '{service=~".+"}'
    assert logql.selector([], service_label="service_name") == '{service_name=~".+"}'


def test_log_queries_and_counts_use_the_label_given() -> None:
    query = Query(services=["api"], correlation_id="req-1")
    assert logql.log_query(query, service_label="service_name") == (
        '{service_name="api"} | correlation_id="req-1"'
    )
    assert logql.count_by_service(query, service_label="service_name").startswith(
        "sum by (service_name) (count_over_time({service_name="
    )


def test_the_default_label_is_service() -> None:
    assert logql.log_query(Query(services=["api"])) == '{service="api"}'


@pytest.mark.parametrize(
    ("labels", "expected"),
    [(["cluster", "env", "service", "service_name"], "service"),
     (["env", "service_name"], "service_name"),
     ([], "service")],
)  # fmt: skip
def test_the_service_label_is_service_where_streams_have_it_else_service_name(
    labels: list[str], expected: str
) -> None:
    assert logql.service_label_from(labels) == expected


def test_a_forced_service_label_wins_over_what_loki_has() -> None:
    assert logql.service_label_from(["service"], forced="app") == "app"


# ---- discovery per tenant ----


def test_loki_source_picks_the_label_from_the_tenants_labels(recorded_loki) -> None:
    recorded_labels = recorded_loki.exchange("labels")["body"]["data"]
    assert {"service", "service_name"} <= set(recorded_labels)
    with LokiSource(recorded_loki.url, retries=0) as loki:
        assert loki.service_label("fake") == "service"


def test_the_discovered_label_is_asked_once_per_tenant(recorded_loki) -> None:
    query = serve_pages(recorded_loki)
    with LokiSource(recorded_loki.url, retries=0) as loki:
        loki.fetch(query)
        loki.fetch(query)
        loki.fetch(query, tenant="team-a")
    tenants = [r.headers["x-scope-orgid"] for r in recorded_loki.requests_to("/loki/api/v1/labels")]
    assert tenants == ["fake", "team-a"]
    assert set(sent_queries(recorded_loki)) == {'{service="worker"}'}


def test_a_forced_label_is_sent_without_asking_loki(recorded_loki) -> None:
    query = serve_pages(recorded_loki)
    settings = load_settings(
        {"LOKI_URL": recorded_loki.url, "AI_LOGS_LOKI_SERVICE_LABEL": "service_name"}
    )
    source = open_source(settings)
    assert isinstance(source, LokiSource)
    records = source.fetch(query).records
    assert records and {r.service for r in records} == {"worker"}
    assert set(sent_queries(recorded_loki)) == {'{service_name="worker"}'}
    assert recorded_loki.requests_to("/loki/api/v1/labels") == []


def test_a_gateway_that_hides_the_labels_api_means_service(recorded_loki) -> None:
    recorded_loki.script("/loki/api/v1/labels", (403, "forbidden\n"))
    query = serve_pages(recorded_loki)
    with LokiSource(recorded_loki.url, retries=0) as loki:
        assert loki.fetch(query).records
    assert set(sent_queries(recorded_loki)) == {'{service="worker"}'}
