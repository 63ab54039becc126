"""Sliding-window rate limits per key and endpoint.

Redis: one Lua script per request (sorted set of request times), so concurrent gunicorn workers
count atomically. Without Redis: the same algorithm in process memory.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Protocol

from analyzer.config import Settings

WINDOW_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest counted request leaves the window
    retry_after: int  # seconds to wait when not allowed

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter(Protocol):
    def hit(
        self, identity: str, endpoint: str, limit: int, window: int = WINDOW_SECONDS
    ) -> Decision: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(
        self, identity: str, endpoint: str, limit: int, window: int = WINDOW_SECONDS
    ) -> Decision:
        now = time.time()
        key = f"{identity}:{endpoint}"
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            oldest = hits[0] if hits else now
        reset = max(1, int(oldest + window - now + 0.999))
        return Decision(
            allowed, limit, max(0, limit - len(hits)), reset, reset if not allowed else 0
        )


_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local member = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, member)
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', key, math.ceil(window * 1000))
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local oldest_score = now
if oldest[2] then oldest_score = tonumber(oldest[2]) end
return {allowed, count, tostring(oldest_score)}
"""


class RedisRateLimiter:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._script = client.register_script(_SLIDING_WINDOW_LUA)
        self._fallback = MemoryRateLimiter()

    def hit(
        self, identity: str, endpoint: str, limit: int, window: int = WINDOW_SECONDS
    ) -> Decision:
        now = time.time()
        try:
            allowed, count, oldest = self._script(
                keys=[f"ai-logs:ratelimit:{identity}:{endpoint}"],
                args=[now, window, limit, f"{now:.6f}:{uuid.uuid4().hex[:8]}"],
            )
        except Exception:
            return self._fallback.hit(identity, endpoint, limit, window)
        reset = max(1, int(float(oldest) + window - now + 0.999))
        ok = bool(int(allowed))
        return Decision(ok, limit, max(0, limit - int(count)), reset, 0 if ok else reset)


def open_rate_limiter(settings: Settings, redis: Any | None) -> RateLimiter:
    return RedisRateLimiter(redis) if redis is not None else MemoryRateLimiter()
