"""Errors that reach a caller. Each carries what a person or agent needs to act on it.

Raised anywhere (sources, analysis, infra); `web.errors` turns them into
`{"error": {"code", "message", "suggestion"}}` and the CLI into a one-line message.
"""

from __future__ import annotations

from typing import Any


class AnalyzerError(Exception):
    status = 400
    code = "BAD_REQUEST"
    suggestion = "Check the request against /openapi.json."

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        suggestion: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if suggestion:
            self.suggestion = suggestion
        if status:
            self.status = status
        self.details = details or {}
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "suggestion": self.suggestion,
        }
        if self.details:
            body["details"] = self.details
        return {"error": body}


class InvalidParameter(AnalyzerError):
    code = "INVALID_PARAMETER"


class BadQuery(AnalyzerError):
    """Loki (or our own LogQL check) rejected the query."""

    code = "BAD_QUERY"
    suggestion = "Fix the LogQL expression; Loki's message says where it failed."


class NotFound(AnalyzerError):
    status = 404
    code = "NOT_FOUND"
    suggestion = "Check the id or path; GET /openapi.json lists the endpoints."


class Unauthorized(AnalyzerError):
    status = 401
    code = "UNAUTHORIZED"
    suggestion = "Send a valid API key in X-API-Key or Authorization: Bearer."


class Forbidden(AnalyzerError):
    status = 403
    code = "FORBIDDEN"
    suggestion = "Use a key that holds this tenant and scope (ai-logs keys create)."


class RateLimited(AnalyzerError):
    status = 429
    code = "RATE_LIMITED"
    suggestion = "Wait for Retry-After seconds, or enable the cache to reuse results."


class SourceUnavailable(AnalyzerError):
    status = 503
    code = "LOKI_UNAVAILABLE"
    suggestion = "Check LOKI_URL and that Loki answers /ready; retry shortly."


class QueryTimeout(AnalyzerError):
    status = 504
    code = "QUERY_TIMEOUT"
    suggestion = "Narrow the time range or add service filters, then retry."
