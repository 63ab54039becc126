"""A relative window over files ends at the newest line, to the nanosecond: the line is inside
the window, and inside it again when the window the answer names is asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.services import build_services

API = "/api/v1/ai_logs"
LINES = 1000


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    logs = tmp_path / "logs"
    logs.mkdir()
    with (logs / "api.jsonl").open("w") as out:
        for i in range(LINES):
            # nanosecond times that no microsecond (nor a float of seconds) holds exactly
            stamp = f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}.950000047Z"
            out.write(json.dumps({"time": stamp, "level": "error" if i % 10 == 0 else "info",
                                  "service": "api", "msg": f"request {i}"}) + "\n")
    settings = Settings(source_path=str(logs), data_dir=str(tmp_path / "var"), embedded_worker=False)
    return create_app(settings, services=build_services(settings))


def test_the_newest_line_of_a_relative_window_is_counted(app: Flask) -> None:
    body = app.test_client().get(f"{API}/query?time_range=1h&cache=false").get_json()
    assert body["metadata"]["total_logs"] == LINES
    assert body["summary"]["error_count"] == LINES // 10


def test_the_window_an_answer_names_holds_its_newest_line_when_asked_again(app: Flask) -> None:
    client = app.test_client()
    named = client.get(f"{API}/query?time_range=1h&cache=false").get_json()["metadata"]["time_range"]
    again = client.get(f"{API}/query?start={named['start']}&end={named['end']}&cache=false").get_json()
    assert again["metadata"]["total_logs"] == LINES
