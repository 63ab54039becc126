"""The report's request-flow graph, measured in headless Chromium: no two nodes or labels
overlap, on the report pages of five generated incidents (each analysed by the worker from a
Grafana alert on api) and on a request that crosses fourteen services, three of which write no
logs. Each graph is screenshot into test-artifacts/.

What is measured is what the browser drew: the bounding box of every node circle, node name,
node detail, failing-hop mark and edge label in the SVG, in page pixels.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alert_helpers import ARTIFACTS, load_payload, make_settings, retarget

from analyzer.model import NS_PER_SECOND, LogRecord, Severity, format_timestamp, instant_ns

pytestmark = pytest.mark.browser

KINDS = ["cache_outage", "database_outage", "llm_timeout", "connection_pool_exhaustion", "auth_failure_spike"]
MEASURE = """
const svg = document.getElementById('correlation-graph');
const out = [];
const box = (owner, kind, el) => {
  const r = el.getBoundingClientRect();
  out.push({owner, kind, text: el.textContent, x: r.x, y: r.y, w: r.width, h: r.height});
};
svg.querySelectorAll('g.node').forEach(g => {
  g.querySelectorAll('circle').forEach(c => box(g.dataset.service, 'circle', c));
  g.querySelectorAll('text').forEach(t => box(g.dataset.service, t.getAttribute('class') || 'text', t));
});
svg.querySelectorAll('text.edge-label').forEach((t, i) => box('edge ' + i, 'edge-label', t));
return out;
"""
TOLERANCE = 1.0  # px of overlap a rounding error may make


def overlaps(items: list[dict[str, Any]]) -> list[str]:
    """Pairs of drawn things that overlap: any two of different owners, and a node's own
    labels with each other or with its circle (its error count sits inside the circle)."""
    found = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a["owner"] == b["owner"] and (
                "node-count" in (a["kind"], b["kind"]) or a["kind"] == b["kind"] == "circle"
            ):
                continue
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > TOLERANCE and dy > TOLERANCE:
                found.append(f"{a['owner']} {a['kind']} {a['text']!r} / {b['owner']} {b['kind']} {b['text']!r}")
    return found


def measure(chromium: Any, url: str, shot: str) -> list[dict[str, Any]]:
    from selenium.webdriver.common.by import By

    chromium.get(url)
    severe = [e for e in chromium.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert severe == []
    items = chromium.execute_script(MEASURE)
    ARTIFACTS.mkdir(exist_ok=True)
    graph = chromium.find_element(By.ID, "graph")
    chromium.execute_script("arguments[0].scrollIntoView()", graph)
    assert graph.screenshot(str(ARTIFACTS / shot))
    return items


@pytest.fixture(scope="module")
def incident_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Report pages of five incidents of one generated window, each from its own alert."""
    from werkzeug.serving import make_server

    from analyzer.app import create_app
    from analyzer.demo import generate
    from analyzer.services import build_services
    from analyzer.worker import Worker

    tmp_path = tmp_path_factory.mktemp("graphs")
    truth = generate(tmp_path / "logs", seed=11, incidents=KINDS, duration="3h")
    settings = make_settings(tmp_path, source_path=str(tmp_path / "logs"))
    services = build_services(settings)
    server = make_server("127.0.0.1", 0, create_app(settings, services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    fired = {}
    for incident in truth["incidents"]:
        starts = format_timestamp(instant_ns(incident["start"]) + 45 * NS_PER_SECOND)
        payload = retarget(load_payload("alerting_single_firing.json"), starts_at=starts, labels={"service": "api"})
        payload["groupKey"] = f"{payload.get('groupKey', '')}-{incident['kind']}"
        for alert in payload["alerts"]:
            alert["fingerprint"] = f"{incident['kind']}-{alert.get('fingerprint', '')}"
            alert["labels"]["alertname"] = f"{incident['kind']} on api"
        fired[incident["kind"]] = httpx.post(f"{base}/webhooks/grafana", json=payload).json()["analysis_id"]
    worker = Worker(services, consumer="graph-test")
    while (job := worker.queue.take(worker.consumer, wait_seconds=0.2)) is not None:
        worker.handle(job)
    for analysis_id in fired.values():
        assert httpx.get(f"{base}/api/v1/ai_logs/analyses/{analysis_id}").json()["status"] == "done"
    yield {kind: f"{base}/reports/{analysis_id}" for kind, analysis_id in fired.items()}
    server.shutdown()


@pytest.mark.parametrize("kind", KINDS)
def test_no_two_nodes_or_labels_of_an_incident_flow_overlap(incident_reports, chromium, kind: str) -> None:
    items = measure(chromium, incident_reports[kind], f"report-graph-{kind}.png")
    assert sum(1 for i in items if i["kind"] == "node-name") >= 2
    assert overlaps(items) == []


def wide_request() -> list[LogRecord]:
    """One checkout crossing fourteen services; three (the model API, the vector store and
    the object store) write no logs, and the model API refuses connections."""
    t0 = instant_ns("2026-11-24T10:00:00Z")
    calls = [  # (service, parent, delay ms, level, message)
        ("web-frontend", None, 0, "info", "POST /checkout"),
        ("api-gateway", "web-frontend", 2, "info", "route /checkout"),
        ("auth-service", "api-gateway", 4, "info", "token ok"),
        ("cart-service", "api-gateway", 6, "info", "cart loaded"),
        ("pricing-service", "cart-service", 8, "info", "priced 3 items"),
        ("inventory-service", "cart-service", 9, "info", "stock reserved"),
        ("recommendation-service", "api-gateway", 10, "info", "calling assistant-service"),
        ("assistant-service", "recommendation-service", 12, "error",
         "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.openai.com', port=443): "
         "Max retries exceeded (Caused by NewConnectionError: [Errno 111] Connection refused)"),
        ("search-service", "recommendation-service", 13, "info",
         "query sent to https://vectors.internal.example.net/v1/query"),
        ("payment-service", "api-gateway", 14, "info", "charge authorised"),
        ("notification-service", "payment-service", 16, "info", "receipt queued; upload to https://s3.amazonaws.com/receipts"),
        ("audit-service", "api-gateway", 18, "info", "checkout recorded"),
        ("recommendation-service", "api-gateway", 20, "error", "assistant-service returned 502"),
        ("api-gateway", "web-frontend", 22, "error", "recommendation-service returned 502"),
    ]
    spans = {name: f"s{i}" for i, name in enumerate(dict.fromkeys(c[0] for c in calls))}
    out = []
    for service, parent, delay, level, message in calls:
        fields = {"span_id": spans[service], **({"parent_span_id": spans[parent]} if parent else {})}
        out.append(LogRecord(t0 + delay * 1_000_000, service, Severity.parse(level), message,
                             fields=fields, correlation_id="req-wide"))
    return out


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    from analyzer.alerting.report import correlation_graph
    from analyzer.web.reports import render_report

    records = wide_request()
    graph = correlation_graph("req-wide", records, records)
    record = {
        "id": "wide", "job_id": "wide", "status": "done", "attempts": 1,
        "alert": {"name": "Checkout errors", "labels": {}}, "window": {},
        "report": {"graph": graph, "timeline": {}}, "result": {"insights": []},
    }
    page: Path = tmp_path_factory.mktemp("wide") / "report.html"
    page.write_text(render_report(record, None), encoding="utf-8")
    return page.as_uri(), graph


def test_a_request_across_fourteen_services_draws_without_overlaps(wide_report, chromium) -> None:
    url, graph = wide_report
    assert len(graph["nodes"]) >= 12
    silent = {n["id"] for n in graph["nodes"] if n.get("silent")}
    assert {"api.openai.com", "vectors.internal.example.net", "s3.amazonaws.com"} <= silent
    assert graph["failing_hop"] == "api.openai.com"
    items = measure(chromium, url, "report-graph-14-services.png")
    names = [i["text"] for i in items if i["kind"] == "node-name"]
    assert len(names) == len(graph["nodes"])
    assert overlaps(items) == []


def test_the_overlap_check_sees_a_label_under_another_node(chromium, tmp_path: Path) -> None:
    page = tmp_path / "crowded.html"
    page.write_text(
        '<svg id="correlation-graph" width="300" height="120" xmlns="http://www.w3.org/2000/svg">'
        '<g class="node" data-service="a"><circle cx="50" cy="50" r="24"/>'
        '<text class="node-name" x="50" y="91" text-anchor="middle">a-very-long-service-name</text></g>'
        '<g class="node" data-service="b"><circle cx="110" cy="80" r="24"/></g></svg>',
        encoding="utf-8",
    )
    chromium.get(page.as_uri())
    found = overlaps(chromium.execute_script(MEASURE))
    assert found and "a node-name 'a-very-long-service-name' / b circle" in found[0]
