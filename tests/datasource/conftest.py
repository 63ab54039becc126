"""The datasource app over `RecordListSource` (see grafana_plugin_data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from grafana_plugin_data import RecordListSource, demo_records

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.model import LogRecord
from analyzer.services import build_services


@pytest.fixture
def records() -> list[LogRecord]:
    return demo_records()


@pytest.fixture
def source(records: list[LogRecord]) -> RecordListSource:
    return RecordListSource(records)


@pytest.fixture
def client(source: RecordListSource, tmp_path: Path) -> FlaskClient:
    settings = Settings(data_dir=str(tmp_path), rate_limits={"datasource": 100_000})
    app = create_app(settings, services=build_services(settings, source=source))
    return app.test_client()
