"""The result cache: tenant + normalised query + time bucket."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from analyzer.infra.cache import MemoryCache
from analyzer.model import Query, TimeRange
from analyzer.querying import cache_key

URL = "/api/v1/ai_logs/query"


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_repeated_query_is_served_from_cache(
    make_app: Callable[..., Flask], redis_url: str, backend: str
) -> None:
    client = make_app(redis_url=redis_url if backend == "redis" else None).test_client()
    first = client.get(URL, query_string={"time_range": "2h"}).get_json()
    second = client.get(URL, query_string={"time_range": "2h"}).get_json()
    assert first["metadata"]["from_cache"] is False
    assert second["metadata"]["from_cache"] is True
    assert second["summary"] == first["summary"]


def test_cache_false_bypasses_the_cache(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.get(URL)
    again = client.get(URL, query_string={"cache": "false"}).get_json()
    assert again["metadata"]["from_cache"] is False


def test_parameter_order_does_not_change_the_key() -> None:
    window = TimeRange(10**18, 10**18 + 3600 * 10**9)
    a = cache_key(Query(services=["api", "worker"]), "t", window, 10)
    b = cache_key(Query(services=["worker", "api"]), "t", window, 10)
    assert a == b


def test_relative_windows_in_the_same_bucket_share_a_key() -> None:
    base = 1_795_500_000 * 10**9
    a = cache_key(Query(time_range="1h"), "t", TimeRange(base - 3600 * 10**9, base), 10)
    later = base + 3 * 10**9
    b = cache_key(Query(time_range="1h"), "t", TimeRange(later - 3600 * 10**9, later), 10)
    assert a == b


def test_different_tenants_get_different_keys() -> None:
    window = TimeRange(10**18, 10**18 + 10**9)
    assert cache_key(Query(), "a", window, 10) != cache_key(Query(), "b", window, 10)


def test_memory_cache_expires_entries() -> None:
    cache = MemoryCache()
    cache.set("k", "v", ttl=0)
    assert cache.get("k") is None


def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", "1", 60)
    cache.set("b", "2", 60)
    cache.get("a")
    cache.set("c", "3", 60)
    assert cache.get("b") is None
    assert cache.get("a") == "1"
