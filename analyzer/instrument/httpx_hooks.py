"""Propagating the current correlation id on outgoing httpx calls.

`httpx.Client(event_hooks=client_hooks())` or `httpx.AsyncClient(event_hooks=async_client_hooks())`.
An id the caller already set on the request is kept.
"""

from __future__ import annotations

from typing import Any

import httpx

from analyzer.instrument.context import HEADER, get_correlation_id


def propagate_correlation_id(request: httpx.Request) -> None:
    cid = get_correlation_id()
    if cid and HEADER not in request.headers:
        request.headers[HEADER] = cid


async def apropagate_correlation_id(request: httpx.Request) -> None:
    propagate_correlation_id(request)


def client_hooks() -> dict[str, list[Any]]:
    return {"request": [propagate_correlation_id]}


def async_client_hooks() -> dict[str, list[Any]]:
    return {"request": [apropagate_correlation_id]}
