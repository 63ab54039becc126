"""Correlation ids for WSGI apps (Flask: `app.wsgi_app = CorrelationIdMiddleware(app.wsgi_app)`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from analyzer.instrument.context import (
    HEADER,
    incoming_or_new,
    reset_correlation_id,
    set_correlation_id,
)

ENVIRON_KEY = "analyzer.correlation_id"


class _Body:
    """The response body; the id stays set until the body is drained or closed, so lines logged
    while a streamed body is produced carry it too."""

    def __init__(self, body: Iterable[bytes], token: Any) -> None:
        self._body = body
        self._token = token

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self._reset()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._reset()

    def _reset(self) -> None:
        if self._token is None:
            return
        token, self._token = self._token, None
        try:
            reset_correlation_id(token)
        except ValueError:
            # drained in another context than the one that set it (some servers and test
            # clients iterate the body elsewhere): clear the id rather than let it leak
            set_correlation_id(None)


class CorrelationIdMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], header: str = HEADER) -> None:
        self.app = app
        self.header = header
        self._environ_header = "HTTP_" + header.upper().replace("-", "_")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        cid = incoming_or_new(environ.get(self._environ_header))
        environ[ENVIRON_KEY] = cid
        token = set_correlation_id(cid)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != self.header.lower()]
            headers.append((self.header, cid))
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        try:
            body = self.app(environ, start)
        except BaseException:
            reset_correlation_id(token)
            raise
        return _Body(body, token)
