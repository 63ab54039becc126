"""One deadline bounds a request however Loki misbehaves; a dead Loki opens the circuit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.errors import QueryTimeout, SourceUnavailable
from analyzer.infra import deadline
from analyzer.infra.breaker import CircuitBreaker
from analyzer.services import build_services
from analyzer.sources.loki import LokiSource
from tests.conftest import free_port

LABELS = "/loki/api/v1/labels"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def loki_app(url: str, tmp_path: Path, **overrides):
    settings = Settings(loki_url=url, data_dir=str(tmp_path / "var"), **overrides)
    return create_app(settings, services=build_services(settings))


def test_a_trickling_loki_is_cut_at_the_deadline(recorded_loki) -> None:
    recorded_loki.trickle = 2.0  # one byte every 2 s: no read ever waits past loki_timeout
    with LokiSource(recorded_loki.url, timeout=5.0, retries=3) as loki:
        started = time.monotonic()
        with deadline.bounded(3.0), pytest.raises(QueryTimeout) as caught:
            loki.labels()
        elapsed = time.monotonic() - started
    assert abs(elapsed - 3.0) <= 1.0
    assert caught.value.status == 504 and caught.value.code == "QUERY_TIMEOUT"
    assert "3s query time limit" in caught.value.message


def test_the_http_api_cuts_a_trickling_loki_at_max_query_time(recorded_loki, tmp_path) -> None:
    recorded_loki.trickle = 2.0
    app = loki_app(recorded_loki.url, tmp_path, max_query_time=3.0, loki_timeout=5.0)
    started = time.monotonic()
    response = app.test_client().get("/api/v1/ai_logs/query?time_range=1h&cache=false")
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.get_json()["error"]["code"] == "QUERY_TIMEOUT"
    assert abs(elapsed - 3.0) <= 1.0


def test_one_deadline_spans_every_page_of_a_read(recorded_loki) -> None:
    exchange = recorded_loki.exchange("query_range_streams_forward_paged")
    recorded_loki.pages_from = exchange
    params = exchange["request"]["params"]
    recorded_loki.delay = 0.4  # each page answers in time; together they do not
    with LokiSource(recorded_loki.url, page_size=1, timeout=5.0) as loki:
        started = time.monotonic()
        with deadline.bounded(1.5), pytest.raises(QueryTimeout):
            loki.read_logs('{service="worker"}', int(params["start"]), int(params["end"]),
                           limit=100)  # fmt: skip
        elapsed = time.monotonic() - started
    assert abs(elapsed - 1.5) <= 0.5
    assert 2 <= len(recorded_loki.requests_to("/loki/api/v1/query_range")) <= 4


def test_retries_stop_when_the_deadline_leaves_no_time_for_them(recorded_loki) -> None:
    recorded_loki.script(LABELS, (503, "Service Unavailable"))
    with LokiSource(recorded_loki.url, retries=10, backoff=0.4) as loki:
        started = time.monotonic()
        with deadline.bounded(1.0), pytest.raises(SourceUnavailable):
            loki.labels()
    assert time.monotonic() - started < 1.0
    assert len(recorded_loki.requests_to(LABELS)) < 10


def test_a_call_after_the_deadline_is_not_sent(recorded_loki) -> None:
    with LokiSource(recorded_loki.url) as loki, deadline.bounded(0.05):
        time.sleep(0.1)
        with pytest.raises(QueryTimeout):
            loki.labels()
    assert recorded_loki.requests == []


def test_an_inner_deadline_never_extends_the_outer_one() -> None:
    with deadline.bounded(1.0):
        with deadline.bounded(60.0):
            assert deadline.remaining() <= 1.0
        with deadline.bounded(0.5):
            assert deadline.remaining() <= 0.5
    assert deadline.remaining() is None


def test_repeated_failures_open_the_circuit_and_calls_fail_at_once() -> None:
    breaker = CircuitBreaker("Loki", failures=3, reset_seconds=30)
    url = f"http://127.0.0.1:{free_port()}"
    with LokiSource(url, retries=0, breaker=breaker) as loki:
        for _ in range(3):
            with pytest.raises(SourceUnavailable) as caught:
                loki.labels()
            assert caught.value.code == "LOKI_UNAVAILABLE"
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as caught:
            loki.labels()
    assert time.monotonic() - started < 0.05
    assert caught.value.code == "LOKI_CIRCUIT_OPEN" and caught.value.status == 503
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 30


def test_a_successful_probe_closes_the_circuit(recorded_loki) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Loki", failures=2, reset_seconds=30, clock=clock)
    recorded_loki.script(
        LABELS, (502, "Bad Gateway"), (502, "Bad Gateway"), recorded_loki.exchange("labels")
    )
    with LokiSource(recorded_loki.url, retries=0, breaker=breaker) as loki:
        for _ in range(2):
            with pytest.raises(SourceUnavailable):
                loki.labels()
        assert breaker.state == "open"
        with pytest.raises(SourceUnavailable):
            loki.labels()  # refused without a request
        assert len(recorded_loki.requests_to(LABELS)) == 2
        clock.now += 31
        assert breaker.state == "half_open"
        assert loki.labels()  # the probe: Loki answers again
    assert breaker.state == "closed"


def test_a_failed_probe_opens_the_circuit_again(recorded_loki) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Loki", failures=1, reset_seconds=10, clock=clock)
    recorded_loki.script(LABELS, (503, "Service Unavailable"))
    with LokiSource(recorded_loki.url, retries=0, breaker=breaker) as loki:
        with pytest.raises(SourceUnavailable):
            loki.labels()
        clock.now += 11
        with pytest.raises(SourceUnavailable) as probe:
            loki.labels()
        assert probe.value.code == "LOKI_UNAVAILABLE"  # the probe went out and failed
    assert breaker.state == "open"
    assert breaker.retry_after() == 10


def test_lokis_400_does_not_count_as_a_failure(recorded_loki) -> None:
    breaker = CircuitBreaker("Loki", failures=1)
    recorded_loki.script(LABELS, recorded_loki.exchange("error_parse"))
    with LokiSource(recorded_loki.url, retries=0, breaker=breaker) as loki:
        for _ in range(3):
            with pytest.raises(Exception) as caught:
                loki.labels()
            assert caught.value.status == 400
    assert breaker.state == "closed"


def test_readyz_and_the_api_say_the_circuit_is_open(tmp_path) -> None:
    app = loki_app(
        f"http://127.0.0.1:{free_port()}", tmp_path, loki_retries=0, loki_breaker_failures=2
    )
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/ai_logs/query?cache=false").status_code == 503
    refused = client.get("/api/v1/ai_logs/query?cache=false")
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "LOKI_CIRCUIT_OPEN"
    assert int(refused.headers["Retry-After"]) >= 1
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["loki"]["circuit"]["state"] == "open"
