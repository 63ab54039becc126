"""The parts a running analyzer is made of, built once and shared by web, CLI and worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.config import Settings
from analyzer.sources.base import LogSource


@dataclass
class Services:
    settings: Settings
    source: LogSource
    redis: Any | None = None  # redis.Redis when REDIS_URL is set
    cache: Any | None = None  # infra.cache.Cache
    limiter: Any | None = None  # infra.ratelimit.RateLimiter
    keys: Any | None = None  # infra.keys.KeyStore, None in open mode
    extras: dict[str, Any] = field(default_factory=dict)  # results, jobs, registry, ...


def build_services(settings: Settings, *, source: LogSource | None = None) -> Services:
    from analyzer.infra.cache import open_cache
    from analyzer.infra.keys import open_key_store
    from analyzer.infra.privacy import keep_url_prefixes
    from analyzer.infra.ratelimit import open_rate_limiter
    from analyzer.infra.redis_client import open_redis
    from analyzer.sources import open_source

    # the analyzer's own host (report links) and the Loki it reads (errors name it) are
    # configuration, not personal data
    keep_url_prefixes(settings.public_url, settings.loki_url)
    redis = open_redis(settings.redis_url)
    return Services(
        settings=settings,
        source=source or open_source(settings),
        redis=redis,
        cache=open_cache(settings, redis),
        limiter=open_rate_limiter(settings, redis),
        keys=open_key_store(settings),
    )
