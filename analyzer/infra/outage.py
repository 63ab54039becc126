"""Redis is away: which errors say so, and a short pause before it is asked again.

A refused connection costs little, but a host that drops packets costs the whole connect timeout
on every call; after one failure the job queue and the results store go straight to their local
fallbacks for `pause` seconds, then try Redis again.
"""

from __future__ import annotations

import time

# Redis answers these while it cannot serve: loading its data, unable to persist, a replica.
_UNAVAILABLE_REPLIES = ("LOADING", "MISCONF", "READONLY", "MASTERDOWN")


def is_redis_outage(exc: BaseException) -> bool:
    import redis

    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(_UNAVAILABLE_REPLIES)


class Outage:
    def __init__(self, pause: float = 1.0) -> None:
        self.pause = pause
        self._until = 0.0

    @property
    def suspected(self) -> bool:
        return time.monotonic() < self._until

    def failed(self) -> None:
        self._until = time.monotonic() + self.pause
