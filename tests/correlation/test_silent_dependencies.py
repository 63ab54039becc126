"""A dependency that writes no logs (managed Redis, a database, a SaaS API) is still blamed.

Each scenario is a small outage where the failing dependency logs nothing at all and its callers
say, in the words real clients use, what they could not reach: redis-py's `Error 111 connecting
to redis:6379`, psycopg2's `connection to server at "orders-db" (10.0.3.7), port 5432 failed`,
requests' `HTTPSConnectionPool(host='api.openai.com', port=443)`. The dependency is the root
cause in troubleshoot (marked as having no logs of its own), the failing hop of a failed request
and a node of the alert report's flow graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analyzer.alerting.report import report_data
from analyzer.analysis.correlate import request_flow
from analyzer.analysis.pipeline import analyze_records
from analyzer.infra.privacy import mask
from analyzer.model import NS_PER_SECOND, LogRecord, Query, Severity, TimeRange
from analyzer.narrate import render
from analyzer.web.reports import graph_svg

T0 = 1_790_000_000 * NS_PER_SECOND
WINDOW = TimeRange(T0 - 600 * NS_PER_SECOND, T0 + 900 * NS_PER_SECOND)


@dataclass(frozen=True)
class Outage:
    dependency: str
    entry: str  # the service a request enters by
    caller: str  # the service that calls the dependency
    errors: tuple[str, ...]  # what the caller logs when the dependency does not answer


OUTAGES = {
    "redis": Outage(
        "redis",
        "web",
        "api",
        (
            "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
            "cache lookup failed, request aborted",
        ),
    ),
    "database": Outage(
        "orders-db",
        "web",
        "orders",
        (
            'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at '
            '"orders-db" (10.0.3.7), port 5432 failed: Connection refused',
            "GET /orders/42 failed with 500",
        ),
    ),
    "external_api": Outage(
        "api.openai.com",
        "web",
        "assistant",
        (
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.openai.com', "
            "port=443): Max retries exceeded with url: /v1/chat/completions (Caused by "
            "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))",
            "chat completion failed",
        ),
    ),
}


def _line(
    at: int, cid: str, service: str, level: Severity, message: str, span: str, parent: str | None
) -> LogRecord:
    fields = {"span_id": span, **({"parent_span_id": parent} if parent else {})}
    return LogRecord(at, service, level, message, fields=fields, correlation_id=cid)


def records_of(outage: Outage, requests: int = 40) -> list[LogRecord]:
    """Healthy traffic for five minutes, then every request fails at the dependency."""
    out = []
    ms = 1_000_000
    for i in range(requests * 2):
        at = T0 + (i - requests) * 7 * NS_PER_SECOND
        cid, entry, call = f"req-{i:04d}", f"e{i}", f"c{i}"
        out.append(_line(at, cid, outage.entry, Severity.INFO, "GET /checkout", entry, None))
        out.append(_line(at + 2 * ms, cid, outage.caller, Severity.INFO, "handling request", call, entry))
        if i >= requests:
            for n, message in enumerate(outage.errors):
                out.append(_line(at + (5 + n) * ms, cid, outage.caller, Severity.ERROR, message, call, entry))
            message = f"upstream {outage.caller} returned 503"
            out.append(_line(at + 9 * ms, cid, outage.entry, Severity.ERROR, message, entry, None))
        else:
            out.append(_line(at + 6 * ms, cid, outage.caller, Severity.INFO, "request served in 4 ms", call, entry))
            out.append(_line(at + 8 * ms, cid, outage.entry, Severity.INFO, "200 OK", entry, None))
    return sorted(out, key=lambda r: r.timestamp_ns)


@pytest.fixture(params=sorted(OUTAGES), ids=sorted(OUTAGES))
def outage(request: pytest.FixtureRequest) -> tuple[Outage, list[LogRecord]]:
    scenario = OUTAGES[request.param]
    return scenario, records_of(scenario)


def test_the_dependency_writes_no_line(outage) -> None:
    scenario, records = outage
    assert scenario.dependency not in {r.service for r in records}


def test_troubleshoot_names_the_silent_dependency_as_root_cause(outage) -> None:
    scenario, records = outage
    analysis = analyze_records(records, Query(), WINDOW)
    top = analysis.insights[0]
    assert (top.kind, top.service) == ("root_cause", scenario.dependency)
    assert top.evidence.extra["silent"] is True
    assert top.evidence.extra["named_by"] == {scenario.caller: 40 * 1}
    assert top.confidence >= 0.7
    assert "no logs of its own, named by 40 errors" in top.title


def test_the_narrative_says_the_cause_has_no_logs_of_its_own(outage) -> None:
    scenario, records = outage
    body = mask(analyze_records(records, Query(), WINDOW).to_dict())
    text = render("query", body, fmt="narrative")
    started = text.split("Where it started:", 1)[1].splitlines()[0]
    assert started.strip().startswith(f"{scenario.dependency} is very likely the root cause: it has no logs of its own")
    assert f"Failures began in {scenario.caller} (" in text


def test_correlate_makes_the_silent_dependency_the_failing_hop(outage) -> None:
    scenario, records = outage
    cid = next(r.correlation_id for r in records if r.is_error)
    result = request_flow(records, cid).to_dict()
    assert result["failing_hop"] == scenario.dependency
    node = next(n for n in result["request_flow"]["nodes"] if n["service"] == scenario.dependency)
    assert node["inferred"] and node["silent"] and node["status"] == "unreachable"
    assert node["blamed_by"] == [scenario.caller] and node["named_by_errors"] >= 1
    edge = next(e for e in result["request_flow"]["edges"] if e["target"] == scenario.dependency)
    assert edge["source"] == scenario.caller and edge["failed"]
    text = render("correlation", mask(result), fmt="narrative")
    assert f"It started at {scenario.dependency}, which has no logs of its own" in text


def test_the_report_graph_draws_the_silent_dependency_as_a_node(outage) -> None:
    scenario, records = outage
    analysis = analyze_records(records, Query(), WINDOW)
    insights = [i.to_dict() for i in analysis.insights]
    data = report_data(
        insights, analysis.profile, analysis.context_records, start_ns=WINDOW.start_ns,
        end_ns=WINDOW.end_ns, alert_services=[scenario.entry], flow_records=records,
        known_services=analysis.profile.services(),
    )
    graph = data["graph"]
    assert graph["kind"] == "request_flow" and graph["failing_hop"] == scenario.dependency
    node = next(n for n in graph["nodes"] if n["id"] == scenario.dependency)
    assert node["silent"] and node["named_by_errors"] >= 1
    drawn = next(n for n in graph_svg(graph)["nodes"] if n["id"] == scenario.dependency)
    assert drawn["failing"] and drawn["dashed"]
    assert drawn["detail"] == f"no logs of its own; named by {node['named_by_errors']} error" + (
        "" if node["named_by_errors"] == 1 else "s"
    )


def test_without_a_request_id_the_co_occurrence_graph_still_has_the_dependency(outage) -> None:
    from analyzer.alerting.report import co_occurrence_graph

    scenario, records = outage
    anonymous = [
        LogRecord(r.timestamp_ns, r.service, r.level, r.message) for r in records if r.is_error
    ]
    graph = co_occurrence_graph(anonymous)
    node = next(n for n in graph["nodes"] if n["id"] == scenario.dependency)
    assert node["silent"] and node["named_by_errors"] == 40
    assert {"source": scenario.caller, "target": scenario.dependency} in [
        {"source": e["source"], "target": e["target"]} for e in graph["edges"]
    ]
