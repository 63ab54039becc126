"""/api/v1/ai_logs/stream over real sockets: a recorded Loki tail, followed files, real clients."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from analyzer.analysis.normalize import fingerprint
from analyzer.infra.keys import KeyStore
from analyzer.infra.privacy import mask_text
from analyzer.model import Query
from analyzer.sources import logql
from tests.stream.conftest import FAST, RecordedTail, of_type, receive_until


def _refusal(app: Any, query: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as refused:
        app.stream(query, headers)
    response = refused.value.response
    return response.status_code, json.loads(bytes(response.body))


def _logs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "log"]


# ----- Loki tail -----------------------------------------------------------------------------


def test_loki_records_arrive_filtered_by_the_query(serve_app, recorded_tail: RecordedTail):
    app = serve_app(loki_url=recorded_tail.url)
    with app.stream("services=api&severity_threshold=error") as ws:
        messages = receive_until(ws, of_type("log"))
        assert messages[0]["type"] == "subscribed"
        record = _logs(messages)[0]
        # the recorded tail sends an error line, then an info line the threshold drops
        later = receive_until(ws, of_type("heartbeat"))
    assert record["message"] == "tail probe 0: upstream request timeout after 30s"
    assert record["level"] == "error"
    assert record["correlation_id"] == "corr-tail-0"
    assert _logs(later) == []


def test_loki_is_asked_with_logql_from_the_query_builder_and_the_tenant(
    serve_app, recorded_tail: RecordedTail
):
    app = serve_app(loki_url=recorded_tail.url)
    before = time.time_ns()
    with app.stream("services=api&correlation_id=corr-tail-0") as ws:
        receive_until(ws, of_type("log"))
    sent = recorded_tail.tails[0]
    expected = logql.log_query(Query(services=["api"], correlation_id="corr-tail-0"))
    assert sent.params["query"] == expected
    assert sent.headers["x-scope-orgid"] == "fake"
    # without a start Loki would replay its last hour: "from now" is sent explicitly
    assert int(sent.params["start"]) >= before


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"loki_bearer_token": "glc_token"}, "Bearer glc_token"),
     ({"loki_username": "tenant-a", "loki_password": "pw"}, "Basic dGVuYW50LWE6cHc=")],
)  # fmt: skip
def test_the_tail_authenticates_as_the_source_does(
    serve_app, recorded_tail: RecordedTail, settings: dict, expected: str
):
    app = serve_app(loki_url=recorded_tail.url, **settings)
    with app.stream("services=api") as ws:
        receive_until(ws, of_type("log"))
    assert recorded_tail.tails[0].headers["authorization"] == expected


def test_start_is_passed_to_loki_and_its_history_replays_first(
    serve_app, recorded_tail: RecordedTail
):
    recorded_tail.use("tail_websocket_history")
    start = recorded_tail.exchange["request"]["params"]["start"]
    app = serve_app(loki_url=recorded_tail.url)
    with app.stream(f"services=redis&severity_threshold=error&start={start}&limit=3") as ws:
        messages = receive_until(ws, of_type("heartbeat"))
    sent = recorded_tail.tails[0].params
    assert (sent["start"], sent["limit"]) == (start, "3")
    recorded = [
        mask_text(json.loads(value[1])["message"])  # the recorded lines hold IP addresses
        for stream in recorded_tail.exchange["messages"][0]["streams"]
        for value in stream["values"]
    ]
    history = _logs(messages)
    assert sorted(r["message"] for r in history) == sorted(recorded)
    assert [r["timestamp"] for r in history] == sorted(r["timestamp"] for r in history)
    assert messages[0]["start"] is not None


def test_lokis_plain_text_400_becomes_an_error_message_then_a_close(
    serve_app, recorded_tail: RecordedTail
):
    recorded_tail.use("tail_error_bad_query")
    app = serve_app(loki_url=recorded_tail.url)
    with app.stream("services=api") as ws:
        message = json.loads(ws.recv(timeout=5))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert message["type"] == "error"
    assert message["error"]["code"] == "BAD_QUERY"
    assert recorded_tail.exchange["body"] in message["error"]["message"]
    assert ws.close_code == 1008


def test_a_tail_loki_closes_resumes_after_the_last_line_seen(
    serve_app, recorded_tail: RecordedTail
):
    recorded_tail.close_after_replay = 1
    app = serve_app(loki_url=recorded_tail.url)
    with app.stream("services=api") as ws:
        messages = receive_until(ws, of_type("notice"))
    newest = max(
        int(value[0])
        for message in recorded_tail.exchange["messages"]
        for stream in message["streams"]
        for value in stream["values"]
    )
    assert len(_logs(messages)) == 2
    assert len(recorded_tail.tails) == 2
    assert int(recorded_tail.tails[1].params["start"]) == newest + 1


# ----- request checks before the upgrade ------------------------------------------------------


def test_an_unknown_parameter_is_a_400_before_the_upgrade(serve_app, recorded_tail):
    status, body = _refusal(serve_app(loki_url=recorded_tail.url), "services=api&mode=errors")
    assert status == 400
    assert body["error"]["code"] == "UNKNOWN_PARAMETER"
    assert recorded_tail.requests == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("severity_threshold=loud", "severity_threshold"),
        ("exclude_patterns=(unclosed", "exclude_patterns"),
        ("start=yesterday", "start"),
        ("limit=0", "limit"),
        ("correlation_id=" + "x" * 65, "correlation_id"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(serve_app, query, parameter):
    status, body = _refusal(serve_app(source_path=str(_logs_dir())), query)
    assert status == 400
    assert body["error"]["code"] == "INVALID_PARAMETER"
    assert body["error"]["details"]["parameter"] == parameter


def test_a_plain_get_is_told_to_upgrade(serve_app):
    app = serve_app(source_path=str(_logs_dir()))
    response = httpx.get(f"{app.base}/api/v1/ai_logs/stream?services=api")
    assert response.status_code == 426
    assert response.json()["error"]["code"] == "UPGRADE_REQUIRED"


def test_keys_file_no_key_is_401_and_a_key_without_stream_scope_is_403(serve_app, tmp_path):
    store = KeyStore(str(tmp_path / "keys.yaml"))
    watcher = store.add("watcher", ["tenant-a"], ["stream"])
    reader = store.add("reader", ["tenant-a"], ["query"])
    app = serve_app(source_path=str(_logs_dir()), api_keys_file=str(tmp_path / "keys.yaml"))
    assert _refusal(app, "")[0] == 401
    assert _refusal(app, "", {"X-API-Key": "not-a-key"})[0] == 401
    status, body = _refusal(app, "", {"X-API-Key": reader})
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    with app.stream("", {"Authorization": f"Bearer {watcher}"}) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"


def test_the_stream_key_reads_its_own_tenant_from_loki(serve_app, recorded_tail, tmp_path):
    store = KeyStore(str(tmp_path / "keys.yaml"))
    watcher = store.add("watcher", ["tenant-a"], ["stream"])
    app = serve_app(loki_url=recorded_tail.url, api_keys_file=str(tmp_path / "keys.yaml"))
    with app.stream("services=api", {"X-API-Key": watcher}) as ws:
        receive_until(ws, of_type("log"))
    assert recorded_tail.tails[0].headers["x-scope-orgid"] == "tenant-a"


def test_the_endpoint_is_listed_in_openapi(serve_app):
    app = serve_app(source_path=str(_logs_dir()))
    spec = httpx.get(f"{app.base}/openapi.json").json()
    operation = spec["paths"]["/api/v1/ai_logs/stream"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"services", "severity_threshold", "start", "limit", "highlight"} <= names


# ----- following files ------------------------------------------------------------------------

_EXISTING = [
    {"timestamp": "2026-11-24T09:00:00Z", "level": "error", "service": "api",
     "message": "before connect: must not be streamed"},
]


def _logs_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "web_logs"


def _line(second: int, level: str, message: str, **fields: Any) -> str:
    entry = {"timestamp": f"2026-11-24T09:10:{second:02d}Z", "level": level, "service": "api",
             "message": message, **fields}
    return json.dumps(entry) + "\n"


def _append(path: Path, *lines: str) -> None:
    with path.open("a") as handle:
        handle.write("".join(lines))
        handle.flush()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "api.jsonl").write_text("".join(json.dumps(e) + "\n" for e in _EXISTING))
    return folder


def test_lines_appended_after_connect_arrive_masked(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream("severity_threshold=warn&highlight=refused") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        _append(
            log_dir / "api.jsonl",
            _line(1, "info", "health check ok"),
            _line(2, "error", "connection refused for bob@example.com", correlation_id="c-1"),
        )
        messages = receive_until(ws, of_type("log"))
    record = _logs(messages)[0]
    assert "bob@example.com" not in json.dumps(messages)
    assert record["message"].startswith("connection refused for ")
    assert record["correlation_id"] == "c-1"
    assert record["highlights"] == ["refused"]


def test_lines_written_before_connect_are_not_streamed(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream() as ws:
        messages = receive_until(ws, of_type("heartbeat"))
    assert _logs(messages) == []


def test_start_replays_the_files_history_first(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream("start=2026-11-24T08:00:00Z") as ws:
        messages = receive_until(ws, of_type("log"))
    assert _logs(messages)[0]["message"] == _EXISTING[0]["message"]


def test_a_new_file_in_the_directory_is_followed(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream("services=worker") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        entry = {"timestamp": "2026-11-24T09:10:00Z", "level": "error", "service": "worker",
                 "message": "job failed"}
        (log_dir / "worker.jsonl").write_text(json.dumps(entry) + "\n")
        record = _logs(receive_until(ws, of_type("log")))[0]
    assert (record["service"], record["message"]) == ("worker", "job failed")


def test_an_insight_is_sent_once_per_window_as_errors_grow(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream("services=api") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        _append(log_dir / "api.jsonl", *(_line(i, "error", f"upstream timeout #{i}") for i in range(3)))
        first = receive_until(ws, of_type("insight"))
        _append(log_dir / "api.jsonl", *(_line(10 + i, "error", "upstream timeout") for i in range(3)))
        # wait past the next insight evaluations: heartbeats come every 0.5 s, insights every 0.2
        later = receive_until(ws, of_type("heartbeat"))
        later += receive_until(ws, of_type("heartbeat"))
    insights = [m["insight"] for m in first + later if m["type"] == "insight"]
    keys = [(i["kind"], i["service"], fingerprint(i["title"])) for i in insights]
    assert first[-1]["insight"]["service"] == "api"
    assert first[-1]["window"]["end"] >= "2026-11-24T09:10:02"
    assert len(_logs(first + later)) == 6
    assert len(keys) == len(set(keys))  # a finding whose counts grew is not sent again


def test_heartbeats_carry_running_totals(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream() as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        _append(log_dir / "api.jsonl", _line(1, "info", "one"), _line(2, "info", "two"))
        receive_until(ws, lambda m: m["type"] == "log" and m["record"]["message"] == "two")
        beat = receive_until(ws, of_type("heartbeat"))[-1]
    assert beat["sent"] == 2
    assert beat["dropped"] == 0


def test_subscribed_says_what_is_followed(serve_app, log_dir: Path):
    app = serve_app(source_path=str(log_dir))
    with app.stream("services=api&severity_threshold=ERROR") as ws:
        hello = json.loads(ws.recv(timeout=5))
    assert hello["source"] == "files"
    assert hello["filters"] == {"services": ["api"], "severity_threshold": "error"}
    assert hello["heartbeat_seconds"] == FAST.heartbeat_seconds
