"""Where logs come from. `open_source(settings)` picks Loki when configured, else files."""

from __future__ import annotations

from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.sources.base import FetchResult, LogSource

__all__ = ["FetchResult", "LogSource", "open_source"]


def open_source(settings: Settings) -> LogSource:
    if settings.loki_url:
        from analyzer.sources.loki import LokiSource

        return LokiSource(
            settings.loki_url,
            timeout=settings.loki_timeout,
            retries=settings.loki_retries,
            page_size=settings.loki_page_size,
            default_tenant=settings.default_tenant,
            selector=settings.loki_selector,
        )
    from analyzer.sources.files import FileSource
    from analyzer.sources.formats import FormatRules

    return FileSource(
        settings.source_path or str(SAMPLE_LOGS_DIR),
        clock=settings.file_clock,
        formats=FormatRules.from_settings(settings.formats),
    )
