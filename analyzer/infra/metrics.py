"""The analyzer's own Prometheus metrics, correct under gunicorn with several workers.

With PROMETHEUS_MULTIPROC_DIR set (the Dockerfile sets it) each worker writes its samples to
files and `/metrics` aggregates them; otherwise the default registry serves one process.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

QUERIES = Counter("ai_logs_queries", "Analyses answered.", ["mode", "cache_hit"])
QUERY_DURATION = Histogram(
    "ai_logs_query_duration_seconds",
    "Time to answer an analysis.",
    ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter(
    "ai_logs_errors", "Errors answered, by code and endpoint.", ["error_type", "endpoint"]
)
PATTERNS_DETECTED = Counter(
    "ai_logs_patterns_detected", "Named patterns detected.", ["pattern_type", "severity"]
)
LOGS_PROCESSED = Counter("ai_logs_records_processed", "Log records analysed.", ["source"])
WEBHOOKS = Counter("ai_logs_webhooks", "Alert webhooks received.", ["status"])
JOBS = Counter("ai_logs_jobs", "Analysis jobs finished.", ["status"])
RATE_LIMITED = Counter("ai_logs_rate_limited", "Requests refused by the rate limit.", ["endpoint"])


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
