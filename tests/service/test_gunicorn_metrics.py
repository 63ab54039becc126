"""Under gunicorn with several workers, /metrics counts every worker's requests (multiprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, free_port

REQUESTS = 24


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "AI_LOGS_BIND": f"127.0.0.1:{port}",
        "AI_LOGS_WORKERS": "3",
        "AI_LOGS_THREADS": "2",
        "AI_LOGS_SOURCE": str(ROOT / "tests" / "fixtures" / "web_logs"),
        "AI_LOGS_DATA_DIR": str(tmp_path / "var"),
        "AI_LOGS_RATE_LIMIT": "1000",
    }
    env.pop("LOKI_URL", None)
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:analyzer.gunicorn_conf",
            "analyzer.app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    yield url, metrics_dir
    proc.terminate()
    proc.wait(timeout=20)


def test_metrics_add_up_the_requests_of_every_worker(gunicorn: tuple[str, Path]) -> None:
    url, metrics_dir = gunicorn
    for _ in range(REQUESTS):
        # a new connection each time, so the kernel spreads them over the workers
        with httpx.Client(timeout=30) as client:
            assert (
                client.get(url + "/api/v1/ai_logs/query", params={"mode": "audit"}).status_code
                == 200
            )
    text = httpx.get(url + "/metrics", timeout=10).text
    total = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ai_logs_queries_total" and sample.labels.get("mode") == "audit"
    )
    writers = {p.stem.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
    assert total == REQUESTS
    assert len(writers) >= 2, "the requests should have reached more than one worker"
