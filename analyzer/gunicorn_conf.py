"""gunicorn settings for the analyzer: gthread workers and Prometheus multiprocess metrics.

Used as `gunicorn -c python:analyzer.gunicorn_conf 'analyzer.app:create_app()'`. Each worker
writes its samples under PROMETHEUS_MULTIPROC_DIR and `/metrics` adds them up; a worker that
exits is marked dead so its live gauges stop counting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

bind = os.environ.get("AI_LOGS_BIND", "0.0.0.0:8080")
worker_class = "gthread"
workers = int(os.environ.get("AI_LOGS_WORKERS", "2"))
threads = int(os.environ.get("AI_LOGS_THREADS", "8"))
timeout = 120  # an uncached analysis of a wide window can take a while
accesslog = None  # the app logs each request as JSON with its correlation id


def on_starting(server: Any) -> None:
    """Samples of a previous run would be added to this one's: start from an empty directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
