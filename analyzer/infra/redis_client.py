"""One Redis connection pool per process, or None when REDIS_URL is not set."""

from __future__ import annotations

from typing import Any


def open_redis(url: str | None) -> Any | None:
    if not url:
        return None
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
    )


def redis_ok(client: Any | None) -> tuple[bool, str]:
    if client is None:
        return True, "not configured (in-process fallbacks)"
    try:
        client.ping()
    except Exception as exc:
        return False, f"unreachable: {type(exc).__name__}"
    return True, "ok"
