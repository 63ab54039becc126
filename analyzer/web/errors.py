"""Every error leaves as JSON `{"error": {"code","message","suggestion"}}`; no traceback ever."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from analyzer.errors import AnalyzerError
from analyzer.services import Services

log = logging.getLogger("analyzer.web")

_HTTP_CODES = {
    400: ("BAD_REQUEST", "Check the request against /openapi.json."),
    404: ("NOT_FOUND", "Check the path; GET /openapi.json lists the endpoints."),
    405: ("METHOD_NOT_ALLOWED", "Use one of the methods in the Allow header."),
    413: ("PAYLOAD_TOO_LARGE", "Send a smaller body."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Send Content-Type: application/json."),
}


def error_response(exc: AnalyzerError) -> Response:
    """The error as JSON, PII-masked: messages echo what the caller sent (ids, paths)."""
    from analyzer.infra.privacy import mask

    response = jsonify(mask(exc.to_dict()))
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _count(code: str) -> None:
    from analyzer.infra import metrics

    metrics.ERRORS.labels(error_type=code, endpoint=request.endpoint or "unknown").inc()


def register(app: Flask, services: Services) -> None:
    @app.errorhandler(AnalyzerError)
    def _analyzer_error(exc: AnalyzerError) -> Response:
        _count(exc.code)
        if exc.status >= 500:
            log.warning("request failed", extra={"code": exc.code, "error": exc.message})
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code, suggestion = _HTTP_CODES.get(status, ("HTTP_ERROR", "Check the request."))
        message = exc.description or exc.name
        if status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        elif status == 404:
            message = f"no endpoint at {request.path}"
        _count(code)
        response = error_response(
            AnalyzerError(message, code=code, suggestion=suggestion, status=status)
        )
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(RedisError)
    def _store_down(exc: RedisError) -> Response:
        # a store read that has no fallback (analyses, registry): the caller may retry
        log.warning("redis unavailable", extra={"path": request.path, "error": str(exc)})
        _count("STORE_UNAVAILABLE")
        return error_response(
            AnalyzerError(
                "the analyzer's store (Redis) is unavailable",
                code="STORE_UNAVAILABLE",
                status=503,
                suggestion="Retry shortly; check REDIS_URL and that Redis answers (GET /readyz).",
                headers={"Retry-After": "5"},
            )
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error", extra={"path": request.path})
        _count("INTERNAL")
        return error_response(
            AnalyzerError(
                "the analyzer failed on this request; the failure is logged with its request id",
                code="INTERNAL",
                suggestion="Retry; if it persists, report the X-Correlation-ID of this response.",
                status=500,
            )
        )
