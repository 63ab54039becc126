"""Answer a Query: cache, then source.fetch, pipeline.analyze, presentation.

The HTTP API, the Grafana datasource, the alert worker and the CLI all come through here, so
caching and metadata behave the same everywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from analyzer.analysis import anchors
from analyzer.analysis.catalog import load_catalog
from analyzer.analysis.evidence import EvidenceSample, merge
from analyzer.analysis.pipeline import Analysis, analyze
from analyzer.infra import metrics
from analyzer.infra.cache import get_or_compute
from analyzer.model import NS_PER_SECOND, Query, TimeRange, format_timestamp, now_ns
from analyzer.services import Services
from analyzer.sources.base import WindowRead

log = logging.getLogger(__name__)


def resolve_window(services: Services, query: Query) -> TimeRange:
    if query.start is not None and query.end is not None:
        return query.window()  # absolute: the source's clock is not asked (files would be probed)
    return query.window(now=services.source.now_ns())


def fetch_and_analyze(
    services: Services, query: Query, *, tenant: str | None, window: TimeRange | None = None
) -> Analysis:
    """Read the window's profile and evidence, then a narrow second read around anchors (the
    requests that failed first, lines asked context for), then analyse."""
    update: dict[str, Any] = {}
    if window is not None:
        update.update(window.edges())
    if query.expand_dependencies:
        update["services"] = []
    read_query = query.model_copy(update=update) if update else query
    source = services.source
    read = source.read_window(read_query, tenant=tenant)
    context = None
    found = anchors.choose(read.evidence, query)
    if found:
        context = _read_context(services, read, found, tenant)
    meta: dict[str, Any] = {"source": source.name}
    if query.verbosity.value == "detailed":
        meta["logql"] = read.queries
        if read.stats:
            meta["source_stats"] = read.stats
    catalog = load_catalog(services.settings.patterns_file)
    return analyze(read, query, catalog=catalog, context=context, source_metadata=meta)


def _read_context(
    services: Services, read: WindowRead, found: anchors.Anchors, tenant: str | None
) -> EvidenceSample:
    source = services.source
    parts = []
    if found.request_spans and not read.requests_read:
        parts.append(
            source.read_around(
                read.plan,
                found.request_spans,
                ids={"correlation_id": found.correlation_ids},
                tenant=tenant,
            )
        )
    if found.context_spans:
        parts.append(source.read_around(read.plan, found.context_spans, tenant=tenant))
    return merge(*parts)


def remember_patterns(services: Services, analysis: Analysis, *, tenant: str | None) -> None:
    """Detected patterns go to the registry; a registry failure never fails the answer."""
    registry = services.extras.get("pattern_registry")
    if registry is None or not services.settings.pattern_detection:
        return
    from analyzer.infra.registry import record_detections

    try:
        record_detections(registry, analysis, tenant=tenant or services.settings.default_tenant)
    except Exception:
        log.warning("pattern registry unavailable; detections not recorded", exc_info=True)


def cache_key(query: Query, tenant: str | None, window: TimeRange, bucket_seconds: int) -> str:
    """Tenant + normalised query + time bucket: "last 1h" refreshed every 10 s hits the cache."""
    normal = query.model_dump(mode="json", exclude={"cache", "start", "end"})
    for name in ("services", "highlight", "exclude_patterns"):
        normal[name] = sorted(normal[name])
    if query.is_relative and query.start is None:
        anchor = window.end_ns // (bucket_seconds * NS_PER_SECOND)
        normal["window"] = f"rel:{query.time_range}:{anchor}"
    else:
        normal["window"] = f"abs:{window.start_ns}:{window.end_ns}"
    digest = hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:32]
    return f"ai-logs:query:{tenant or '-'}:{digest}"


def run_query(
    services: Services, query: Query, *, tenant: str | None, window: TimeRange | None = None
) -> dict[str, Any]:
    """The structured analysis body (summary, logs, insights, metadata), never cached."""
    started = time.perf_counter()
    analysis = fetch_and_analyze(services, query, tenant=tenant, window=window)
    metrics.LOGS_PROCESSED.labels(source=services.source.name).inc(analysis.profile.lines_read)
    remember_patterns(services, analysis, tenant=tenant)
    body = analysis.to_dict()
    body["metadata"].update(
        {
            "query_time": _rfc3339_now(),
            "from_cache": False,
            "execution_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )
    return body


def present(services: Services, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    """What callers receive: PII masked and, when asked, the narrative or timeline text."""
    from analyzer import narrate
    from analyzer.infra.privacy import mask

    if query.format.value != "structured":
        body[query.format.value] = narrate.render(
            "query",
            body,
            fmt=query.format.value,
            verbosity=query.verbosity.value,
            grafana_url=services.settings.grafana_url,
            loki_uid=services.settings.grafana_loki_uid,
        )
    return mask(body)


def respond(services: Services, query: Query, *, tenant: str | None) -> dict[str, Any]:
    return json.loads(respond_json(services, query, tenant=tenant)[0])


def respond_json(services: Services, query: Query, *, tenant: str | None) -> tuple[str, bool]:
    """The presented body as JSON text, and whether it came from the cache.

    The cache holds the finished text (masked, narrated) with the metadata apart, so a hit costs
    one lookup and a splice of the small metadata object: no parse or re-encode of the logs.
    """
    started = time.perf_counter()
    settings = services.settings
    cache = services.cache if query.cache else None
    window = resolve_window(services, query)  # once: the key's time bucket and the fetch share it
    key = cache_key(query, tenant, window, settings.cache_bucket_seconds)
    def compute() -> str:
        body = present(services, query, run_query(services, query, tenant=tenant, window=window))
        meta = body.pop("metadata")
        return json.dumps(meta, default=str) + "\n" + json.dumps(body, default=str, ensure_ascii=False)

    if cache is None:
        cached, hit = compute(), False
    else:  # one computation per key however many requests miss it at once
        ttl = settings.cache_ttl if query.is_relative else settings.cache_ttl_absolute
        cached, hit = get_or_compute(cache, key, ttl, compute, wait=settings.max_query_time)
    meta_text, _, body_text = cached.partition("\n")
    meta = json.loads(meta_text)
    if hit:
        meta["from_cache"] = True
        meta["execution_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return _splice(body_text, meta), hit


def _splice(body_text: str, meta: dict[str, Any]) -> str:
    return body_text[:-1] + ', "metadata": ' + json.dumps(meta, default=str) + "}"


def _rfc3339_now() -> str:
    return format_timestamp(now_ns())
