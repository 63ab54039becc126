"""From a stored job to an analysis and a Grafana annotation (a local HTTP server plays Grafana).

Payloads: tests/fixtures/grafana_webhook/ (see its README; from Grafana's webhook notifier docs
and grafana/alerting's notifier test), aimed at the demo's cache outage (startsAt 08:12, service
api) by changing only times, status and labels.
"""

from __future__ import annotations

import json

import pytest
from alert_helpers import INCIDENT_END, INCIDENT_START, load_payload, retarget

from analyzer.model import instant_ns


def firing() -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"}, panel_id=2)


def resolved() -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"},
                    panel_id=2, status="resolved", ends_at=INCIDENT_END)


@pytest.fixture(params=["spool", "redis"])
def backend_settings(request) -> dict:
    if request.param == "redis":
        return {"redis_url": request.getfixturevalue("redis_url")}
    return {}


def test_worker_stores_the_analysis_and_annotates_grafana(make_app, grafana, backend_settings) -> None:
    app = make_app(grafana_url=grafana.url, grafana_token="glsa_test", **backend_settings)
    accepted = app.post_alerts(firing()).get_json()

    assert app.drain() == ["done"]

    record = app.client.get(f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}").get_json()
    assert record["status"] == "done"
    assert record["attempts"] == 1
    assert record["query"]["services"] == ["api"]
    assert record["window"]["start"].startswith("2026-11-24T07:42:00")  # startsAt - 30m
    assert record["result"]["summary"]["error_count"] > 0
    assert record["result"]["insights"], "the cache outage gives at least one insight"
    assert record["narrative"]

    [posted] = grafana.annotations("POST")
    assert posted["path"] == "/api/annotations"
    assert posted["headers"]["Authorization"] == "Bearer glsa_test"
    sent = posted["json"]
    assert sent["dashboardUID"] == "abcd"
    assert sent["panelId"] == 2
    assert sent["time"] == instant_ns(INCIDENT_START) // 1_000_000
    assert "timeEnd" not in sent  # still firing
    assert sent["tags"] == ["ai-analysis", "alert1"]
    assert f"/reports/{accepted['analysis_id']}" in sent["text"]
    assert record["annotation_id"] == 1


