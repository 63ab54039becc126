"""Correlation ids in, out and in every log line: Flask (WSGI), Starlette (ASGI), httpx."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.serving import make_server

from analyzer.instrument import (
    HEADER,
    AIOperationLogger,
    configure,
    correlation_scope,
    get_correlation_id,
    prompt_hash,
)
from analyzer.instrument.asgi import CorrelationIdMiddleware as AsgiMiddleware
from analyzer.instrument.httpx_hooks import async_client_hooks, client_hooks
from analyzer.instrument.wsgi import CorrelationIdMiddleware as WsgiMiddleware
from analyzer.sources.records import record_from_mapping


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger("svc")
    logger.propagate = False
    handler = configure("svc", stream=stream, logger=logger)
    yield stream
    logger.removeHandler(handler)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def flask_app() -> Flask:
    app = Flask("svc")

    @app.get("/work")
    def work() -> dict[str, Any]:
        log = logging.getLogger("svc")
        log.info("started")
        log.warning("halfway", extra={"step": 2})
        return {"seen": get_correlation_id()}

    app.wsgi_app = WsgiMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def test_flask_adopts_the_incoming_id_returns_it_and_logs_it(log_lines: io.StringIO) -> None:
    answer = flask_app().test_client().get("/work", headers={HEADER: "corr-abc123"})
    assert answer.headers[HEADER] == "corr-abc123"
    assert answer.get_json()["seen"] == "corr-abc123"
    lines = lines_of(log_lines)
    assert [line["message"] for line in lines] == ["started", "halfway"]
    assert {line["correlation_id"] for line in lines} == {"corr-abc123"}
    assert lines[1]["step"] == 2


def test_flask_creates_an_id_when_none_or_an_unsafe_one_arrives(log_lines: io.StringIO) -> None:
    client = flask_app().test_client()
    for headers in ({}, {HEADER: 'x" | line_format "{{.password}}'}):
        answer = client.get("/work", headers=headers)
        cid = answer.headers[HEADER]
        assert cid.startswith("corr-") and answer.get_json()["seen"] == cid
    assert get_correlation_id() is None  # nothing leaks out of the request


def starlette_app() -> Starlette:
    async def async_work(request: Request) -> JSONResponse:
        logging.getLogger("svc").info("async handler")
        return JSONResponse({"seen": get_correlation_id()})

    def sync_work(request: Request) -> JSONResponse:  # runs in the threadpool
        logging.getLogger("svc").info("sync handler")
        return JSONResponse({"seen": get_correlation_id()})

    app = Starlette(routes=[Route("/async", async_work), Route("/sync", sync_work)])
    app.add_middleware(AsgiMiddleware)
    return app


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_starlette_adopts_returns_and_logs_the_id(path: str, log_lines: io.StringIO) -> None:
    with TestClient(starlette_app()) as client:
        answer = client.get(path, headers={HEADER: "corr-starlette1"})
    assert answer.headers[HEADER] == "corr-starlette1"
    assert answer.json()["seen"] == "corr-starlette1"
    assert [line["correlation_id"] for line in lines_of(log_lines)] == ["corr-starlette1"]


def test_starlette_creates_an_id_when_none_arrives() -> None:
    with TestClient(starlette_app()) as client:
        answer = client.get("/async")
    assert answer.headers[HEADER].startswith("corr-")
    assert answer.json()["seen"] == answer.headers[HEADER]


@pytest.fixture
def downstream() -> Iterator[tuple[str, list[str | None]]]:
    """A real HTTP server that records the correlation header of every request it receives."""
    seen: list[str | None] = []
    app = Flask("downstream")

    @app.get("/echo")
    def echo() -> dict[str, Any]:
        seen.append(request.headers.get(HEADER))
        return {"ok": True}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    thread.join(timeout=5)


def test_httpx_hook_sends_the_current_id(downstream: tuple[str, list[str | None]]) -> None:
    base, seen = downstream
    with httpx.Client(event_hooks=client_hooks()) as client, correlation_scope("corr-outgoing1"):
        client.get(f"{base}/echo")
    with httpx.Client(event_hooks=client_hooks()) as client:
        client.get(f"{base}/echo")  # outside a request: no header invented
        client.get(f"{base}/echo", headers={HEADER: "corr-explicit"})
    assert seen == ["corr-outgoing1", None, "corr-explicit"]


def test_async_httpx_hook_sends_the_current_id(downstream: tuple[str, list[str | None]]) -> None:
    import asyncio

    base, seen = downstream

    async def call() -> None:
        async with httpx.AsyncClient(event_hooks=async_client_hooks()) as client:
            with correlation_scope("corr-async1"):
                await client.get(f"{base}/echo")

    asyncio.run(call())
    assert seen == ["corr-async1"]


def test_an_id_crosses_two_services(
    downstream: tuple[str, list[str | None]], log_lines: io.StringIO
) -> None:
    base, seen = downstream
    app = Flask("front")

    @app.get("/front")
    def front() -> dict[str, Any]:
        logging.getLogger("svc").info("calling downstream")
        with httpx.Client(event_hooks=client_hooks()) as client:
            client.get(f"{base}/echo")
        return {}

    app.wsgi_app = WsgiMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    answer = app.test_client().get("/front", headers={HEADER: "corr-chain01"})
    assert answer.headers[HEADER] == "corr-chain01"
    assert seen == ["corr-chain01"]
    assert lines_of(log_lines)[0]["correlation_id"] == "corr-chain01"


def test_ai_logger_hashes_the_prompt_and_the_analyzer_reads_its_line(
    log_lines: io.StringIO,
) -> None:
    ai = AIOperationLogger("svc", logger=logging.getLogger("svc"))
    with correlation_scope("corr-ai0001"):
        ai.log_ai_request(
            model="gpt-4o",
            prompt="my card is 4111 1111 1111 1111",
            prompt_tokens=120,
            completion_tokens=30,
            duration=1.25,
            conversation_id="conv-1",
            workspace_id="ws-1",
        )
    raw = log_lines.getvalue()
    assert "4111" not in raw
    line = lines_of(log_lines)[0]
    assert line["prompt_hash"] == prompt_hash("my card is 4111 1111 1111 1111")
    assert len(line["prompt_hash"]) == 16
    record = record_from_mapping(line)
    assert (record.correlation_id, record.conversation_id, record.model) == (
        "corr-ai0001",
        "conv-1",
        "gpt-4o",
    )
    assert (record.tokens_used, record.duration, record.success) == (150, 1.25, True)


def test_ai_logger_keeps_prompt_text_only_when_enabled(log_lines: io.StringIO) -> None:
    ai = AIOperationLogger("svc", logger=logging.getLogger("svc"), include_prompt_text=True)
    fields = ai.log_ai_request(
        model="gpt-4o", prompt="hello", success=False, error_type="UpstreamTimeout"
    )
    assert fields["prompt"] == "hello"
    assert lines_of(log_lines)[0]["level"] == "error"
