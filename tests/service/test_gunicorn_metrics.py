"""Under gunicorn with several workers, /metrics counts every worker's requests (multiprocess)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from gunicorn_process import start_gunicorn

REQUESTS = 24


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    metrics_dir = tmp_path / "metrics"
    url, proc = start_gunicorn(
        {
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "AI_LOGS_SOURCE": str(ROOT / "tests" / "fixtures" / "web_logs"),
            "AI_LOGS_DATA_DIR": str(tmp_path / "var"),
            "AI_LOGS_RATE_LIMIT": "1000",
        },
        workers=3,
        threads=2,
    )
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
