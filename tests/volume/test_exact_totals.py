"""Nothing silently truncated: over a window of about 430,000 lines (more than every cap of the
evidence, the logs returned and the panels), every endpoint reports the window's exact totals
and says that the lines it returns are a sample."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.model import instant_ns
from analyzer.services import build_services
from tests.volume.conftest import Window, count_lines

API = "/api/v1/ai_logs"


@pytest.fixture(scope="module")
def app(volume: Window, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    settings = Settings(
        source_path=str(volume.path), data_dir=str(tmp_path_factory.mktemp("var")),
        embedded_worker=False, rate_limits={"datasource": 100_000},
    )
    return create_app(settings, services=build_services(settings))


def window_query(volume: Window) -> str:
    return f"start={volume.start}&end={volume.end}&cache=false"


def errors_by_service(truth: dict[str, Any]) -> dict[str, int]:
    return {
        key.split("/")[0]: n
        for key, n in truth["count_by_service_level"].items()
        if key.endswith("/error")
    }


def test_query_totals_are_the_windows(app: Flask, volume: Window) -> None:
    body = app.test_client().get(f"{API}/query?{window_query(volume)}").get_json()
    truth, summary, meta = volume.truth, body["summary"], body["metadata"]
    assert summary["total_records"] == meta["total_logs"] == truth["total_lines"]
    assert summary["error_count"] == truth["total_errors"]
    assert summary["warning_count"] == truth["total_warnings"]
    assert summary["by_service"] == truth["lines_by_service"]
    firsts = {a["service"]: a["first_error"] for a in summary["affected_services"]}
    assert firsts == truth["first_error"]
    assert body["insights"][0]["kind"] == "root_cause"
    assert body["insights"][0]["service"] == truth["root_service"]


def test_query_says_its_lines_are_a_sample_of_the_matching_ones(app: Flask, volume: Window) -> None:
    body = app.test_client().get(f"{API}/query?{window_query(volume)}&limit=100").get_json()
    meta = body["metadata"]
    assert len(body["logs"]) == meta["returned_logs"] <= 100
    assert meta["matching_logs"] == volume.truth["total_errors"] + volume.truth["total_warnings"]
    assert meta["truncated"] is True
    assert meta["coverage"]["numbers"] == "exact"
    assert meta["coverage"]["lines_in_window"] == volume.truth["total_lines"]
    assert str(meta["matching_logs"]) in meta["coverage"]["logs"]


def test_errors_mode_counts_every_error_by_service(app: Flask, volume: Window) -> None:
    body = app.test_client().get(f"{API}/query?mode=errors&{window_query(volume)}").get_json()
    assert body["summary"]["errors_by_service"] == errors_by_service(volume.truth)
    assert sum(body["summary"]["errors_by_type"].values()) == volume.truth["total_errors"]


def test_patterns_count_every_line_they_name(app: Flask, volume: Window) -> None:
    refused = sum(
        line.count("Connection refused") for path in volume.path.glob("*.jsonl")
        for line in path.open()
    )
    body = app.test_client().get(f"{API}/query?{window_query(volume)}&verbosity=detailed").get_json()
    named = [i for i in body["insights"] if i.get("evidence", {}).get("pattern_type") == "connection_refused"]
    assert named and named[0]["evidence"]["count"] == refused


def test_the_error_rate_panel_counts_every_line(app: Flask, volume: Window) -> None:
    body = {
        "range": {"from": volume.start, "to": volume.end},
        "intervalMs": 300_000,
        "maxDataPoints": 100,
        "targets": [{"target": "error_rate", "refId": "A"}],
    }
    frames = app.test_client().post("/grafana/query", json=body).get_json()
    api = next(f for f in frames if f["fields"][1]["labels"]["service"] == "api")
    times, rates = api["fields"][0]["values"], api["fields"][1]["values"]
    step = 300 * 1_000_000_000
    buckets = count_lines(volume, instant_ns(volume.start), instant_ns(volume.end), step_ns=step)
    checked = 0
    for at_ms, rate in zip(times, rates, strict=True):
        bucket = at_ms * 1_000_000 // step
        lines = sum(n for (s, _, b), n in buckets.items() if s == "api" and b == bucket)
        if lines:
            assert rate == round(buckets[("api", "error", bucket)] / lines, 4)
            checked += 1
    assert checked >= 11


def test_an_alert_analysis_reports_the_windows_totals(volume: Window, tmp_path: Path) -> None:
    from tests.alerting.alert_helpers import AlertApp, load_payload, retarget

    settings = Settings(source_path=str(volume.path), data_dir=str(tmp_path), embedded_worker=False)
    services = build_services(settings)
    alert_app = AlertApp(create_app(settings, services=services), services)
    incident = volume.truth["incidents"][0]
    starts_at = incident["start"]
    payload = retarget(load_payload("alerting_single_firing.json"), starts_at=starts_at,
                       labels={"service": "api"})  # fmt: skip
    accepted = alert_app.post_alerts(payload).get_json()
    assert alert_app.drain() == ["done"]
    record = alert_app.client.get(f"{API}/analyses/{accepted['analysis_id']}").get_json()
    window = record["window"]
    counts = count_lines(volume, instant_ns(window["start"]), instant_ns(window["end"]))
    summary = record["result"]["summary"]
    assert summary["total_records"] == sum(n for (s, _), n in counts.items() if s == "api")
    assert summary["error_count"] == counts[("api", "error")]
    timeline = record["report"]["timeline"]
    every_error = sum(n for (_, level), n in counts.items() if level == "error")
    assert timeline["total_errors"] == every_error  # every service's errors, not a sample


def test_the_cli_header_counts_the_window(volume: Window) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ai-logs")), "query", "--source", str(volume.path),
         "--from", volume.start, "--to", volume.end],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    truth = volume.truth
    header = done.stdout.splitlines()
    line = next(x for x in header if " lines from " in x)
    assert line.startswith(f"{truth['total_lines']:,} lines")
    assert f"{truth['total_errors']:,} errors" in line
    assert f"{truth['total_warnings']:,} warnings" in line


def test_counts_of_a_span_agree_with_the_truth(volume: Window) -> None:
    counts = count_lines(volume, instant_ns(volume.start), instant_ns(volume.end))
    by_key = Counter({f"{s}/{level}": n for (s, level), n in counts.items()})
    assert by_key == Counter(volume.truth["count_by_service_level"])
