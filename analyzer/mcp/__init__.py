"""The Model Context Protocol server: analyses for agents, over stdio and streamable HTTP.

`build_server(services)` is the SDK server with our tools, resources and prompts;
`serve_stdio` runs it for one local agent (`ai-logs mcp`); `analyzer.mcp.http` mounts it at
`POST /mcp` in the service, behind the same keys, tenants and rate limits as the HTTP API.
"""

from analyzer.mcp.server import Caller, build_server, serve_stdio

__all__ = ["Caller", "build_server", "serve_stdio"]
