"""API keys, tenants, scopes and rate limits for every endpoint: `@require("query")`.

Sets `g.principal` (the key's name, tenants, scopes; None in open mode) and `g.tenant` (the Loki
tenant this request acts for: `X-Scope-OrgID` when the key holds it, else the key's first).
With no keys file the service is open, but only to loopback clients.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from analyzer.errors import Forbidden, RateLimited, Unauthorized
from analyzer.infra import metrics
from analyzer.infra.keys import Principal
from analyzer.infra.ratelimit import Decision
from analyzer.web.context import services

F = TypeVar("F", bound=Callable[..., Any])

# requests per hour by limit group when neither the key nor the settings say otherwise;
# Grafana panels refresh often, so the datasource gets far more than the agent API
DEFAULT_GROUP_LIMITS = {"datasource": 36000, "webhook": 3600, "admin": 1000}


def presented_key() -> str | None:
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def authenticate(scope: str) -> Principal | None:
    """The principal for this request, or None in open mode. Raises 401/403."""
    svc = services()
    if svc.keys is None:
        if not _is_loopback(request.remote_addr):
            raise Unauthorized(
                "this analyzer has no API keys configured and only answers loopback clients",
                suggestion="Set AI_LOGS_API_KEYS_FILE and create a key with `ai-logs keys create`.",
            )
        return None
    key = presented_key()
    if not key:
        raise Unauthorized("no API key in X-API-Key or Authorization: Bearer")
    principal = svc.keys.lookup(key)
    if principal is None:
        raise Unauthorized("the API key is not valid")
    if scope not in principal.scopes and "admin" not in principal.scopes:
        raise Forbidden(
            f"key '{principal.name}' lacks the '{scope}' scope",
            suggestion=f"Use a key created with --scope {scope}.",
        )
    return principal


def resolve_tenant(principal: Principal | None) -> str:
    asked = request.headers.get("X-Scope-OrgID")
    default = services().settings.default_tenant
    if principal is None:
        return asked or default
    if asked:
        if asked in principal.tenants or "*" in principal.tenants:
            return asked
        raise Forbidden(
            f"key '{principal.name}' may not read tenant '{asked}'",
            suggestion="Ask for one of the key's tenants, or use a key created for this tenant.",
        )
    if principal.tenants and principal.tenants[0] != "*":
        return principal.tenants[0]
    return default


def apply_rate_limit(principal: Principal | None, group: str) -> None:
    """Count the request against its key's limit for `group`.

    Open mode (no keys file, loopback only) is one local user: not limited unless
    AI_LOGS_OPEN_MODE_RATE_LIMIT says so, so nobody locks themselves out of their own
    analyzer. With keys every request counts, answers from the cache included: the limit
    protects the key's share of the service, and a hit is cheap but not free.
    """
    svc = services()
    settings = svc.settings
    if principal is None and svc.keys is None:
        if settings.open_mode_rate_limit <= 0:
            return
        decision = svc.limiter.hit(f"addr:{request.remote_addr}", group,
                                   settings.open_mode_rate_limit)  # fmt: skip
        _enforce(decision, group)
        return
    limit = (
        (principal.limits.get(group) or principal.limits.get("default") if principal else None)
        or settings.rate_limits.get(group)
        or DEFAULT_GROUP_LIMITS.get(group)
        or settings.rate_limit_per_hour
    )
    identity = principal.identity if principal else f"addr:{request.remote_addr}"
    _enforce(svc.limiter.hit(identity, group, int(limit)), group)


def _enforce(decision: Decision, group: str) -> None:
    g.ratelimit = decision
    if not decision.allowed:
        metrics.RATE_LIMITED.labels(endpoint=group).inc()
        raise RateLimited(
            f"rate limit of {decision.limit} requests per hour reached for '{group}'",
            headers=decision.headers(),
        )


def require(scope: str, *, limit_group: str | None = None) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate(scope)
            g.principal = principal
            apply_rate_limit(principal, limit_group or scope)
            g.tenant = resolve_tenant(principal)
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]  # read by /openapi.json
        return wrapper  # type: ignore[return-value]

    return decorate
