"""Fixtures of the alert pipeline tests (helpers in alert_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import AlertApp, GrafanaStub, make_settings, start_grafana


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
