"""The MCP server: the SDK's low-level `Server` with our tools, resources and prompts.

The low-level server (not the decorator-based `MCPServer`) because each tool validates its
arguments with the HTTP API's own pydantic models: the SDK's signature-derived validation
would answer a bad argument with its own message instead of our code and suggestion.

Who is asking travels in a context variable (`Caller`): the HTTP route sets it from the key
it authenticated, stdio from `--tenant`. Analyses are blocking work, so each runs in a worker
thread (anyio copies the context variable there).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

from analyzer import __version__
from analyzer.errors import AnalyzerError
from analyzer.mcp import library
from analyzer.mcp.answers import Cursor, footer, truncation
from analyzer.mcp.budget import fit
from analyzer.mcp.tools import (
    MAX_TOKENS_DEFAULT,
    MAX_TOKENS_MAX,
    MAX_TOKENS_MIN,
    TOOLS,
    ToolSpec,
)
from analyzer.services import Services

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "AI Logs Analyzer answers questions about logs with finished analyses, not raw lines: start"
    " with troubleshoot (what went wrong in a window), then follow what it names: errors,"
    " performance, correlate_request, conversation, workspace_summary, patterns. Every answer is"
    " cut to max_tokens (evidence first, never the conclusion); its structured `truncation`"
    " says what was in the window, what was returned and how to get more (cursor, narrower"
    " window)."
)


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: the Loki tenant, and a refusal decided before the call ran."""

    tenant: str
    refusal: AnalyzerError | None = None  # e.g. the key's rate limit was reached


CALLER: ContextVar[Caller] = ContextVar("ai_logs_mcp_caller")
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
_READ_ONLY = types.ToolAnnotations(read_only_hint=True, destructive_hint=False,
                                   idempotent_hint=True, open_world_hint=False)


