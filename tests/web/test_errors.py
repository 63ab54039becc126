"""Every error leaves as JSON with a code, a message and a suggestion; never a traceback."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from analyzer.config import Settings
from analyzer.services import build_services
from analyzer.sources.loki import LokiSource
from tests.conftest import free_port


def _assert_error(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert response.status_code == status
    assert response.content_type.startswith("application/json")
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["suggestion"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_path_is_a_json_404(client: FlaskClient) -> None:
    _assert_error(client.get("/api/v1/ai_logs/nothing-here"), 404, "NOT_FOUND")


def test_wrong_method_is_a_json_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/ai_logs/query")
    _assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_unexpected_failure_is_a_json_500_without_traceback(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = _assert_error(response, 500, "INTERNAL")
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["error"]["suggestion"]


def test_loki_unreachable_is_a_503(tmp_path) -> None:
    settings = Settings(
        loki_url=f"http://127.0.0.1:{free_port()}", loki_retries=1, data_dir=str(tmp_path)
    )
    source = LokiSource(settings.loki_url, retries=1, timeout=2.0)
    from analyzer.app import create_app

    app = create_app(settings, services=build_services(settings, source=source))
    _assert_error(app.test_client().get("/api/v1/ai_logs/query"), 503, "LOKI_UNAVAILABLE")
