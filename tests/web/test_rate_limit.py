"""Sliding-window rate limits: the 101st query in the hour is a 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from analyzer.infra.ratelimit import MemoryRateLimiter, RedisRateLimiter
from analyzer.infra.redis_client import open_redis

URL = "/api/v1/ai_logs/query"


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_the_101st_request_in_the_window_is_a_429(
    make_app: Callable[..., Flask], keys: dict[str, str], redis_url: str, backend: str
) -> None:
    app = make_app(api_keys_file=keys["file"], redis_url=redis_url if backend == "redis" else None)
    client = app.test_client()
    headers = {"X-API-Key": keys["a"]}
    statuses = [client.get(URL, headers=headers).status_code for _ in range(100)]
    assert statuses == [200] * 100
    response = client.get(URL, headers=headers)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_every_response_carries_the_rate_limit_headers(
    make_app: Callable[..., Flask], keys: dict[str, str]
) -> None:
    client = make_app(api_keys_file=keys["file"]).test_client()
    response = client.get(URL, headers={"X-API-Key": keys["a"]})
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "99"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_limits_are_per_key(make_app: Callable[..., Flask], keys: dict[str, str]) -> None:
    client = make_app(api_keys_file=keys["file"], rate_limit_per_hour=2).test_client()
    for _ in range(2):
        client.get(URL, headers={"X-API-Key": keys["a"]})
    assert client.get(URL, headers={"X-API-Key": keys["a"]}).status_code == 429
    assert client.get(URL, headers={"X-API-Key": keys["b"]}).status_code == 200


def test_limit_is_configurable(make_app: Callable[..., Flask], keys: dict[str, str]) -> None:
    client = make_app(api_keys_file=keys["file"], rate_limit_per_hour=3).test_client()
    codes = [client.get(URL, headers={"X-API-Key": keys["a"]}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_redis_limiter_is_atomic_under_concurrency(redis_url: str) -> None:
    limiter = RedisRateLimiter(open_redis(redis_url))
    with ThreadPoolExecutor(max_workers=16) as pool:
        decisions = list(pool.map(lambda _: limiter.hit("key:x", "query", 100), range(160)))
    assert sum(d.allowed for d in decisions) == 100


def test_window_slides_as_old_requests_age_out() -> None:
    limiter = MemoryRateLimiter()
    assert limiter.hit("k", "e", 1, window=1).allowed
    refused = limiter.hit("k", "e", 1, window=1)
    assert not refused.allowed
    assert refused.retry_after >= 1
    import time

    time.sleep(1.05)
    assert limiter.hit("k", "e", 1, window=1).allowed
