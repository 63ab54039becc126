"""POST /mcp answers only to the keys, scopes and tenants the HTTP API answers to, and counts
tool calls against the key's query limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from tests.mcp.conftest import (
    SAMPLE,
    HttpService,
    Stack,
    analyse_alert,
    http_session,
    make_stack,
    run_session,
)

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "probe", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[HttpService, str, str]:
    """The service with one alert analysis for tenant A and one for tenant B, and each tenant's
    pattern registry filled by an analysis of its own."""
    stack = make_stack(tmp_path_factory.mktemp("tenants"), SAMPLE, with_keys=True)
    a = analyse_alert(stack, stack.keys["hook-a"])
    b = analyse_alert(stack, stack.keys["hook-b"], starts_at="2026-11-24T08:27:00Z")
    for key in (stack.keys["a"], stack.keys["b"]):
        stack.api("/api/v1/ai_logs/patterns", key, refresh="true", time_range="2h")
    return serve(stack), a, b


def ask(url: str, key: str | None, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async def scenario(client: Any) -> list[Any]:
        return [await client.call_tool(name, args) for name, args in calls]

    return run_session(http_session(url, key), scenario)


def test_a_session_without_a_key_is_refused(tenants: tuple[HttpService, str, str]) -> None:
    service, _, _ = tenants
    with pytest.raises(BaseExceptionGroup) as caught:
        ask(service.url, None, [("services", {})])
    assert caught.group_contains(MCPError)
    raw = httpx.post(f"{service.url}/mcp", json=INITIALIZE, headers=HEADERS)
    assert raw.status_code == 401
    assert raw.json()["error"]["code"] == "UNAUTHORIZED"


def test_an_unknown_key_is_refused(tenants: tuple[HttpService, str, str]) -> None:
    service, _, _ = tenants
    raw = httpx.post(f"{service.url}/mcp", json=INITIALIZE,
                     headers={**HEADERS, "X-API-Key": "ailk_not-a-key"})
    assert raw.status_code == 401


def test_a_key_without_the_query_scope_is_forbidden(tenants: tuple[HttpService, str, str]) -> None:
    service, _, _ = tenants
    key = service.stack.keys["stream-only"]
    raw = httpx.post(f"{service.url}/mcp", json=INITIALIZE, headers={**HEADERS, "X-API-Key": key})
    assert raw.status_code == 403
    assert raw.json()["error"]["code"] == "FORBIDDEN"


def test_a_key_cannot_ask_for_another_tenant(tenants: tuple[HttpService, str, str]) -> None:
    service, _, _ = tenants
    headers = {**HEADERS, "X-API-Key": service.stack.keys["a"], "X-Scope-OrgID": "tenant-b"}
    raw = httpx.post(f"{service.url}/mcp", json=INITIALIZE, headers=headers)
    assert raw.status_code == 403


def test_tenant_a_cannot_read_b_analyses_through_any_tool(
    tenants: tuple[HttpService, str, str],
) -> None:
    service, mine, theirs = tenants
    key = service.stack.keys["a"]
    listed, own, other, report = ask(service.url, key, [
        ("list_alert_analyses", {}),
        ("get_alert_analysis", {"analysis_id": mine}),
        ("get_alert_analysis", {"analysis_id": theirs}),
        ("list_alert_analyses", {"status": "done", "limit": 500}),
    ])
    assert [a["id"] for a in listed.structured_content["analyses"]] == [mine]
    assert not own.is_error
    assert other.is_error and other.structured_content["error"]["code"] == "NOT_FOUND"
    assert theirs not in str(report.structured_content)


def test_tenant_a_cannot_read_b_reports_or_prompts(tenants: tuple[HttpService, str, str]) -> None:
    service, mine, theirs = tenants

    async def scenario(client: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"listed": await client.list_resources()}
        out["mine"] = await client.read_resource(f"ai-logs://analyses/{mine}/report")
        for name, call in (
            ("report", client.read_resource(f"ai-logs://analyses/{theirs}/report")),
            ("prompt", client.get_prompt("investigate_alert", {"analysis_id": theirs})),
        ):
            try:
                out[name] = await call
            except MCPError as exc:
                out[name] = exc
        return out

    out = run_session(http_session(service.url, service.stack.keys["a"]), scenario)
    uris = {str(r.uri) for r in out["listed"].resources}
    assert f"ai-logs://analyses/{mine}/report" in uris
    assert not any(theirs in uri for uri in uris)
    assert "# Alert" in out["mine"].contents[0].text
    for name in ("report", "prompt"):
        assert isinstance(out[name], MCPError), name
        assert out[name].error.data["code"] == "NOT_FOUND"


def test_tenant_a_cannot_see_or_export_b_patterns(tenants: tuple[HttpService, str, str]) -> None:
    service, _, _ = tenants
    stack: Stack = service.stack
    theirs = stack.api("/api/v1/ai_logs/patterns", stack.keys["b"])["patterns"][0]["id"]
    mine = stack.api("/api/v1/ai_logs/patterns", stack.keys["a"], per_page=200)["patterns"]
    listed, rule = ask(service.url, stack.keys["a"], [
        ("patterns", {"per_page": 200, "max_tokens": 100000}),
        ("export_rule", {"pattern_id": theirs}),
    ])
    assert [p["id"] for p in listed.structured_content["patterns"]] == [p["id"] for p in mine]
    assert rule.is_error and rule.structured_content["error"]["code"] == "PATTERN_NOT_FOUND"


def test_tool_calls_count_against_the_key_query_limit(tmp_path: Path, serve: Any) -> None:
    stack = make_stack(tmp_path, SAMPLE, with_keys=True)
    url = serve(stack).url

    async def scenario(client: Any) -> list[Any]:
        await client.list_tools()  # listing is not a query
        return [await client.call_tool("services", {}) for _ in range(3)]

    first, second, third = run_session(http_session(url, stack.keys["limited"]), scenario)
    assert not first.is_error and not second.is_error
    assert third.is_error
    assert third.structured_content["error"]["code"] == "RATE_LIMITED"


def test_rate_limit_headers_come_back_on_tool_calls(tmp_path: Path, serve: Any) -> None:
    stack = make_stack(tmp_path, SAMPLE, with_keys=True)
    url = serve(stack).url
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "services", "arguments": {}}}
    raw = httpx.post(f"{url}/mcp", json=call, headers={
        **HEADERS, "X-API-Key": stack.keys["a"], "MCP-Protocol-Version": "2025-11-25"})
    assert raw.status_code == 200, raw.text
    assert raw.headers["X-RateLimit-Limit"] == "1000"
    assert raw.json()["result"]["structuredContent"]["count"] == 6


def test_open_mode_refuses_a_rebound_host_or_a_foreign_origin(tmp_path: Path) -> None:
    """Without keys the service answers loopback only; a page in a browser must not reach it
    through a DNS name rebound to 127.0.0.1."""
    client = make_stack(tmp_path, SAMPLE, with_keys=False).app.test_client()
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "services", "arguments": {}}}
    headers = {**HEADERS, "MCP-Protocol-Version": "2025-11-25", "Host": "localhost:8080"}
    assert client.post("/mcp", json=call, headers=headers).status_code == 200
    assert client.post("/mcp", json=call, headers={**headers, "Host": "evil.example"}).status_code == 421
    foreign = {**headers, "Origin": "http://evil.example"}
    assert client.post("/mcp", json=call, headers=foreign).status_code == 403


def test_get_and_delete_are_not_served(tmp_path: Path) -> None:
    client = make_stack(tmp_path, SAMPLE, with_keys=False).app.test_client()
    for method in ("GET", "DELETE"):
        answer = client.open("/mcp", method=method)
        assert answer.status_code == 405
        assert answer.get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_a_body_nested_deeper_than_the_parser_goes_is_a_parse_error_not_a_failure(tmp_path: Path) -> None:
    client = make_stack(tmp_path, SAMPLE, with_keys=False).app.test_client()
    deep = '{"jsonrpc":"2.0","id":1,"method":"ping","params":' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {**HEADERS, "Host": "localhost:8080", "Content-Type": "application/json"}
    answer = client.post("/mcp", data=deep, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == -32700  # JSON-RPC's parse error
