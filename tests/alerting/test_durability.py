"""No alert is lost: a worker killed mid-job, and Redis down when Grafana calls.

Payloads: tests/fixtures/grafana_webhook/ (see its README; Grafana's documented webhook example
and grafana/alerting's notifier test message), aimed at the demo incident by changing only
startsAt and a `service` label.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alert_helpers import load_payload, numbered, retarget

WORKER = Path(__file__).resolve().parent / "worker_process.py"
REPO = Path(__file__).resolve().parents[2]


def firing() -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})


def _worker(tmp_path: Path, redis_url: str, grafana_url: str, name: str, *pause: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(tmp_path / "data"), redis_url, grafana_url, name, *pause],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the worker never started the job")
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["spool", "redis"])
def test_a_job_of_a_killed_worker_is_completed_once_by_another(
    make_app, grafana, tmp_path: Path, request, backend: str
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else "-"
    app = make_app(grafana_url=grafana.url, **({"redis_url": redis_url} if backend == "redis" else {}))
    accepted = app.post_alerts(firing()).get_json()
    analysis = f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}"

    marker = tmp_path / "mid-job"
    doomed = _worker(tmp_path, redis_url, grafana.url, "doomed", str(marker), "120")
    _wait_for(marker, doomed)
    assert app.client.get(analysis).get_json()["status"] == "running"
    doomed.kill()  # SIGKILL: no cleanup, no ack, the lease simply stops being renewed
    doomed.wait(timeout=10)

    rescuer = _worker(tmp_path, redis_url, grafana.url, "rescuer")
    assert rescuer.wait(timeout=120) == 0, rescuer.stderr.read().decode()[-2000:]

    record = app.client.get(analysis).get_json()
    assert record["status"] == "done"
    assert record["attempts"] == 2  # the killed delivery and the one that finished
    assert len(grafana.annotations("POST")) == 1  # completed exactly once
    counts = app.services.extras["jobs"].counts()[backend]
    if backend == "redis":
        assert counts["pending"] == 0 and counts["stream"] == 0
    else:
        assert counts == {"done": 1}


def test_with_redis_down_jobs_are_spooled_and_processed_after_recovery(
    make_app, grafana, redis_server, redis_url: str
) -> None:
    app = make_app(grafana_url=grafana.url, redis_url=redis_url)
    redis_server.stop()
    try:
        single = app.post_alerts(firing())
        grouped = app.post_alerts(retarget(load_payload("docs_grouped_firing.json")))
        assert single.status_code == 202 and grouped.status_code == 202
        answers = single.get_json()["alerts"] + grouped.get_json()["alerts"]
        assert [a["queue"] for a in answers] == ["spool", "spool", "spool"]
        assert app.services.extras["jobs"].counts()["spool"] == {"ready": 3}
    finally:
        redis_server.start()

    assert app.drain() == ["done", "done", "done"]
    for answer in answers:
        record = app.client.get(f"/api/v1/ai_logs/analyses/{answer['analysis_id']}").get_json()
        assert record["status"] == "done"
        assert record["job_id"] == answer["job_id"]
    assert len(grafana.annotations("POST")) == 3
    # the records written locally during the outage move to Redis now that it is back (once the
    # second during which Redis is not asked after a failure has passed)
    results = app.services.extras["results"]
    deadline = time.monotonic() + 10
    while results.local.ids(10) and time.monotonic() < deadline:
        results.reconcile()
        time.sleep(0.2)
    import redis

    assert redis.Redis.from_url(redis_url).zcard("ai-logs:analyses") == 3
    assert results.local.ids(10) == []


def test_a_repeat_during_the_outage_is_still_one_job(make_app, redis_server, redis_url: str) -> None:
    app = make_app(redis_url=redis_url)
    redis_server.stop()
    try:
        first = app.post_alerts(firing()).get_json()
        again = app.post_alerts(firing()).get_json()
    finally:
        redis_server.start()
    assert again["duplicate"] is True
    assert again["job_id"] == first["job_id"]
    assert app.services.extras["jobs"].counts()["spool"] == {"ready": 1}


def test_with_redis_away_the_list_is_served_from_the_local_store_and_says_so(
    make_app, redis_server, redis_url: str
) -> None:
    app = make_app(redis_url=redis_url)
    before = app.post_alerts(firing()).get_json()["analysis_id"]  # kept in Redis
    redis_server.stop()
    try:
        during = app.post_alerts(numbered(firing(), 2)).get_json()["analysis_id"]
        listed = app.client.get("/api/v1/ai_logs/analyses")
        assert listed.status_code == 200
        body = listed.get_json()
        assert [a["id"] for a in body["analyses"]] == [during]
        assert body["complete"] is False and body["notice"]["code"] == "RESULTS_PARTIAL"
        unreachable = app.client.get(f"/api/v1/ai_logs/analyses/{before}")
        assert unreachable.status_code == 503
        assert unreachable.get_json()["error"]["code"] == "RESULTS_UNAVAILABLE"
        assert app.client.get(f"/api/v1/ai_logs/analyses/{during}").status_code == 200
    finally:
        redis_server.start()


def test_a_redis_outage_in_the_middle_of_a_job_burns_none_of_its_attempts(
    make_app, grafana, durable_redis
) -> None:
    app = make_app(redis_url=durable_redis.url, grafana_url=grafana.url, job_max_attempts=1)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    worker = app.worker()
    job = worker.queue.take(worker.consumer)
    assert job is not None and job.backend == "redis"

    durable_redis.kill()
    assert worker.handle(job) == "deferred"
    durable_redis.start()

    outcomes = []
    deadline = time.monotonic() + 30
    while "done" not in outcomes and time.monotonic() < deadline:
        again = worker.queue.take(worker.consumer, wait_seconds=1.0)  # after the claim timeout
        if again is not None:
            outcomes.append(worker.handle(again))
    assert outcomes == ["done"]
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["status"] == "done" and record["attempts"] == 2
    assert len(grafana.annotations("POST")) == 1


def test_a_failure_while_redis_is_away_is_recorded_and_listed(make_app, redis_server, redis_url: str) -> None:
    app = make_app(redis_url=redis_url, loki_url="http://127.0.0.1:1", source_path=None,
                   loki_retries=0, job_max_attempts=1)
    redis_server.stop()
    try:
        analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
        assert app.drain() == ["dead"]
        failed = app.client.get("/api/v1/ai_logs/analyses?status=failed").get_json()
        assert [a["id"] for a in failed["analyses"]] == [analysis_id]
        assert failed["analyses"][0]["error"].startswith("SourceUnavailable")
    finally:
        redis_server.start()
    time.sleep(1.1)  # Redis is asked again a second after it last failed
    assert app.services.extras["results"].reconcile() == 1
    failed = app.client.get("/api/v1/ai_logs/analyses?status=failed").get_json()
    assert failed["complete"] is True and [a["id"] for a in failed["analyses"]] == [analysis_id]
