"""`ai-logs query`: a readable summary, and with --json the same object as the HTTP endpoint."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from analyzer.cli import main
from tests.web.conftest import WEB_LOGS

VOLATILE = {"execution_ms", "query_time", "analysis_ms", "from_cache"}


def _stable(body: dict) -> dict:
    body = dict(body)
    body["metadata"] = {k: v for k, v in body["metadata"].items() if k not in VOLATILE}
    return body


def test_json_output_is_the_http_response_object(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--mode", "errors", "--time-range", "2h", "--services", "api,anythingllm"]
    assert main(["query", "--source", str(WEB_LOGS), "--json", *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    params = {"mode": "errors", "time_range": "2h", "services": "api,anythingllm"}
    served = client.get("/api/v1/ai_logs/query", query_string=params).get_json()
    assert _stable(printed) == _stable(served)


def test_summary_output_names_the_window_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--source", str(WEB_LOGS), "--time-range", "2h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("troubleshoot · ")
    assert "errors" in out and "anythingllm" in out


def test_bad_flag_value_exits_with_the_api_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--source", str(WEB_LOGS), "--time-range", "2 hours"]) == 2
    err = capsys.readouterr().err
    assert "INVALID_PARAMETER" in err and "time_range" in err
