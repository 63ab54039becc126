"""Links that reopen evidence in Grafana Explore."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

NS_PER_MS = 1_000_000
DEFAULT_LOKI_UID = "loki"


def explore_url(
    grafana_url: str,
    logql: str,
    start_ns: int,
    end_ns: int,
    datasource_uid: str | None = None,
) -> str:
    """Grafana 10+ Explore URL (`schemaVersion=1&panes=`), one pane running `logql` over the
    window in milliseconds."""
    uid = datasource_uid or DEFAULT_LOKI_UID
    pane = {
        "datasource": uid,
        "queries": [
            {
                "refId": "A",
                "expr": logql,
                "queryType": "range",
                "datasource": {"type": "loki", "uid": uid},
                "editorMode": "code",
            }
        ],
        "range": {"from": str(start_ns // NS_PER_MS), "to": str(-(-end_ns // NS_PER_MS))},
    }
    panes = json.dumps({"ev": pane}, separators=(",", ":"), sort_keys=True)
    query = urlencode({"schemaVersion": "1", "panes": panes, "orgId": "1"}, quote_via=quote)
    return f"{grafana_url.rstrip('/')}/explore?{query}"
