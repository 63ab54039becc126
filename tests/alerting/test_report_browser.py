"""The report page of a generated incident, loaded in headless Chromium.

The alert is the Grafana notifier test's message (tests/fixtures/grafana_webhook/
alerting_single_firing.json, from grafana/alerting receivers/webhook/v1/webhook_test.go) aimed at
the demo generator's cache outage: startsAt 45 s into the incident, label service=api, then the
same alert resolved 45 s after the incident ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest
from alert_helpers import (
    ARTIFACTS,
    GrafanaStub,
    load_payload,
    make_settings,
    retarget,
    start_grafana,
)

from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def grafana_stub() -> Iterator[GrafanaStub]:
    stub = start_grafana()
    yield stub
    assert stub.server is not None
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture(scope="module")
def incident_report(
    tmp_path_factory: pytest.TempPathFactory, grafana_stub: GrafanaStub
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A served analyzer whose worker has analysed one alert of a generated cache outage (one
    for the module: every test only reads the page)."""
    from werkzeug.serving import make_server

    from analyzer.app import create_app
    from analyzer.demo import generate
    from analyzer.services import build_services
    from analyzer.worker import Worker

    tmp_path = tmp_path_factory.mktemp("report")
    grafana = grafana_stub
    truth = generate(tmp_path / "logs", seed=11, incidents=["cache_outage"], duration="1h")
    incident = truth["incidents"][0]
    settings = make_settings(tmp_path, source_path=str(tmp_path / "logs"), grafana_url=grafana.url)
    services = build_services(settings)
    server = make_server("127.0.0.1", 0, create_app(settings, services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    starts = format_timestamp(instant_ns(incident["start"]) + 45 * NS_PER_SECOND)
    ends = format_timestamp(instant_ns(incident["end"]) + 45 * NS_PER_SECOND)
    payload = load_payload("alerting_single_firing.json")
    payload["externalURL"] = grafana.url  # the Grafana a browser reaches, for the Explore links
    fired = httpx.post(f"{base}/webhooks/grafana", json=retarget(payload, starts_at=starts, labels={"service": "api"}))
    httpx.post(f"{base}/webhooks/grafana",
               json=retarget(payload, starts_at=starts, labels={"service": "api"}, status="resolved", ends_at=ends))
    worker = Worker(services, consumer="browser-test")
    while (job := worker.queue.take(worker.consumer, wait_seconds=0.2)) is not None:
        worker.handle(job)
    analysis_id = fired.json()["analysis_id"]
    record = httpx.get(f"{base}/api/v1/ai_logs/analyses/{analysis_id}").json()
    assert record["status"] == "done"
    yield f"{base}/reports/{analysis_id}", {"incident": incident, "record": record, "grafana": grafana.url}
    server.shutdown()


def test_report_page_loads_without_console_errors_and_draws_its_charts(incident_report, chromium) -> None:
    from selenium.webdriver.common.by import By

    url, context = incident_report
    chromium.get(url)
    assert context["record"]["alert"]["name"] in chromium.title

    severe = [e for e in chromium.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert severe == []
    assert chromium.execute_script(
        "return document.querySelectorAll('script, link, img, iframe, object, [src]').length"
    ) == 0  # the CSP forbids them; nothing should need them

    for svg_id in ("timeline-chart", "correlation-graph"):
        svg = chromium.find_element(By.ID, svg_id)
        assert svg.size["width"] > 0 and svg.size["height"] > 0
    bars = chromium.find_elements(By.CSS_SELECTOR, "#timeline-chart rect.bar")
    assert bars and all(bar.size["height"] > 0 for bar in bars)
    nodes = chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph g.node")
    assert len(nodes) >= 2  # the failing request crossed services
    node_names = {n.get_attribute("data-service") for n in nodes}
    assert set(context["incident"]["affected_services"]) & node_names

    explore = chromium.find_elements(By.CSS_SELECTOR, "a.explore")
    assert explore and explore[0].get_attribute("href").startswith(f"{context['grafana']}/explore?")

    ARTIFACTS.mkdir(exist_ok=True)
    chromium.set_window_size(900, chromium.execute_script("return document.body.scrollHeight") + 40)
    assert chromium.save_screenshot(str(ARTIFACTS / "report.png"))


def test_header_gives_alert_state_verdict_and_window_before_the_narrative(incident_report, chromium) -> None:
    from selenium.webdriver.common.by import By

    url, context = incident_report
    record = context["record"]
    chromium.get(url)

    header = chromium.find_element(By.ID, "summary")
    assert chromium.find_element(By.ID, "alert-name").text == record["alert"]["name"]
    assert chromium.find_element(By.ID, "alert-state").text == "resolved"
    verdict = chromium.find_element(By.ID, "verdict").text
    assert record["result"]["insights"][0]["title"] in verdict
    window = chromium.find_element(By.ID, "window").text
    assert record["window"]["start"][11:19] in window and record["window"]["end"][11:19] in window
    narrative = chromium.find_element(By.ID, "narrative")
    assert header.location["y"] + header.size["height"] <= narrative.location["y"]


def test_narrative_keeps_its_paragraphs_and_links_each_piece_of_evidence(incident_report, chromium) -> None:
    from selenium.webdriver.common.by import By

    url, context = incident_report
    chromium.get(url)

    narrative = chromium.find_element(By.ID, "narrative")
    assert not narrative.find_elements(By.TAG_NAME, "pre")
    assert len(narrative.find_elements(By.TAG_NAME, "p")) >= 2
    assert narrative.find_elements(By.CSS_SELECTOR, "ul li, ol li")
    links = narrative.find_elements(By.CSS_SELECTOR, "a.explore")
    assert len(links) >= 2
    assert all(a.get_attribute("href").startswith(f"{context['grafana']}/explore?") for a in links)


def test_timeline_shows_the_root_cause_service_in_its_own_colour_with_the_alert_marked(
    incident_report, chromium
) -> None:
    from selenium.webdriver.common.by import By

    url, context = incident_report
    incident = context["incident"]
    chromium.get(url)

    lanes = {g.get_attribute("data-service"): g for g in
             chromium.find_elements(By.CSS_SELECTOR, "#timeline-chart g.lane")}
    root = incident["root_cause_service"]
    erring = {s for s, n in incident["error_lines"].items() if n}
    assert erring <= set(lanes), "every service that logged in the incident has a lane"
    assert lanes[root].find_elements(By.CSS_SELECTOR, "rect.bar")
    fills = {name: lane.find_element(By.CSS_SELECTOR, "rect.bar").get_attribute("fill")
             for name, lane in lanes.items() if lane.find_elements(By.CSS_SELECTOR, "rect.bar")}
    assert len(set(fills.values())) == len(fills), "one colour per service"

    legend = chromium.find_element(By.CSS_SELECTOR, f'#timeline-legend [data-service="{root}"]').text
    assert "root cause" in legend

    plot = chromium.find_element(By.CSS_SELECTOR, "#timeline-chart g.lane rect.lane-bg").rect
    for css in ("fired", "resolved"):
        line = chromium.find_element(By.CSS_SELECTOR, f"#timeline-chart g.marker.{css} line").rect
        assert plot["x"] <= line["x"] <= plot["x"] + plot["width"] + 1
    ticks = chromium.find_elements(By.CSS_SELECTOR, "#timeline-chart text.tick")
    assert len(ticks) >= 3
    boxes = sorted((t.rect for t in ticks), key=lambda r: r["x"])
    assert all(a["x"] + a["width"] < b["x"] for a, b in pairwise(boxes)), "labels overlap"


def test_request_flow_marks_the_failing_hop_and_labels_edges_with_calls(incident_report, chromium) -> None:
    import re

    from selenium.webdriver.common.by import By

    url, context = incident_report
    chromium.get(url)

    graph = context["record"]["report"]["graph"]
    failing = chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph g.node.failing")
    assert [g.get_attribute("data-service") for g in failing] == [graph["failing_hop"]]
    labels = [t.text for t in chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph text.edge-label")]
    assert len(labels) == len(graph["edges"]) and all(re.fullmatch(r"\d+ calls?", t) for t in labels)
    names = [t.rect for t in chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph text.node-name")]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, "node labels overlap"
