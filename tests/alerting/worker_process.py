"""A worker in its own process, for the durability tests.

    python worker_process.py DATA_DIR REDIS_URL|- GRAFANA_URL NAME [PAUSE_FILE PAUSE_SECONDS]

With PAUSE_FILE the log source writes that file when the analysis starts reading its window and
sleeps PAUSE_SECONDS: the moment the test kills the process, mid-job.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.services import build_services
from analyzer.worker import Worker


class PausingSource:
    """The real file source, holding its first read long enough to be killed during it."""

    def __init__(self, inner: Any, marker: Path, seconds: float) -> None:
        self.inner, self.marker, self.seconds = inner, marker, seconds
        self.name = inner.name

    def read_window(self, query: Any, **kwargs: Any) -> Any:
        self.marker.write_text("reading\n")
        time.sleep(self.seconds)
        return self.inner.read_window(query, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main(argv: list[str]) -> int:
    data_dir, redis_url, grafana_url, name = argv[:4]
    settings = Settings(
        source_path=str(SAMPLE_LOGS_DIR),
        data_dir=data_dir,
        redis_url=None if redis_url == "-" else redis_url,
        grafana_url=grafana_url,
        job_claim_idle_seconds=2,
        embedded_worker=False,
    )
    services = build_services(settings)
    if len(argv) > 4:
        services.source = PausingSource(services.source, Path(argv[4]), float(argv[5]))
    Worker(services, consumer=name).run(threading.Event(), max_jobs=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
