"""The pattern registry behaves the same on Redis and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.infra.registry import (
    Detection,
    PatternFilter,
    RedisPatternRegistry,
    SqlitePatternRegistry,
)

MIN = 60 * 1_000_000_000
T0 = 1_790_000_000 * 1_000_000_000


@pytest.fixture(params=["sqlite", "redis"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "sqlite":
        yield SqlitePatternRegistry(tmp_path / "patterns.sqlite3")
        return
    import redis

    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisPatternRegistry(client)
    client.close()


def detection(name: str = "connection_refused", *, start: int = 0, count: int = 4, services=("api",),
              severity: str = "error", sample: str = "connection refused redis:6379") -> Detection:
    return Detection(
        pattern_type=name, severity=severity, count=count, first_seen_ns=T0 + start * MIN,
        last_seen_ns=T0 + (start + 5) * MIN, services=list(services), samples=[sample],
        regex=f"{name} regex", suggestion="fix it",
    )


def test_detecting_the_same_window_twice_does_not_double_the_count(registry) -> None:
    registry.record("t1", detection(count=4))
    entry = registry.record("t1", detection(count=4))
    assert entry.occurrence_count == 4


def test_a_later_detection_adds_its_lines_and_moves_last_seen(registry) -> None:
    registry.record("t1", detection(count=4))
    entry = registry.record("t1", detection(start=30, count=3, services=("worker",)))
    assert entry.occurrence_count == 7
    assert entry.first_seen_ns == T0 and entry.last_seen_ns == T0 + 35 * MIN
    assert entry.affected_services == ["api", "worker"]


def test_list_filters_pages_and_orders_by_last_seen(registry) -> None:
    for i, name in enumerate(["a_one", "b_two", "c_three", "d_four"]):
        registry.record("t1", detection(name, start=i * 10, severity="warn" if i % 2 else "error"))
    first, total = registry.list("t1", PatternFilter(), offset=0, limit=3)
    assert total == 4 and [e.pattern_type for e in first] == ["d_four", "c_three", "b_two"]
    rest, _ = registry.list("t1", PatternFilter(), offset=3, limit=3)
    assert [e.pattern_type for e in rest] == ["a_one"]
    warns, total = registry.list("t1", PatternFilter(severity="warn"))
    assert total == 2 and {e.pattern_type for e in warns} == {"b_two", "d_four"}


def test_resolving_keeps_notes_and_a_recurrence_reopens(registry) -> None:
    entry = registry.record("t1", detection())
    resolved = registry.resolve("t1", entry.id, resolved=True, notes="raised maxmemory to 2gb")
    assert resolved.resolved and resolved.resolution_notes == "raised maxmemory to 2gb"
    assert registry.list("t1", PatternFilter(resolved=True))[1] == 1
    later = detection(start=10**6)  # far after the resolution time
    reopened = registry.record("t1", later)
    assert not reopened.resolved and reopened.resolution_notes == "raised maxmemory to 2gb"


def test_tenants_do_not_see_each_others_patterns(registry) -> None:
    entry = registry.record("t1", detection())
    assert registry.get("t2", entry.id) is None
    assert registry.list("t2", PatternFilter())[1] == 0
    assert registry.resolve("t2", entry.id, resolved=True, notes="x") is None


def test_sample_lines_are_stored_with_pii_masked(registry) -> None:
    entry = registry.record("t1", detection(sample="login failed for alice@example.com from 203.0.113.9"))
    stored = registry.get("t1", entry.id)
    assert "alice@example.com" not in stored.sample_logs[0]
    assert "203.0.113.9" not in stored.sample_logs[0]
