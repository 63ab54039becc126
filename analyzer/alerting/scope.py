"""What an alert's analysis reads, and which of its findings the alert's story may tell as cause.

The window runs from `lookback` before the alert fired to its end (or now), but never longer than
`max_window`: an alert that has fired since 2021 is analysed over the day around its start, not
five years, and the answer says the window was cut. Findings that began after the alert fired
cannot be what set it off; they are kept, marked `after_alert`, and told after the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analyzer.alerting.notification import Alert
from analyzer.model import (
    NS_PER_SECOND,
    Mode,
    Query,
    TimeRange,
    format_timestamp,
    instant_ns,
    parse_duration,
)

# Labels that name the services to read, most specific first (Loki, Kubernetes, Prometheus).
SERVICE_LABELS = ("service", "service_name", "app", "app_kubernetes_io_name", "container", "job")
# Labels that carry an id the analysis should follow; the first spelling found wins.
ID_LABELS = {
    "workspace_id": ("workspace_id", "workspace"),
    "correlation_id": ("correlation_id",),
    "conversation_id": ("conversation_id",),
    "session_id": ("session_id",),
    "user_id": ("user_id",),
}
_SAFE_LABEL_VALUE = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
# A finding this long after the alert fired is later than the alert: log and rule-evaluation
# clocks differ by a few seconds, and lines are stamped when shipped when they carry no time.
AFTER_ALERT_GRACE_NS = 60 * NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class AlertWindow:
    start_ns: int
    end_ns: int
    wanted_end_ns: int  # where the window would end without the cap
    max_window: str

    @property
    def capped(self) -> bool:
        return self.wanted_end_ns > self.end_ns

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": format_timestamp(self.start_ns),
            "end": format_timestamp(self.end_ns),
            "capped": self.capped,
            "max_window": self.max_window,
        }
        if self.capped:
            out["uncapped_end"] = format_timestamp(self.wanted_end_ns)
        return out


def alert_services(alert: Alert) -> list[str]:
    """Services named by the alert's labels; `a|b` regex alternations are split."""
    found: list[str] = []
    for label in SERVICE_LABELS:
        value = alert.labels.get(label, "")
        for part in re.split(r"[|,]", value):
            part = part.strip()
            if part and _SAFE_LABEL_VALUE.match(part) and part not in found:
                found.append(part)
        if found:
            break
    return found


def alert_ids(alert: Alert) -> dict[str, str]:
    ids: dict[str, str] = {}
    for field_name, labels in ID_LABELS.items():
        for label in labels:
            value = alert.labels.get(label, "").strip()
            if value and len(value) <= 64 and _SAFE_LABEL_VALUE.match(value):
                ids[field_name] = value
                break
    return ids


def analysis_window(
    alert: Alert,
    *,
    lookback: str,
    now_ns: int,
    resolved_at_ns: int | None = None,
    max_window: str = "24h",
) -> AlertWindow:
    """From startsAt minus the lookback to now (or to the end of a resolved alert), at most
    `max_window` long.

    When the clock is before the alert (a replayed log file, a skewed host), the window still
    covers the lookback on both sides of the start, so there is always something to read.
    """
    longest = parse_duration(max_window) * NS_PER_SECOND
    span = min(parse_duration(lookback) * NS_PER_SECOND, longest)
    start = alert.starts_ns - span
    end = resolved_at_ns or now_ns
    if end <= alert.starts_ns:
        end = alert.starts_ns + span
    return AlertWindow(start, min(end, start + longest), end, max_window)


def alert_query(alert: Alert, window: AlertWindow) -> Query:
    return Query(
        mode=Mode.TROUBLESHOOT,
        services=alert_services(alert),
        **TimeRange(window.start_ns, window.end_ns).edges(),
        cache=False,
        expand_dependencies=True,
        **alert_ids(alert),
    )


def began_after_alert(insight: dict[str, Any], starts_ns: int) -> bool:
    first = (insight.get("evidence") or {}).get("first_seen")
    if not first:
        return False  # a window-wide finding has no start of its own
    try:
        return instant_ns(first) > starts_ns + AFTER_ALERT_GRACE_NS
    except ValueError:
        return False


def focus_on_alert(insights: list[dict[str, Any]], starts_ns: int) -> list[dict[str, Any]]:
    """The alert's own story first: findings that began before the alert fired (the root cause
    whose evidence is nearest that moment leading when the window holds several), then those that
    began after it, marked `after_alert`. Each group keeps its rank order otherwise."""
    earlier = [i for i in insights if not began_after_alert(i, starts_ns)]
    later = [{**i, "after_alert": True} for i in insights if began_after_alert(i, starts_ns)]
    causes = [i for i in earlier if i.get("kind") == "root_cause"]
    if len(causes) > 1:
        lead = min(causes, key=lambda i: _distance(i, starts_ns))
        earlier = [lead, *(i for i in earlier if i is not lead)]
    return earlier + later


def _distance(insight: dict[str, Any], starts_ns: int) -> int:
    evidence = insight.get("evidence") or {}
    try:
        first, last = instant_ns(evidence["first_seen"]), instant_ns(evidence["last_seen"])
    except (KeyError, ValueError):
        return 2**63
    return 0 if first <= starts_ns <= last else min(abs(starts_ns - first), abs(starts_ns - last))
