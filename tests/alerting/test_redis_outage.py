"""Every accepted alert is analysed once, however long Redis is away.

A real redis-server with the compose stack's persistence (append-only file) is killed with SIGKILL
while 200 alerts arrive over HTTP at the served analyzer, with two `ai-logs worker` processes
running throughout and a stand-in Grafana taking the annotations. Then Redis either comes back
after the outage or never does. Either way all 200 analyses end `done`, each listed once and
annotated once.

The outage lasts `AI_LOGS_OUTAGE_SECONDS` (60 by default, what CI runs). The logs are a generated
20-minute cache outage (analyzer.demo), small so the run measures the queue, not the analysis.
Alerts: tests/fixtures/grafana_webhook/alerting_single_firing.json, a fingerprint of their own each.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alert_helpers import (
    GrafanaStub,
    PersistentRedis,
    load_payload,
    make_settings,
    numbered,
    retarget,
)

from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns

pytestmark = pytest.mark.fault

ALERTS = 200
BEFORE_OUTAGE = 20  # alerts that reach Redis before it is killed (some are mid-analysis then)
OUTAGE_SECONDS = float(os.environ.get("AI_LOGS_OUTAGE_SECONDS", "60"))
WORKERS = 2
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    url: str
    settings: Any
    services: Any
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def post(self, client: httpx.Client, number: int, starts_at: str) -> dict[str, Any]:
        payload = numbered(retarget(load_payload("alerting_single_firing.json"), starts_at=starts_at,
                                    labels={"service": "api"}), number)
        answer = client.post("/webhooks/grafana", json=payload)
        assert answer.status_code == 202, answer.text
        return answer.json()

    def listed(self, client: httpx.Client, status: str | None = None) -> dict[str, Any]:
        query = f"?limit=500&status={status}" if status else "?limit=500"
        return client.get(f"/api/v1/ai_logs/analyses{query}").json()


@pytest.fixture(scope="module")
def incident_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from analyzer.demo import generate

    logs = tmp_path_factory.mktemp("outage-logs")
    truth = generate(logs, seed=3, incidents=["cache_outage"], duration="20m", start="2026-11-24T08:00:00Z")
    starts = format_timestamp(instant_ns(truth["incidents"][0]["start"]) + 45 * NS_PER_SECOND)
    return logs, starts


@pytest.fixture
def stack(tmp_path: Path, incident_logs: tuple[Path, str], durable_redis: PersistentRedis,
          grafana: GrafanaStub) -> Iterator[Stack]:
    """The served analyzer and two worker processes sharing its data directory and Redis."""
    from werkzeug.serving import make_server

    from analyzer.app import create_app
    from analyzer.services import build_services

    logs, _ = incident_logs
    settings = make_settings(tmp_path, source_path=str(logs), redis_url=durable_redis.url,
                             grafana_url=grafana.url, job_claim_idle_seconds=2)
    config = tmp_path / "worker.yaml"
    config.write_text("job_claim_idle_seconds: 2\n")
    services = build_services(settings)
    server = make_server("127.0.0.1", 0, create_app(settings, services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if k not in ("LOKI_URL", "LOKI_ADDR", "AI_LOGS_SOURCE")}
    env.update({"REDIS_URL": durable_redis.url, "AI_LOGS_DATA_DIR": settings.data_dir,
                "GRAFANA_URL": grafana.url, "AI_LOGS_CONFIG": str(config)})
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())",
             "worker", "--source", str(logs), "--name", f"worker-{i}"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker-{i}.log").open("wb"),
        )
        for i in range(WORKERS)
    ]
    yield Stack(f"http://127.0.0.1:{server.server_port}", settings, services, workers, tmp_path)
    for worker in workers:
        worker.terminate()
        worker.wait(timeout=10)
    server.shutdown()


def _wait_for(condition: Any, stack: Stack, seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        for i, worker in enumerate(stack.workers):
            log = (stack.logs / f"worker-{i}.log").read_text()[-2000:]
            assert worker.poll() is None, f"worker {i} exited: {log}"
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s; worker log: {log}")
        time.sleep(0.25)
    return time.monotonic() - started


def _once_each(grafana: GrafanaStub, accepted: list[dict[str, Any]]) -> None:
    """One annotation per accepted alert, linking its own report: 0 lost, 0 duplicated."""
    links = Counter(
        text.split('href="')[1].split('"')[0].rsplit("/", 1)[1]
        for text in (r["json"]["text"] for r in grafana.annotations("POST"))
    )
    assert sorted(links) == sorted(a["analysis_id"] for a in accepted)
    assert set(links.values()) == {1}


def test_alerts_accepted_while_redis_is_killed_are_all_analysed_once_it_is_back(
    stack: Stack, durable_redis: PersistentRedis, grafana: GrafanaStub, incident_logs: tuple[Path, str]
) -> None:
    _, starts = incident_logs
    started = time.monotonic()
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        accepted = [stack.post(client, i, starts) for i in range(BEFORE_OUTAGE)]
        done_before = stack.listed(client, "done")["count"]
        durable_redis.kill()
        killed = time.monotonic()
        during = ALERTS - BEFORE_OUTAGE
        for i in range(during):  # spread over the outage, as Grafana would send them
            time.sleep(max(0.0, killed + OUTAGE_SECONDS * 0.9 * i / during - time.monotonic()))
            accepted.append(stack.post(client, BEFORE_OUTAGE + i, starts))
        assert len({a["analysis_id"] for a in accepted}) == ALERTS
        spooled = sum(a["alerts"][0]["queue"] == "spool" for a in accepted)
        partial = stack.listed(client, "done")
        time.sleep(max(0.0, killed + OUTAGE_SECONDS - time.monotonic()))
        durable_redis.start()
        restarted = time.monotonic()

        def all_done() -> bool:
            listed = stack.listed(client, "done")
            return listed["complete"] and listed["count"] == ALERTS and len(grafana.annotations("POST")) == ALERTS

        _wait_for(all_done, stack, 180)
        after = time.monotonic() - restarted
        assert stack.listed(client)["count"] == ALERTS
        assert stack.listed(client, "failed")["count"] == 0

    _once_each(grafana, accepted)
    import redis

    client_ = redis.Redis.from_url(durable_redis.url)
    _wait_for(lambda: client_.zcard("ai-logs:analyses") == ALERTS, stack, 30)  # moved out of the local store
    assert stack.services.extras["results"].local.ids(10) == []
    print(f"\nredis killed {OUTAGE_SECONDS:.0f} s while {ALERTS} alerts arrived ({done_before} of "
          f"{BEFORE_OUTAGE} done before the kill, {spooled} spooled, {partial['count']} done during it): {ALERTS} done {after:.1f} s after the restart, "
          f"{time.monotonic() - started:.1f} s in all; 0 lost, 0 duplicated")


def test_alerts_accepted_while_redis_never_comes_back_are_all_analysed_from_the_spool(
    stack: Stack, durable_redis: PersistentRedis, grafana: GrafanaStub, incident_logs: tuple[Path, str]
) -> None:
    _, starts = incident_logs
    durable_redis.kill()
    started = time.monotonic()
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        accepted = [stack.post(client, i, starts) for i in range(ALERTS)]
        assert {a["alerts"][0]["queue"] for a in accepted} == {"spool"}

        def all_done() -> bool:
            return stack.listed(client, "done")["count"] == ALERTS and len(grafana.annotations("POST")) == ALERTS

        elapsed = _wait_for(all_done, stack, 180)
        listed = stack.listed(client)
        assert listed["count"] == ALERTS and listed["complete"] is False
        assert stack.listed(client, "failed")["count"] == 0

    _once_each(grafana, accepted)
    print(f"\nredis gone for good, {ALERTS} alerts: {ALERTS} done from the spool in "
          f"{time.monotonic() - started:.1f} s ({elapsed:.1f} s after the last was accepted); "
          "0 lost, 0 duplicated")
