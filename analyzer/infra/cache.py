"""Result cache: Redis when configured, an in-process LRU with TTL otherwise. One interface.

A Redis failure never fails a query: the cache degrades to a miss and the error is counted.
`get_or_compute` makes an expired entry a single flight: the first request that misses
recomputes it while the others with the same key wait for its answer, so a popular dashboard
costs one computation per expiry, not one per request (threads in one process wait on a lock;
processes sharing Redis on a short-lived lock key there).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from analyzer.config import Settings


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl: int) -> None: ...

    def flight(self, key: str, wait: float) -> Any:
        """Context manager: True inside when this caller computes `key`; False when another
        caller computed it meanwhile (or `wait` ran out: then compute anyway)."""
        ...


LOCK_SECONDS = 60.0  # a computation that holds a flight longer is taken for dead
POLL_SECONDS = 0.025


def get_or_compute(
    cache: Cache, key: str, ttl: int, compute: Callable[[], str], *, wait: float = 30.0
) -> tuple[str, bool]:
    """The cached value (and True), or the one `compute` made (and False), computed once for
    concurrent callers of the same key."""
    value = cache.get(key)
    if value is not None:
        return value, True
    with cache.flight(key, wait):
        value = cache.get(key)  # filled by the caller this one waited for
        if value is not None:
            return value, True
        value = compute()
        cache.set(key, value, ttl)
        return value, False


class MemoryCache:
    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[str, tuple[threading.Lock, int]] = {}

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

    @contextmanager
    def flight(self, key: str, wait: float) -> Iterator[bool]:
        with self._lock:
            lock, users = self._flights.get(key, (threading.Lock(), 0))
            self._flights[key] = (lock, users + 1)
        first = lock.acquire(blocking=False)
        got = first or lock.acquire(timeout=max(0.0, wait))
        try:
            # a waiter that got the lock finds the leader's value in the cache
            yield first or not got
        finally:
            if got:
                lock.release()
            with self._lock:
                lock, users = self._flights[key]
                if users <= 1:
                    del self._flights[key]
                else:
                    self._flights[key] = (lock, users - 1)


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

    @contextmanager
    def flight(self, key: str, wait: float) -> Iterator[bool]:
        lock_key, token = f"{key}:flight", uuid.uuid4().hex
        deadline = time.monotonic() + max(0.0, wait)
        leader = False
        try:
            while True:
                if self.client.set(lock_key, token, nx=True, px=int(LOCK_SECONDS * 1000)):
                    leader = True
                    break
                if self.client.exists(key) or time.monotonic() >= deadline:
                    break  # the leader answered, or waiting ran out: read, or compute anyway
                time.sleep(POLL_SECONDS)  # a leader that fails frees the lock for the next
        except Exception:
            _count_failure()
            leader = True  # no Redis: no coordination, compute as before
        try:
            yield leader or time.monotonic() >= deadline
        finally:
            if leader:
                self._release(lock_key, token)

    def _release(self, lock_key: str, token: str) -> None:
        try:
            self.client.eval(_RELEASE_LUA, 1, lock_key, token)
        except Exception:
            _count_failure()


_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _count_failure() -> None:
    from analyzer.infra import metrics

    metrics.ERRORS.labels(error_type="CACHE_UNAVAILABLE", endpoint="cache").inc()


def open_cache(settings: Settings, redis: Any | None) -> Cache:
    if redis is not None:
        return RedisCache(redis)
    return MemoryCache(settings.cache_max_entries)
