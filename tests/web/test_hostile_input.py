"""Hostile and careless input gets a 4xx with a code and a suggestion, never a 500."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from analyzer.sources.logql import validate_regex
from analyzer.web.openapi_bodies import request_bodies

API = "/api/v1/ai_logs"
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
DEEP_LIST = "[" * 1000 + "]" * 1000
ALERT = {"receiver": "x", "status": "firing", "alerts": [{
    "status": "firing", "labels": {"alertname": "a"}, "startsAt": "2026-11-24T08:12:00Z",
    "fingerprint": "abc"}]}  # fmt: skip


def assert_client_error(response, code: str | None = None) -> dict:
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] and error["message"] and error["suggestion"]
    if code:
        assert error["code"] == code
    assert "Traceback" not in response.get_data(as_text=True)
    return error


ZERO_AND_HUGE_WINDOWS = [
    f"{API}/query?time_range={w}" for w in ("0s", "0h", "0d", "999999999d", "3651d")
] + [
    f"{API}/workspace/ws-legal/summary?time_range=0d",
    f"{API}/patterns?refresh=true&time_range=0s",
    f"{API}/correlate?correlation_id=req-1&time_window=0s",
    f"{API}/conversations/conv-1?time_range=0h",
    f"{API}/conversations/conv-1?time_buffer=999999999d",
    f"{API}/patterns/0123456789abcdef/rule?interval=0m",
    f"{API}/stream?start=999999999d",
]
OUT_OF_RANGE_TIMES = [
    f"{API}/query?start=1e26",
    f"{API}/query?start=100000000000000000000000",
    f"{API}/query?end=99999999999999999999",
    f"{API}/query?start=2300-01-01T00:00:00Z",
    f"{API}/query?start=-5",
    f"{API}/stream?start=99999999999999999999999999",
]


@pytest.mark.parametrize("path", ZERO_AND_HUGE_WINDOWS + OUT_OF_RANGE_TIMES)
def test_windows_and_times_out_of_range_are_400s(client: FlaskClient, path: str) -> None:
    assert_client_error(client.get(path), "INVALID_PARAMETER")


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_LIST])
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", f"{API}/query"), ("POST", "/grafana/query"), ("POST", "/grafana/metrics"),
     ("POST", "/grafana/variable"), ("POST", "/grafana/tag-values"),
     ("POST", "/grafana/metric-payload-options"), ("POST", "/webhooks/grafana"),
     ("PATCH", f"{API}/patterns/0123456789abcdef")],
)  # fmt: skip
def test_json_nested_1000_deep_is_a_400(client: FlaskClient, method, path, body) -> None:
    response = client.open(path, method=method, data=body, content_type="application/json")
    assert_client_error(response, "JSON_TOO_DEEP")


@pytest.mark.parametrize("number", ["1e400", "NaN", "Infinity", "-Infinity"])
def test_numbers_that_are_not_json_numbers_are_a_400(client: FlaskClient, number: str) -> None:
    body = '{"orgId": NUMBER, "targets": [{"target": "error_rate"}]}'.replace("NUMBER", number)
    response = client.post("/grafana/query", data=body, content_type="application/json")
    assert_client_error(response, "INVALID_JSON")


def test_a_lone_surrogate_in_a_fingerprint_is_a_400(client: FlaskClient) -> None:
    body = json.dumps(ALERT).replace('"abc"', '"\\ud800"')
    response = client.post("/webhooks/grafana", data=body, content_type="application/json")
    assert_client_error(response, "INVALID_JSON")


def test_a_surrogate_pair_is_valid_unicode(client: FlaskClient) -> None:
    body = json.dumps(ALERT).replace('"abc"', '"\\ud83d\\ude00"')
    response = client.post("/webhooks/grafana", data=body, content_type="application/json")
    assert response.status_code == 202


@pytest.mark.parametrize("starts_at", ["9" * 26, "1e400", "2026-13-45T99:00:00Z"])
def test_webhook_start_times_out_of_range_are_400s(client: FlaskClient, starts_at: str) -> None:
    alert = json.loads(json.dumps(ALERT))
    alert["alerts"][0]["startsAt"] = starts_at
    assert_client_error(client.post("/webhooks/grafana", json=alert), "INVALID_PAYLOAD")


@pytest.mark.parametrize("status", [{}, [], {"a": 1}, ["firing"]])
def test_a_webhook_status_that_is_no_text_is_a_400(client: FlaskClient, status: object) -> None:
    alert = json.loads(json.dumps(ALERT))
    alert["alerts"][0]["status"] = status
    assert_client_error(client.post("/webhooks/grafana", json=alert), "INVALID_PAYLOAD")


def test_the_latest_webhook_start_the_document_allows_is_accepted_and_the_next_refused(
    client: FlaskClient,
) -> None:
    webhook = request_bodies()[("post", "/webhooks/grafana")]
    limit = webhook["properties"]["alerts"]["items"]["properties"]["startsAt"]["anyOf"][1]["maximum"]
    alert = json.loads(json.dumps(ALERT))
    alert["alerts"][0]["startsAt"] = limit + 1
    assert_client_error(client.post("/webhooks/grafana", json=alert), "INVALID_PAYLOAD")
    alert["alerts"][0]["startsAt"] = limit
    assert client.post("/webhooks/grafana", json=alert).status_code == 202


@pytest.mark.parametrize("edge", ["99999999999999999999", "2" * 20])
def test_grafana_ranges_of_20_digits_are_400s(client: FlaskClient, edge: str) -> None:
    body = {"range": {"from": edge, "to": edge}, "targets": [{"target": "error_rate"}]}
    assert_client_error(client.post("/grafana/query", json=body))


def test_a_10_mb_body_is_refused_at_once_with_413(client: FlaskClient) -> None:
    started = time.perf_counter()
    response = client.post(f"{API}/query", data=b"x" * (10 * 1024 * 1024),
                           content_type="application/json")  # fmt: skip
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_the_size_cap_holds_on_the_datasource_too(client: FlaskClient) -> None:
    response = client.post("/grafana/metrics", data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 413


def test_a_form_body_to_query_is_read(client: FlaskClient) -> None:
    response = client.post(f"{API}/query", data={"mode": "errors", "time_range": "2h"})
    assert response.status_code == 200
    assert response.get_json()["metadata"]["query_mode"] == "errors"


def test_json_sent_as_a_form_is_read_as_json(client: FlaskClient) -> None:
    response = client.post(f"{API}/query", data='{"mode": "audit"}',
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.get_json()["metadata"]["query_mode"] == "audit"


def test_multipart_fields_are_read_and_files_refused(client: FlaskClient) -> None:
    fields = client.post(f"{API}/query", data={"mode": "errors"},
                         content_type="multipart/form-data")  # fmt: skip
    assert fields.get_json()["metadata"]["query_mode"] == "errors"
    upload = client.post(f"{API}/query", content_type="multipart/form-data",
                         data={"mode": "errors", "f": (io.BytesIO(b"x"), "a.txt")})  # fmt: skip
    assert upload.status_code == 415
    assert_client_error(upload, "UNSUPPORTED_MEDIA_TYPE")


def test_another_media_type_is_a_415(client: FlaskClient) -> None:
    response = client.post(f"{API}/query", data="<q/>", content_type="application/xml")
    assert_client_error(response, "UNSUPPORTED_MEDIA_TYPE")


def test_a_json_body_keeps_its_documented_types(client: FlaskClient) -> None:
    error = assert_client_error(client.post(f"{API}/query", json={"cache": 0}))
    assert "'cache'" in error["message"]


def test_an_unknown_service_is_named_with_the_known_ones(client: FlaskClient) -> None:
    error = assert_client_error(client.get(f"{API}/query?services=nosuch"), "UNKNOWN_SERVICE")
    assert "'nosuch'" in error["message"] and "api" in error["message"]


def test_one_unknown_service_among_known_ones_is_not_dropped(client: FlaskClient) -> None:
    error = assert_client_error(client.get(f"{API}/query?services=api,nosuch"))
    assert error["code"] == "UNKNOWN_SERVICE" and "'nosuch'" in error["message"]


def test_re2_repeat_limit_is_checked_before_loki() -> None:
    validate_regex("a{1000}")
    for pattern in ("a{1001}", "a{2,1001}", "(ab){5000}"):
        with pytest.raises(Exception) as caught:
            validate_regex(pattern)
        assert caught.value.code == "INVALID_REGEX"


def test_resolving_a_pattern_needs_the_admin_scope(
    make_app: Callable[..., Flask], keys: dict[str, str]
) -> None:
    client = make_app(api_keys_file=keys["file"]).test_client()
    response = client.patch(f"{API}/patterns/0123456789abcdef", json={"resolved": True},
                            headers={"X-API-Key": keys["a"]})  # fmt: skip
    assert response.status_code == 403
    assert "admin" in response.get_json()["error"]["message"]


def test_the_426_from_stream_does_not_claim_an_upgrade_nor_hang(
    make_app: Callable[..., Flask],
) -> None:
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as conn:
            request = (f"GET {API}/stream HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
            conn.sendall(request.encode())
            started = time.monotonic()
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
        assert time.monotonic() - started < 2
        text = head.decode("latin-1").lower()
        assert text.startswith("http/1.1 426")
        assert "upgrade: websocket" in text
        assert "connection: upgrade" not in text
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_analyses_while_redis_is_down_list_the_local_store_and_say_so(
    make_app: Callable[..., Flask],
) -> None:
    from tests.conftest import free_port

    client = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get(f"{API}/analyses")
    assert response.status_code == 200  # every alert accepted meanwhile is in the local store
    body = response.get_json()
    assert body["complete"] is False
    assert body["notice"]["code"] == "RESULTS_PARTIAL" and body["notice"]["suggestion"]
