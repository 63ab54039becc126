"""Result cache: Redis when configured, an in-process LRU with TTL otherwise. One interface.

A Redis failure never fails a query: the cache degrades to a miss and the error is counted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from analyzer.config import Settings


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl: int) -> None: ...


class MemoryCache:
    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)


class RedisCache:
    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(key)
        except Exception:
            _count_failure()
            return None
        return value.decode() if isinstance(value, bytes) else value

    def set(self, key: str, value: str, ttl: int) -> None:
        try:
            self.client.set(key, value, ex=max(1, int(ttl)))
        except Exception:
            _count_failure()


def _count_failure() -> None:
    from analyzer.infra import metrics

    metrics.ERRORS.labels(error_type="CACHE_UNAVAILABLE", endpoint="cache").inc()


def open_cache(settings: Settings, redis: Any | None) -> Cache:
    if redis is not None:
        return RedisCache(redis)
    return MemoryCache(settings.cache_max_entries)
