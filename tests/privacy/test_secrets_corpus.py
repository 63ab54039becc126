"""No answer of any endpoint or CLI command carries a secret of the corpus, whole or as a
fragment of 8 characters, whatever position the logs held it in."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from analyzer.app import create_app
from analyzer.cli import main
from analyzer.config import Settings
from analyzer.services import Services, build_services

from secrets_corpus import CONVERSATION_ID, CORRELATION_ID, WORKSPACE_ID, Corpus

API = "/api/v1/ai_logs"
RANGE = {"from": "2026-11-20T09:50:00Z", "to": "2026-11-20T10:40:00Z"}
GRAFANA_TARGETS = (
    "error_rate", "pattern_occurrences", "token_usage", "cost", "top_patterns", "insights",
    "conversations", "workspace_costs", "correlation_graph", "narrative",
)  # fmt: skip


def test_the_corpus_logs_hold_every_secret(corpus: Corpus) -> None:
    raw = "".join(p.read_text() for p in corpus.path.glob("*.jsonl"))
    assert len(corpus.leaks(raw)) == len(corpus.secrets)


@pytest.fixture(scope="module")
def analyzer_app(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = Settings(
        source_path=str(corpus.path),
        data_dir=str(tmp_path_factory.mktemp("var")),
        embedded_worker=False,
        rate_limit_per_hour=100_000,
    )
    services = build_services(settings)
    app = create_app(settings, services=services)
    app.extensions["test_services"] = services
    yield app


@pytest.fixture(scope="module")
def client(analyzer_app: Flask) -> FlaskClient:
    return analyzer_app.test_client()


def _query_requests() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for mode in ("troubleshoot", "errors", "performance", "audit", "conversation"):
        for fmt in ("structured", "narrative", "timeline"):
            out.append(("GET", f"{API}/query?mode={mode}&format={fmt}&time_range=2h"
                               "&verbosity=detailed&cache=false", None))  # fmt: skip
    for aggregation in ("by_service", "by_error", "by_pattern"):
        out.append(("POST", f"{API}/query", {"aggregation": aggregation, "time_range": "2h",
                                             "deduplicate": True, "include_context": 3}))
    out.append(("GET", f"{API}/query?time_range=2h", None))  # cached: the second answer
    out.append(("GET", f"{API}/query?time_range=2h", None))
    for fmt in ("structured", "narrative", "timeline"):
        out.append(("GET", f"{API}/correlate?correlation_id={CORRELATION_ID}&format={fmt}"
                           "&verbosity=detailed", None))  # fmt: skip
        out.append(("GET", f"{API}/conversations/{CONVERSATION_ID}?include_related_logs=true"
                           f"&format={fmt}", None))  # fmt: skip
        out.append(("GET", f"{API}/workspace/{WORKSPACE_ID}/summary?time_range=2h"
                           f"&format={fmt}", None))  # fmt: skip
    out.append(("GET", f"{API}/patterns?refresh=true&time_range=2h&per_page=200", None))
    out += [("GET", path, None) for path in ("/healthz", "/readyz", "/metrics", "/openapi.json")]
    return out


def _grafana_requests() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = [
        ("GET", "/grafana/", None),
        ("POST", "/grafana/metrics", {}),
        ("POST", "/grafana/tag-keys", {}),
    ]
    for key in ("service", "level", "workspace_id", "model"):
        out.append(("POST", "/grafana/tag-values", {"key": key}))
    for variable in ("services", "workspaces", "models", "conversations"):
        out.append(("POST", "/grafana/variable", {"payload": {"target": variable},
                                                   "range": RANGE}))  # fmt: skip
    for target in GRAFANA_TARGETS:
        payload = {"correlation_id": CORRELATION_ID} if target == "correlation_graph" else {}
        out.append(("POST", "/grafana/query", {
            "range": RANGE, "intervalMs": 60000, "maxDataPoints": 100,
            "targets": [{"refId": "A", "target": target, "payload": payload}],
        }))  # fmt: skip
    return out


def _answer_text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "body"), _query_requests() + _grafana_requests(),
    ids=lambda v: v if isinstance(v, str) and v.startswith("/") else None,
)  # fmt: skip
def test_no_endpoint_answer_carries_a_secret(
    client: FlaskClient, corpus: Corpus, method: str, path: str, body: Any
) -> None:
    response = client.open(path, method=method, json=body)
    assert response.status_code < 500, _answer_text(response)[:500]
    assert corpus.leaks(_answer_text(response)) == []


def test_the_pattern_registry_and_its_rules_carry_no_secret(
    client: FlaskClient, corpus: Corpus
) -> None:
    listed = client.get(f"{API}/patterns?refresh=true&time_range=2h&per_page=200")
    patterns = listed.get_json()["patterns"]
    assert patterns, "the corpus should be rich enough to record patterns"
    texts = [_answer_text(listed)]
    for entry in patterns:
        pid = entry["id"]
        texts.append(_answer_text(client.get(f"{API}/patterns/{pid}")))
        texts.append(_answer_text(client.get(f"{API}/patterns/{pid}/rule")))
        texts.append(_answer_text(client.post(f"{API}/patterns/{pid}/rule")))  # files: 409 + YAML
        texts.append(_answer_text(client.patch(f"{API}/patterns/{pid}", json={
            "resolved": True, "resolution_notes": "rotated the leaked keys"})))  # fmt: skip
    for text in texts:
        assert corpus.leaks(text) == []


def test_an_id_that_is_itself_personal_data_is_not_echoed(
    client: FlaskClient, corpus: Corpus
) -> None:
    email = corpus.secrets["email"]
    for path in (f"{API}/correlate?correlation_id={email}", f"{API}/conversations/{email}",
                 f"{API}/workspace/{email}/summary"):  # fmt: skip
        response = client.get(path)
        assert response.status_code < 500
        assert corpus.leaks(_answer_text(response)) == []


def test_alert_analyses_and_reports_carry_no_secret(
    analyzer_app: Flask, client: FlaskClient, corpus: Corpus
) -> None:
    from analyzer.worker import Worker

    services: Services = analyzer_app.extensions["test_services"]
    alert = {
        "receiver": "analyzer", "status": "firing", "orgId": 1,
        "alerts": [{
            "status": "firing", "labels": {"alertname": "LoginFailures", "service": "api"},
            "annotations": {"summary": "logins failing"},
            "startsAt": "2026-11-20T10:16:00Z", "fingerprint": "corpus0001",
        }],
    }  # fmt: skip
    accepted = client.post("/webhooks/grafana", json=alert)
    assert accepted.status_code == 202
    worker = Worker(services, consumer="corpus")
    job = worker.queue.take(worker.consumer, wait_seconds=1)
    assert job is not None
    worker.handle(job)
    analysis_id = accepted.get_json()["analysis_id"]
    for path in (f"{API}/analyses", f"{API}/analyses/{analysis_id}", f"/reports/{analysis_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert corpus.leaks(_answer_text(response)) == []


def test_the_live_stream_carries_no_secret(corpus: Corpus, tmp_path: Path) -> None:
    import threading

    from websockets.sync.client import connect
    from werkzeug.serving import make_server

    from analyzer.web.stream import StreamSettings

    settings = Settings(source_path=str(corpus.path), data_dir=str(tmp_path), embedded_worker=False)
    services = build_services(settings)
    services.extras["stream_settings"] = StreamSettings(
        poll_interval=0.05, heartbeat_seconds=0.2, insight_window="1h"
    )
    app = create_app(settings, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    messages: list[str] = []
    try:
        url = f"ws://127.0.0.1:{server.server_port}{API}/stream?start=2026-11-20T09:59:00Z&limit=500"
        with connect(url, open_timeout=5, proxy=None) as ws:
            while True:
                message = ws.recv(timeout=5)
                messages.append(message)
                if json.loads(message).get("type") == "heartbeat":
                    break
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert sum(json.loads(m)["type"] == "log" for m in messages) > 100
    assert corpus.leaks("\n".join(messages)) == []


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> str:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(argv)
    assert code in (0, 1, 2), argv
    return out.getvalue()


def _cli_commands(source: str) -> list[list[str]]:
    out = []
    for fmt in ("narrative", "timeline", "structured"):
        out.append(["query", "--source", source, "--time-range", "2h", "--format", fmt,
                    "--verbosity", "detailed"])  # fmt: skip
    for mode in ("troubleshoot", "errors", "performance", "audit", "conversation"):
        out.append(["query", "--source", source, "--time-range", "2h", "--mode", mode, "--json"])
    out += [
        ["patterns", "--source", source, "--time-range", "2h", "--top", "50"],
        ["patterns", "--source", source, "--time-range", "2h", "--top", "50", "--json"],
        ["correlate", CORRELATION_ID, "--source", source],
        ["correlate", CORRELATION_ID, "--source", source, "--json"],
        ["conversation", CONVERSATION_ID, "--source", source],
        ["conversation", CONVERSATION_ID, "--source", source, "--json"],
        ["workspace", WORKSPACE_ID, "--source", source, "--time-range", "2h"],
        ["workspace", WORKSPACE_ID, "--source", source, "--time-range", "2h", "--json"],
    ]
    return out


def test_no_cli_command_prints_a_secret(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AI_LOGS_DATA_DIR", str(corpus.path.parent / "cli-var"))
    for argv in _cli_commands(str(corpus.path)):
        printed = _cli(argv, monkeypatch)
        assert printed.strip(), argv
        assert corpus.leaks(printed + capsys.readouterr().err) == [], argv


def test_ai_logs_templates_prints_no_secret(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = [json.loads(line)["message"] for p in sorted(corpus.path.glob("*.jsonl"))
                for line in p.read_text().splitlines()]  # fmt: skip
    out = io.BytesIO()

    class Stdout(io.TextIOWrapper):
        pass

    wrapper = Stdout(out, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", wrapper)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\n".join(messages).encode())))
    assert main(["templates"]) == 0
    wrapper.flush()
    printed = out.getvalue().decode()
    assert len(printed.splitlines()) == len(messages)
    assert corpus.leaks(printed) == []
