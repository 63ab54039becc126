"""An analyzer app over the small recorded log set in tests/fixtures/web_logs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.infra.keys import KeyStore
from analyzer.services import build_services

WEB_LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "web_logs"


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    def build(**overrides: Any) -> Flask:
        values: dict[str, Any] = {"source_path": str(WEB_LOGS), "data_dir": str(tmp_path / "var")}
        values.update(overrides)
        settings = Settings(**values)
        return create_app(settings, services=build_services(settings))

    return build


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    """Three real keys in a keys file: tenant a (query), tenant b (query), webhook-only."""
    path = tmp_path / "keys.yaml"
    store = KeyStore(str(path))
    return {
        "file": str(path),
        "a": store.add("team-a", ["tenant-a"], ["query", "stream"]),
        "b": store.add("team-b", ["tenant-b"], ["query"]),
        "hook": store.add("grafana-hook", ["tenant-a"], ["webhook"]),
    }


@pytest.fixture
def keyed_client(make_app: Callable[..., Flask], keys: dict[str, str]) -> FlaskClient:
    return make_app(api_keys_file=keys["file"]).test_client()