def test_resolution_ends_the_annotation(make_app, grafana, backend_settings) -> None:
    app = make_app(grafana_url=grafana.url, **backend_settings)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    app.drain()
    app.post_alerts(resolved())
    assert app.drain() == ["done"]
    [patched] = grafana.annotations("PATCH")
    assert patched["path"] == "/api/annotations/1"
    assert patched["json"] == {"timeEnd": instant_ns(INCIDENT_END) // 1_000_000}
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["resolved"] is True


def test_an_alert_resolved_before_analysis_is_analysed_up_to_its_end(make_app, grafana) -> None:
    app = make_app(grafana_url=grafana.url)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    app.post_alerts(resolved())
    app.drain()
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["window"]["end"].startswith("2026-11-24T08:19:30")
    [posted] = grafana.annotations("POST")
    assert posted["json"]["timeEnd"] == instant_ns(INCIDENT_END) // 1_000_000


def test_a_repeated_delivery_after_the_analysis_makes_no_second_one(make_app, grafana) -> None:
    app = make_app(grafana_url=grafana.url)
    app.post_alerts(firing())
    app.drain()
    again = app.post_alerts(firing()).get_json()
    assert again["duplicate"] is True
    assert app.drain() == []
    assert len(grafana.annotations("POST")) == 1


def test_grafana_failures_are_retried_and_leave_the_analysis_done(make_app, grafana, backend_settings) -> None:
    grafana.fail_with = 500
    app = make_app(grafana_url=grafana.url, job_max_attempts=2, job_claim_idle_seconds=1,
                   **backend_settings)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    worker = app.worker()
    outcomes = []
    for _ in range(10):
        job = worker.queue.take(worker.consumer, wait_seconds=2.5)  # waits out the backoff
        if job is None:
            break
        outcomes.append(worker.handle(job))
    assert outcomes == ["retry", "done"]
    assert len(grafana.annotations("POST")) == 2
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["status"] == "done" and record["result"]["insights"]
    assert record["annotation"]["status"] == "failed"
    assert record["annotation"]["attempts"] == 2
    assert "Grafana answered 500" in record["annotation"]["error"]
    assert app.client.get("/api/v1/ai_logs/analyses?status=failed").get_json()["count"] == 0


def test_a_refused_token_is_not_retried_and_the_analysis_is_done(make_app, grafana) -> None:
    grafana.fail_with = 401
    app = make_app(grafana_url=grafana.url)  # no GRAFANA_TOKEN
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    assert app.drain() == ["done"]
    assert len(grafana.annotations("POST")) == 1
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["status"] == "done"
    assert record["annotation"]["status"] == "failed"
    assert "GRAFANA_TOKEN is not set" in record["annotation"]["error"]
    page = app.client.get(f"/reports/{analysis_id}").get_data(as_text=True)
    assert "Grafana answered 401" in page


def test_without_grafana_the_annotation_is_disabled(make_app) -> None:
    app = make_app()
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    assert app.drain() == ["done"]
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["annotation"] == {"status": "disabled", "attempts": 0, "error": "GRAFANA_URL is not set",
                                    "id": None}


def test_the_retry_reuses_the_stored_analysis(make_app, grafana) -> None:
    grafana.fail_with = 502
    app = make_app(grafana_url=grafana.url, job_claim_idle_seconds=1)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    worker = app.worker()
    assert worker.handle(worker.queue.take(worker.consumer)) == "retry"
    first = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    grafana.fail_with = None
    assert worker.handle(worker.queue.take(worker.consumer, wait_seconds=2.5)) == "done"
    second = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert second["status"] == "done"
    assert second["result"] == first["result"]


def test_list_is_newest_first_with_each_status(make_app) -> None:
    app = make_app()
    older = app.post_alerts(firing()).get_json()["analysis_id"]
    newer = app.post_alerts(
        retarget(load_payload("alerting_single_firing.json"), starts_at="2026-11-24T08:27:00Z",
                 labels={"service": "anythingllm"})
    ).get_json()["analysis_id"]
    listed = app.client.get("/api/v1/ai_logs/analyses").get_json()["analyses"]
    assert [a["id"] for a in listed] == [newer, older]
    assert {a["status"] for a in listed} == {"queued"}
    app.drain()
    listed = app.client.get("/api/v1/ai_logs/analyses?status=done").get_json()["analyses"]
    assert [a["id"] for a in listed] == [newer, older]


def test_unknown_list_parameter_is_a_400(make_app) -> None:
    answer = make_app().client.get("/api/v1/ai_logs/analyses?state=failed")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "UNKNOWN_PARAMETER"


def test_unknown_analysis_is_a_404(make_app) -> None:
    answer = make_app().client.get("/api/v1/ai_logs/analyses/an_nothing")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "NOT_FOUND"


def test_stored_analysis_masks_personal_data(make_app) -> None:
    app = make_app()
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    app.drain()
    text = json.dumps(app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json())
    from analyzer.infra.privacy import contains_pii

    assert not contains_pii(text)


def test_embedded_worker_thread_processes_posted_alerts(make_app) -> None:
    import time

    from analyzer.worker import start_embedded_worker

    app = make_app()
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    thread = start_embedded_worker(app.services)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()["status"] == "done":
                break
            time.sleep(0.1)
        assert app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()["status"] == "done"
        assert thread.daemon and thread.is_alive()
    finally:
        thread.stop.set()
        thread.join(timeout=5)


def test_ai_logs_worker_command_runs_queued_jobs(make_app, tmp_path) -> None:
    import os
    import subprocess
    import sys

    from analyzer.config import SAMPLE_LOGS_DIR

    app = make_app()
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    env = {**os.environ, "AI_LOGS_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)
    env.pop("LOKI_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())",
         "worker", "--source", str(SAMPLE_LOGS_DIR), "--max-jobs", "1"],
        env=env, capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()["status"] == "done"
