"""Correlation ids for ASGI apps (Starlette, FastAPI: `app.add_middleware(CorrelationIdMiddleware)`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from analyzer.instrument.context import (
    HEADER,
    incoming_or_new,
    reset_correlation_id,
    set_correlation_id,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp, header: str = HEADER) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.header_name = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == self.header),
            None,
        )
        cid = incoming_or_new(incoming)
        scope.setdefault("state", {})["correlation_id"] = cid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != self.header
                ]
                headers.append((self.header_name.encode("latin-1"), cid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        token = set_correlation_id(cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_correlation_id(token)
