"""Where logs come from. `open_source(settings)` picks Loki when configured, else files."""

from __future__ import annotations

from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.sources.base import FetchResult, LogSource

__all__ = ["FetchResult", "LogSource", "open_source"]


def open_source(settings: Settings) -> LogSource:
    if settings.loki_url:
        from analyzer.infra.breaker import CircuitBreaker
        from analyzer.sources.loki import LokiSource
        from analyzer.sources.loki_auth import LokiAuth, tls_context

        return LokiSource(
            settings.loki_url,
            timeout=settings.loki_timeout,
            retries=settings.loki_retries,
            page_size=settings.loki_page_size,
            default_tenant=settings.default_tenant,
            selector=settings.loki_selector,
            max_query_bytes=settings.loki_max_query_bytes,
            service_label=settings.loki_service_label,
            auth=LokiAuth(
                username=settings.loki_username,
                password=settings.loki_password,
                bearer_token=settings.loki_bearer_token,
                bearer_token_file=settings.loki_bearer_token_file,
                header=settings.loki_auth_header,
            ),
            tls=tls_context(
                ca_cert=settings.loki_ca_cert,
                cert=settings.loki_client_cert,
                key=settings.loki_client_key,
                skip_verify=settings.loki_tls_skip_verify,
            ),
            breaker=CircuitBreaker(
                "Loki",
                failures=settings.loki_breaker_failures,
                reset_seconds=settings.loki_breaker_reset,
            ),
            propagate_trace=settings.trace_propagation,
        )
    from analyzer.sources.files import FileSource
    from analyzer.sources.formats import FormatRules

    return FileSource(
        settings.source_path or str(SAMPLE_LOGS_DIR),
        clock=settings.file_clock,
        formats=FormatRules.from_settings(settings.formats),
    )