def build_server(services: Services) -> Server[Any]:
    _open_stores(services)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=spec.name,
                    title=spec.title,
                    description=spec.description,
                    input_schema=spec.input_schema(),
                    annotations=_READ_ONLY,
                )
                for spec in TOOLS
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = CALLER.get()
        arguments = dict(params.arguments or {})
        return await anyio.to_thread.run_sync(call, services, caller, params.name, arguments)

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        caller = CALLER.get()
        found = await anyio.to_thread.run_sync(library.resources, services, caller.tenant)
        return types.ListResourcesResult(resources=found)

    async def list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=library.resource_templates())

    async def read_resource(
        ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        caller = CALLER.get()
        if caller.refusal is not None:
            raise library.protocol_error(caller.refusal)
        contents = await anyio.to_thread.run_sync(
            library.read, services, caller.tenant, str(params.uri)
        )
        return types.ReadResourceResult(contents=[contents])

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=library.prompts())

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        caller = CALLER.get()
        return await anyio.to_thread.run_sync(
            library.prompt, services, caller.tenant, params.name, dict(params.arguments or {})
        )

    return Server(
        "ai-logs-analyzer",
        version=__version__,
        title="AI Logs Analyzer",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


def _open_stores(services: Services) -> None:
    """The pattern registry the tools read and write (the web app opens it too; stdio has
    only this)."""
    from analyzer.infra.registry import open_registry
    from analyzer.web.patterns_api import REGISTRY_KEY

    if REGISTRY_KEY not in services.extras:
        services.extras[REGISTRY_KEY] = open_registry(services.settings, services.redis)


def serve_stdio(services: Services, tenant: str) -> None:
    """Serve one agent over this process's stdin and stdout until it closes them."""
    from mcp.server.stdio import stdio_server

    server = build_server(services)

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    token = CALLER.set(Caller(tenant))
    try:
        anyio.run(run)
    finally:
        CALLER.reset(token)


def call(services: Services, caller: Caller, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    """One tool call, answered or refused as a tool error with our code: never a traceback."""
    try:
        if caller.refusal is not None:
            raise caller.refusal
        spec = TOOLS_BY_NAME.get(name)
        if spec is None:
            raise AnalyzerError(
                f"no tool named {name!r}",
                code="UNKNOWN_TOOL",
                suggestion="List the tools (tools/list): " + ", ".join(TOOLS_BY_NAME) + ".",
            )
        return answer(services, caller.tenant, spec, arguments)
    except AnalyzerError as exc:
        return error_result(exc)
    except Exception:
        log.exception("MCP tool failed", extra={"tool": name})
        return error_result(
            AnalyzerError(
                "the analyzer failed on this call; the failure is logged",
                code="INTERNAL",
                suggestion="Retry; if it persists, report the time of the call.",
                status=500,
            )
        )


def answer(services: Services, tenant: str, spec: ToolSpec, arguments: dict[str, Any]) -> types.CallToolResult:
    max_tokens = _max_tokens(arguments.pop("max_tokens", MAX_TOKENS_DEFAULT))
    token = arguments.pop("cursor", None)
    offset = 0
    if token is not None:
        if arguments:
            raise AnalyzerError(
                "a cursor carries its question; other arguments cannot change it",
                code="INVALID_CURSOR",
                suggestion="Pass only cursor (and max_tokens), or start a new question without it.",
                details={"parameter": ", ".join(sorted(arguments))},
            )
        cursor = Cursor.decode(str(token), spec.name)
        arguments, offset = cursor.arguments, cursor.offset
    params = spec.parse(arguments)
    outcome = spec.run(services, tenant, params)
    draft = outcome.draft
    totals = {c.name: len(c.items) for c in draft.cuttable}
    if token is not None and draft.cuttable:
        # a page of evidence: the conclusion came with the first answer, nothing is repeated
        first = draft.cuttable[0]
        first.items = first.items[offset:]
        totals = {first.name: totals[first.name]}
        draft.cuttable, draft.order, draft.short_text = [first], None, None
        draft.core = {k: v for k, v in draft.core.items() if k == "metadata"}
        draft.text = (
            f"{spec.name}: {first.name} from {offset + 1} of {totals[first.name]}, for the same"
            " question as the answer that gave this cursor."
        )
    replay = {**arguments, **outcome.pin}

    def finish(
        text: str, structured: dict[str, Any], kept: dict[str, int], short: bool
    ) -> tuple[str, dict[str, Any]]:
        shown = offset + next(iter(kept.values()), 0)
        more = bool(draft.cuttable) and shown < next(iter(totals.values()))
        next_cursor = Cursor(spec.name, replay, shown).encode() if more else None
        block = truncation(outcome, kept, totals, offset=offset, short=short,
                           max_tokens=max_tokens, next_cursor=next_cursor, page=token is not None)
        block["answer_tokens"], block["over_budget"] = max_tokens, False  # sized, set below
        return text + footer(spec.name, block, totals), {**structured, "truncation": block}

    fitted = fit(draft, max_tokens, finish)
    structured = fitted.structured
    structured["truncation"]["answer_tokens"] = fitted.tokens
    structured["truncation"]["over_budget"] = fitted.over_budget
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=fitted.text)],
        structured_content=structured,
    )


def error_result(exc: AnalyzerError) -> types.CallToolResult:
    body = exc.to_dict()
    text = f"error [{exc.code}]: {exc.message}\nsuggestion: {exc.suggestion}"
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=body,
        is_error=True,
    )


def _max_tokens(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
        MAX_TOKENS_MIN <= value <= MAX_TOKENS_MAX
    ):
        raise AnalyzerError(
            f"invalid value for 'max_tokens': {value!r}",
            code="INVALID_PARAMETER",
            suggestion=f"An integer from {MAX_TOKENS_MIN} to {MAX_TOKENS_MAX}"
            f" (default {MAX_TOKENS_DEFAULT}).",
            details={"parameter": "max_tokens"},
        )
    return value

