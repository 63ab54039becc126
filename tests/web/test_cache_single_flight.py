"""An expired cache entry is recomputed once, however many requests miss it at the same time."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask

from analyzer.infra.cache import MemoryCache, RedisCache, get_or_compute

CALLERS = 8


def race(cache: Any, key: str, compute: Callable[[], str]) -> list[tuple[str, bool]]:
    """CALLERS threads asking for `key` at the same moment."""
    start = threading.Barrier(CALLERS)
    answers: list[tuple[str, bool]] = []

    def ask() -> None:
        start.wait()
        with contextlib.suppress(RuntimeError):  # a failed computation fails its own caller
            answers.append(get_or_compute(cache, key, 30, compute, wait=10))

    threads = [threading.Thread(target=ask) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return answers


def slow_counter() -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        time.sleep(0.3)
        return "answer"

    return compute, calls


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryCache()
    url = request.getfixturevalue("redis_url")
    return RedisCache(redis.Redis.from_url(url))


def test_concurrent_misses_compute_once(cache: Any) -> None:
    compute, calls = slow_counter()
    answers = race(cache, "ai-logs:query:t:k1", compute)
    assert len(calls) == 1
    assert [value for value, _ in answers] == ["answer"] * CALLERS
    assert sum(not hit for _, hit in answers) == 1


def test_a_failed_computation_lets_a_waiter_compute(cache: Any) -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        time.sleep(0.1)
        if len(calls) == 1:
            raise RuntimeError("Loki went away")
        return "answer"

    answers = race(cache, "ai-logs:query:t:k2", flaky)
    assert len(answers) == CALLERS - 1  # the first caller saw the failure
    assert all(value == "answer" for value, _ in answers)
    assert len(calls) == 2


def test_different_keys_do_not_wait_for_each_other(cache: Any) -> None:
    compute, calls = slow_counter()
    started = time.monotonic()
    threads = [
        threading.Thread(target=get_or_compute, args=(cache, f"ai-logs:query:t:k{n}", 30, compute))
        for n in range(3, 7)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 4
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_concurrent_queries_read_the_logs_once(
    make_app: Callable[..., Flask], request: pytest.FixtureRequest, backend: str
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    app = make_app(redis_url=redis_url, rate_limit_per_hour=1000)
    source = app.extensions["ai_logs"].source
    fetches: list[int] = []
    read_window = source.read_window

    def counted(*args: Any, **kwargs: Any) -> Any:
        fetches.append(1)
        time.sleep(0.2)  # a slower source widens the race
        return read_window(*args, **kwargs)

    source.read_window = counted
    start = threading.Barrier(CALLERS)
    statuses: list[int] = []

    def ask() -> None:
        start.wait()
        statuses.append(app.test_client().get("/api/v1/ai_logs/query?time_range=2h").status_code)

    threads = [threading.Thread(target=ask) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * CALLERS
    assert len(fetches) == 1
