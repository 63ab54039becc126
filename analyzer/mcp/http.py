"""Streamable HTTP at `POST /mcp`, inside the Flask service (gunicorn, WSGI).

The SDK's streamable-HTTP transport is an ASGI app whose session manager wants one long-lived
event loop. Under gunicorn's gthread workers each request already has a thread, and several
worker processes share no memory, so a stateful MCP session (an `Mcp-Session-Id` held in one
process's memory) would break as soon as the next request reached another worker. This route
therefore serves the SDK in its stateless JSON-response mode and drives it once per request:
it authenticates the key, resolves the tenant and applies the rate limit with the same code as
every other endpoint (`web.auth`), then runs the SDK's own session manager for this one
request in a short-lived event loop on the request's thread (`anyio.run`), hands it the body,
and returns the status, headers and JSON it produced. No background loop, no cross-thread
hand-off, nothing kept between requests; both the handshake protocol (initialize, then calls)
and the 2026-07-28 per-request protocol go through the SDK's own handling.

GET (a server-to-client event stream) and DELETE (ending a session) have nothing to serve in
stateless mode: 405, as the specification allows.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from flask import Blueprint, Flask, Response, abort, g, request
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from analyzer.errors import RateLimited
from analyzer.mcp.server import CALLER, Caller, build_server
from analyzer.services import Services
from analyzer.web.auth import apply_rate_limit, authenticate, resolve_tenant
from analyzer.web.context import services

bp = Blueprint("mcp", __name__)
SERVER_KEY = "mcp_server"
MAX_BODY = 4 * 1024 * 1024  # the SDK's own default limit, checked before the body is read
# calls that run an analysis or read stored results count against the key's query limit, as
# the HTTP API's reads do; the handshake and listings do not
LIMITED_METHODS = frozenset({"tools/call", "resources/read"})
# without keys the service answers loopback only; a browser page must not reach it through a
# rebound DNS name either, so then Host and Origin must be loopback too
LOOPBACK = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)

OPENAPI = [("POST", "/mcp", None, "Model Context Protocol (streamable HTTP, stateless JSON).")]


@bp.route("/mcp", methods=["POST"])
def mcp_endpoint() -> Response:
    principal = authenticate("query")
    g.principal = principal
    tenant = resolve_tenant(principal)
    g.tenant = tenant
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)
    refusal = None
    if _method(body) in LIMITED_METHODS:
        try:
            apply_rate_limit(principal, "query")
        except RateLimited as exc:
            refusal = exc  # answered as a tool error with our code, X-RateLimit headers set
    svc = services()
    security = LOOPBACK if svc.keys is None else None
    status, headers, payload = drive(svc.extras[SERVER_KEY], security, Caller(tenant, refusal),
                                     _scope(), body)
    response = Response(payload, status=status)
    for name, value in headers:
        if name.lower() not in ("content-length", "transfer-encoding"):
            response.headers[name] = value
    if status >= 400 and "json" not in (response.content_type or ""):
        # the SDK answers some refusals in plain text: the API's errors are JSON objects
        return _error_response(status, payload.decode("utf-8", errors="replace").strip())
    return response


def _error_response(status: int, text: str) -> Response:
    import json

    body = {"error": {
        "code": "MCP_REQUEST_REFUSED",
        "message": text or "the MCP request was refused",
        "suggestion": "POST JSON-RPC with Content-Type: application/json and Accept: "
        "application/json, text/event-stream (an MCP client does).",
    }}  # fmt: skip
    return Response(json.dumps(body), status=status, mimetype="application/json")


def drive(
    server: Server[Any],
    security: TransportSecuritySettings | None,
    caller: Caller,
    scope: dict[str, Any],
    body: bytes,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP exchange through the SDK's stateless session manager, on this thread."""
    answer: dict[str, Any] = {"status": 500, "headers": [], "body": []}

    async def receive() -> dict[str, Any]:
        if not answer.get("received"):
            answer["received"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()  # the client stays connected until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = [(k.decode("latin-1"), v.decode("latin-1"))
                                 for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    async def exchange() -> None:
        manager = StreamableHTTPSessionManager(
            app=server, json_response=True, stateless=True, security_settings=security
        )
        async with manager.run():
            await manager.handle_request(scope, receive, send)

    token = CALLER.set(caller)
    try:
        anyio.run(exchange)
    finally:
        CALLER.reset(token)
    return answer["status"], answer["headers"], b"".join(answer["body"])


def _method(body: bytes) -> str | None:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None  # the SDK answers the parse error
    return message.get("method") if isinstance(message, dict) else None


def _scope() -> dict[str, Any]:
    """The ASGI scope of this WSGI request, as the SDK's transport reads it."""
    environ = request.environ
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").removeprefix("HTTP/"),
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.query_string,
        "root_path": "",
        "headers": headers,
        "client": (request.remote_addr or "", 0),
        "server": (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0)),
    }


def register(app: Flask, services: Services) -> None:
    services.extras.setdefault(SERVER_KEY, build_server(services))
    app.register_blueprint(bp)
