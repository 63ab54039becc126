"""Fixtures of the alert pipeline tests (helpers in alert_helpers.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import (
    CHROMEDRIVER,
    CHROMIUM,
    AlertApp,
    GrafanaStub,
    PersistentRedis,
    make_settings,
    recorded_loki_server,
    start_grafana,
)


@pytest.fixture
def grafana() -> Iterator[GrafanaStub]:
    stub = start_grafana()
    yield stub
    assert stub.server is not None
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def make_app(tmp_path: Path) -> Any:
    def build(**overrides: Any) -> AlertApp:
        from analyzer.app import create_app
        from analyzer.services import build_services

        settings = make_settings(tmp_path, **overrides)
        services = build_services(settings)
        return AlertApp(create_app(settings, services=services), services)

    return build


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[PersistentRedis]:
    server = PersistentRedis(tmp_path / "redis")
    server.workdir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def recorded_loki() -> Iterator[Any]:
    """A Loki that answers from tests/fixtures/loki/: every log query_range is sliced from the
    recorded error lines of api and anythingllm (05:12-05:42 UTC on 24 Nov 2026), and metric
    queries get recorded metric answers of the right kind (tests/fixtures/loki_scale): these
    tests are about the alert flow around an analysis, not the analysis."""
    import json
    import threading

    server_module = recorded_loki_server()
    exchanges = [json.loads(p.read_text()) for p in sorted(server_module.LOKI_FIXTURES.glob("*.json"))]
    loki = server_module.RecordedLoki(exchanges)
    loki.pages_from = server_module.load_exchange("query_range_json_level_error")
    loki.answer_metrics_by_kind()
    server = server_module._QuietServer(("127.0.0.1", 0), server_module._handler(loki))
    loki.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield loki
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
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
