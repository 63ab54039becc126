"""The report page of a generated incident, loaded in headless Chromium.

The alert is the Grafana notifier test's message (tests/fixtures/grafana_webhook/
alerting_single_firing.json, from grafana/alerting receivers/webhook/v1/webhook_test.go) aimed at
the demo generator's cache outage: startsAt 45 s into the incident, label service=api, then the
same alert resolved 45 s after the incident ends.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alert_helpers import GrafanaStub, load_payload, make_settings, retarget

from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.browser


@pytest.fixture
def incident_report(tmp_path: Path, grafana: GrafanaStub) -> Iterator[tuple[str, dict[str, Any]]]:
    """A served analyzer whose worker has analysed one alert of a generated cache outage."""
    from werkzeug.serving import make_server

    from analyzer.app import create_app
    from analyzer.demo import generate
    from analyzer.services import build_services
    from analyzer.worker import Worker

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


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and chromium-driver")
        pytest.skip("headless Chromium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=900,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_report_page_loads_without_console_errors_and_draws_its_charts(incident_report, chromium) -> None:
    from selenium.webdriver.common.by import By

    url, context = incident_report
    chromium.get(url)
    assert context["record"]["alert"]["name"] in chromium.title

    severe = [e for e in chromium.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert severe == []

    for svg_id in ("timeline-chart", "correlation-graph"):
        svg = chromium.find_element(By.ID, svg_id)
        assert svg.size["width"] > 0 and svg.size["height"] > 0
    bars = chromium.find_elements(By.CSS_SELECTOR, "#timeline-chart rect")
    assert bars and all(bar.size["height"] > 0 for bar in bars)
    nodes = chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph circle")
    assert len(nodes) >= 2  # the failing request crossed services
    node_names = {n.text for n in chromium.find_elements(By.CSS_SELECTOR, "#correlation-graph g.node text")}
    assert set(context["incident"]["affected_services"]) & node_names

    explore = chromium.find_elements(By.CSS_SELECTOR, "a.explore")
    assert explore and explore[0].get_attribute("href").startswith(f"{context['grafana']}/explore?")

    ARTIFACTS.mkdir(exist_ok=True)
    chromium.set_window_size(900, chromium.execute_script("return document.body.scrollHeight") + 40)
    assert chromium.save_screenshot(str(ARTIFACTS / "report.png"))
