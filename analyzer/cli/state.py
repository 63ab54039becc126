"""Where a `serve` or `worker` keeps its state and reads its jobs, said at start-up.

Both default to one per-user state directory, so processes started in different directories
share the spool, results and registry; saying where at start makes a mismatch visible.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from analyzer.config import Settings
from analyzer.infra.jobs import RedisStreamQueue

SPOOL_FILE = "jobs.sqlite3"  # what infra.jobs.open_job_queue opens under data_dir


def redacted_url(url: str) -> str:
    """`url` without user and password (a Redis URL may carry them)."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def queue_description(settings: Settings) -> str:
    """The queue a worker reads: the Redis stream when REDIS_URL is set, and always the spool
    (a webhook that could not reach Redis spools its job there)."""
    spool = Path(settings.data_dir) / SPOOL_FILE
    if settings.redis_url:
        return (f"Redis stream {RedisStreamQueue.STREAM} at {redacted_url(settings.redis_url)}, "
                f"then the SQLite spool {spool}")  # fmt: skip
    return f"the SQLite spool {spool} (no REDIS_URL)"
