"""Values for dashboard variables, ad-hoc filter values and payload drop-downs, for the panel's
time range.

Over Loki, labels come from `label/<name>/values` with the window (Loki answers from its index;
the services' label is the tenant's `service` or `service_name`). Over files, from the file
source's index of label values. Ids such as `conversation_id` and `workspace_id` are structured
metadata, which no label API lists: they are read from the window's lines (newest first, at most
`READ_LIMIT`).
"""

from __future__ import annotations

from analyzer.model import NS_PER_SECOND, Query, Severity, TimeRange, parse_duration
from analyzer.services import Services

LOOKBACK = "24h"  # the window when a request sends none (payload drop-downs)
READ_LIMIT = 50_000  # lines read for the values of a field no label API lists


def lookback_window(svc: Services) -> TimeRange:
    end = svc.source.now_ns()
    return TimeRange(end - parse_duration(LOOKBACK) * NS_PER_SECOND, end)


def tag_values_for(
    svc: Services, key: str, tenant: str, window: TimeRange | None = None
) -> list[str]:
    """Values of one ad-hoc filter key in `window` (the last day when none): the Grafana
    endpoint and the MCP tool share it."""
    from analyzer.web.datasource.catalog import ADHOC_KEYS, unknown_filter_key

    if key not in ADHOC_KEYS:
        raise unknown_filter_key(key)
    return values_of(svc, tenant, key, window or lookback_window(svc))


def values_of(svc: Services, tenant: str, name: str, window: TimeRange) -> list[str]:
    """Distinct values of a record attribute (`service`, `level`, `model`, an id) in `window`."""
    from analyzer.sources.loki import LokiSource

    source = svc.source
    if isinstance(source, LokiSource):
        label = source.service_label(tenant) if name == "service" else name
        found = source.label_values(
            label, tenant=tenant, start_ns=window.start_ns, end_ns=window.end_ns
        )
    elif name == "service":
        found = source.services(tenant=tenant)
    else:
        found = source.label_values(name, tenant=tenant)
    if found:
        return sorted(found)
    if name == "level":
        return [s.label for s in Severity]
    return _values_from_lines(svc, tenant, name, window)


def _values_from_lines(svc: Services, tenant: str, name: str, window: TimeRange) -> list[str]:
    query = Query(**window.edges(), limit=10_000, cache=False)
    fetched = svc.source.fetch(query, tenant=tenant, limit=READ_LIMIT)
    return sorted({str(v) for r in fetched.records if (v := getattr(r, name, None))})
