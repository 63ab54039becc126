"""Rollback switches, the open-mode rate limit, and CLI errors an agent can read."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from analyzer.cli import EXIT_BAD_INPUT, EXIT_UPSTREAM, main
from analyzer.config import load_settings
from tests.conftest import free_port

API = "/api/v1/ai_logs"
WEB_LOGS = "tests/fixtures/web_logs"


def test_switched_off_every_analysis_endpoint_is_a_503(make_app: Callable[..., Flask]) -> None:
    client = make_app(enabled=False).test_client()
    for method, path in (("GET", f"{API}/query"), ("GET", f"{API}/patterns"),
                         ("POST", "/grafana/query"), ("POST", "/webhooks/grafana"),
                         ("GET", f"{API}/correlate?correlation_id=x")):  # fmt: skip
        response = client.open(path, method=method, json={})
        assert response.status_code == 503, path
        assert response.get_json()["error"]["code"] == "ANALYZER_DISABLED"
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert client.get(path).status_code == 200


def test_pattern_detection_off_closes_the_patterns_endpoints(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(pattern_detection=False).test_client()
    response = client.get(f"{API}/patterns")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "PATTERN_DETECTION_DISABLED"
    assert client.get(f"{API}/query").status_code == 200


def test_the_seed_names_of_the_switches_are_read() -> None:
    settings = load_settings(
        {
            "AI_LOGS_ENABLED": "false",
            "AI_LOGS_PATTERN_DETECTION": "false",
            "TRACE_PROPAGATION_ENABLED": "false",
            "AI_LOGS_RATE_LIMIT_PER_HOUR": "42",
            "AI_LOGS_MAX_QUERY_TIME": "7.5",
            "AI_LOGS_PUBLIC_URL": "http://10.1.2.3:8080",
        }
    )
    assert (settings.enabled, settings.pattern_detection, settings.trace_propagation) == (
        False, False, False,
    )  # fmt: skip
    assert settings.rate_limit_per_hour == 42
    assert settings.max_query_time == 7.5
    assert settings.public_url == "http://10.1.2.3:8080"


def test_open_mode_does_not_lock_out_the_local_user(make_app: Callable[..., Flask]) -> None:
    client = make_app(rate_limit_per_hour=2).test_client()
    statuses = {client.get(f"{API}/query?time_range=2h").status_code for _ in range(5)}
    assert statuses == {200}


def test_open_mode_can_still_be_limited(make_app: Callable[..., Flask]) -> None:
    client = make_app(open_mode_rate_limit=2).test_client()
    statuses = [client.get(f"{API}/query?time_range=2h").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_errors_with_json_are_the_http_error_object_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["query", "--source", WEB_LOGS, "--time-range", "0s", "--json"], capsys)
    assert code == EXIT_BAD_INPUT
    error = json.loads(out)["error"]
    assert error["code"] == "INVALID_PARAMETER" and error["suggestion"]
    assert error["exit_code"] == EXIT_BAD_INPUT
    assert "Traceback" not in out + err


def test_cli_usage_errors_with_json_are_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["query", "--no-such-flag", "--json"], capsys)
    assert code == EXIT_BAD_INPUT
    assert json.loads(out)["error"]["code"] == "INVALID_ARGUMENTS"


def test_cli_errors_without_json_are_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["query", "--source", WEB_LOGS, "--time-range", "0h"], capsys)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith("error [INVALID_PARAMETER]") and "Traceback" not in err


def test_an_unknown_service_on_the_cli_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["query", "--source", WEB_LOGS, "--services", "api,nosuch", "--json"],
                           capsys)  # fmt: skip
    error = json.loads(out)["error"]
    assert code == EXIT_BAD_INPUT
    assert error["code"] == "UNKNOWN_SERVICE" and error["details"]["unknown"] == ["nosuch"]
    assert "api" in error["details"]["known"]


def test_an_unreachable_loki_is_the_upstream_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_LOGS_MAX_QUERY_TIME", "3")
    code, out, _ = run_cli(
        ["query", "--loki", f"http://127.0.0.1:{free_port()}", "--json"], capsys
    )
    assert code == EXIT_UPSTREAM
    assert json.loads(out)["error"]["code"] in ("LOKI_UNAVAILABLE", "QUERY_TIMEOUT")
