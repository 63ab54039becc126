"""Loki's errors become errors a caller can act on; only connect errors and 5xx are retried."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from analyzer.errors import BadQuery, QueryTimeout, SourceUnavailable
from analyzer.sources.loki import LokiSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loki"
QUERY_ERRORS = sorted(p.stem for p in FIXTURES.glob("error_*.json") if p.stem != "error_not_found")
LABELS = "/loki/api/v1/labels"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_recorded(loki: LokiSource, exchange: dict[str, Any]) -> Any:
    request = exchange["request"]
    return loki.get(request["path"], request["params"])


@pytest.mark.parametrize("name", QUERY_ERRORS)
def test_lokis_400_becomes_bad_query_with_lokis_message(recorded_loki, name: str) -> None:
    exchange = recorded_loki.exchange(name)
    with LokiSource(recorded_loki.url) as loki, pytest.raises(BadQuery) as caught:
        send_recorded(loki, exchange)
    assert caught.value.status == 400
    assert caught.value.code == "BAD_QUERY"
    assert caught.value.message == exchange["body"].strip()


def test_a_log_query_on_the_instant_endpoint_is_a_bad_query(recorded_loki) -> None:
    params = recorded_loki.exchange("error_instant_log_query")["request"]["params"]
    with LokiSource(recorded_loki.url) as loki, pytest.raises(BadQuery) as caught:
        loki.query(params["query"], int(params["time"]))
    assert caught.value.message.startswith("log queries are not supported")


def test_a_range_over_lokis_limit_suggests_narrowing_it(recorded_loki) -> None:
    exchange = recorded_loki.exchange("error_range_too_long")
    with LokiSource(recorded_loki.url) as loki, pytest.raises(BadQuery) as caught:
        send_recorded(loki, exchange)
    assert "Narrow the time range" in caught.value.suggestion


def test_a_400_is_not_retried(recorded_loki) -> None:
    with LokiSource(recorded_loki.url, retries=3, backoff=0.01) as loki, pytest.raises(BadQuery):
        send_recorded(loki, recorded_loki.exchange("error_parse"))
    assert len(recorded_loki.requests) == 1


def test_a_404_says_the_loki_url_looks_wrong(recorded_loki) -> None:
    exchange = recorded_loki.exchange("error_not_found")
    with LokiSource(recorded_loki.url) as loki, pytest.raises(SourceUnavailable) as caught:
        send_recorded(loki, exchange)
    assert caught.value.code == "LOKI_NOT_FOUND"
    assert "Loki URL or path looks wrong" in caught.value.message
    assert exchange["body"].strip() in caught.value.message
    assert "LOKI_URL" in caught.value.suggestion


def test_5xx_is_retried_until_loki_answers(recorded_loki) -> None:
    recorded_loki.script(
        LABELS, (502, "502 Bad Gateway\n"), (502, "502 Bad Gateway\n"), recorded_loki.exchange("labels")
    )
    with LokiSource(recorded_loki.url, retries=3, backoff=0.01) as loki:
        labels = loki.labels()
    assert labels == recorded_loki.exchange("labels")["body"]["data"]
    assert len(recorded_loki.requests_to(LABELS)) == 3


def test_5xx_after_the_last_retry_is_loki_unavailable(recorded_loki) -> None:
    not_ready = recorded_loki.exchange("ready_not_ready")  # what Loki says while starting
    recorded_loki.script(LABELS, not_ready)
    loki = LokiSource(recorded_loki.url, retries=2, backoff=0.01)
    with loki, pytest.raises(SourceUnavailable) as caught:
        loki.labels()
    assert caught.value.status == 503 and caught.value.code == "LOKI_UNAVAILABLE"
    assert not_ready["body"].strip() in caught.value.message
    assert len(recorded_loki.requests_to(LABELS)) == 3


def test_nothing_listening_is_loki_unavailable_after_retries() -> None:
    loki = LokiSource(f"http://127.0.0.1:{unused_port()}", retries=2, backoff=0.01)
    with loki, pytest.raises(SourceUnavailable) as caught:
        loki.labels()
    assert caught.value.status == 503
    assert caught.value.code == "LOKI_UNAVAILABLE"
    assert "3 attempts" in caught.value.message


def test_check_reports_an_unreachable_loki_without_raising() -> None:
    with LokiSource(f"http://127.0.0.1:{unused_port()}") as loki:
        status = loki.check()
    assert status["ok"] is False
    assert "cannot reach Loki" in status["detail"]


def test_a_slow_loki_is_a_query_timeout_suggesting_a_narrower_range(recorded_loki) -> None:
    recorded_loki.delay = 1.0
    loki = LokiSource(recorded_loki.url, timeout=0.2, retries=3, backoff=0.01)
    with loki, pytest.raises(QueryTimeout) as caught:
        loki.labels()
    assert caught.value.status == 504 and caught.value.code == "QUERY_TIMEOUT"
    assert "Narrow the time range" in caught.value.suggestion
    assert len(recorded_loki.requests) == 1  # a timed-out query is not sent again


def test_a_non_json_success_body_is_a_bad_response(recorded_loki) -> None:
    recorded_loki.script(LABELS, recorded_loki.exchange("ready"))  # 200 text/plain "ready"
    with LokiSource(recorded_loki.url) as loki, pytest.raises(SourceUnavailable) as caught:
        loki.labels()
    assert caught.value.code == "LOKI_BAD_RESPONSE"
