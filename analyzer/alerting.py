"""Grafana alert notifications -> what to analyse: the alerts, their ids, filters and window.

Pure functions over the webhook body, so the web layer, the worker and the tests agree on what an
alert means. One job per alert: a grouped notification of three alerts makes three analyses,
because each alert has its own labels (services), start time and life cycle (resolved apart).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from analyzer.analysis.insight import Insight
from analyzer.model import (
    NS_PER_SECOND,
    Mode,
    Query,
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
# Grafana writes the zero time of Go for an alert that has not ended.
_ZERO_TIME = "0001-01-01T00:00:00Z"
_SAFE_LABEL_VALUE = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


class PayloadError(ValueError):
    """The body is not a Grafana alerting notification."""


@dataclass(frozen=True, slots=True)
class Alert:
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str | None
    fingerprint: str
    generator_url: str = ""
    dashboard_url: str = ""
    panel_url: str = ""
    silence_url: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or self.annotations.get("summary") or "alert"

    @property
    def key(self) -> str:
        """The analysis id: a Grafana retry or repeat of the same firing maps to the same id."""
        return alert_key(self.fingerprint, self.starts_at)

    @property
    def starts_ns(self) -> int:
        return instant_ns(self.starts_at)

    @property
    def ends_ns(self) -> int | None:
        return instant_ns(self.ends_at) if self.ends_at else None

    @property
    def dashboard_uid(self) -> str | None:
        return self.annotations.get("__dashboardUid__") or _dashboard_uid(self.dashboard_url)

    @property
    def panel_id(self) -> int | None:
        raw = self.annotations.get("__panelId__") or _query_value(self.panel_url, "viewPanel")
        # `viewPanel=2` before Grafana 11, `viewPanel=panel-2` since
        found = re.fullmatch(r"(?:panel-)?(\d+)", raw or "")
        return int(found.group(1)) if found else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Notification:
    receiver: str
    status: str
    org_id: int | None
    alerts: list[Alert]
    group_key: str = ""
    external_url: str = ""


def alert_key(fingerprint: str, starts_at: str) -> str:
    digest = hashlib.sha256(f"{fingerprint}\n{starts_at}".encode()).hexdigest()
    return f"an_{digest[:24]}"


def parse_notification(body: object) -> Notification:
    """Validate the parts we rely on; keep the rest of Grafana's fields as they came."""
    if not isinstance(body, dict):
        raise PayloadError("the body must be a JSON object")
    raw_alerts = body.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise PayloadError("'alerts' must be a non-empty list")
    alerts = [_parse_alert(item, i) for i, item in enumerate(raw_alerts)]
    org = body.get("orgId")
    return Notification(
        receiver=str(body.get("receiver") or ""),
        status=str(body.get("status") or alerts[0].status),
        org_id=int(org) if isinstance(org, int | float) else None,
        alerts=alerts,
        group_key=str(body.get("groupKey") or ""),
        external_url=str(body.get("externalURL") or ""),
    )


def _parse_alert(item: object, index: int) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object")
    status = str(item.get("status") or "firing").lower()
    if status not in {"firing", "resolved"}:
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved', not {status!r}")
    labels = _string_map(item.get("labels"), f"{where}.labels")
    annotations = _string_map(item.get("annotations"), f"{where}.annotations")
    starts_at = str(item.get("startsAt") or "")
    try:
        instant_ns(starts_at)
    except ValueError as exc:
        raise PayloadError(f"{where}.startsAt is not an RFC 3339 time: {starts_at!r}") from exc
    ends_at = str(item.get("endsAt") or "") or None
    if ends_at and (ends_at.startswith(_ZERO_TIME[:4]) or status == "firing"):
        ends_at = None  # Go's zero time, or the predicted end Alertmanager puts on firing alerts
    if ends_at:
        try:
            instant_ns(ends_at)
        except ValueError as exc:
            raise PayloadError(f"{where}.endsAt is not an RFC 3339 time: {ends_at!r}") from exc
    fingerprint = str(item.get("fingerprint") or "") or _labels_fingerprint(labels)
    values = item.get("values") if isinstance(item.get("values"), dict) else {}
    return Alert(
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        fingerprint=fingerprint,
        generator_url=str(item.get("generatorURL") or ""),
        dashboard_url=str(item.get("dashboardURL") or ""),
        panel_url=str(item.get("panelURL") or ""),
        silence_url=str(item.get("silenceURL") or ""),
        values=dict(values or {}),
    )


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of strings")
    return {str(k): str(v) for k, v in value.items()}


def _labels_fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager derives the fingerprint from the label set; do the same when it is missing."""
    text = "\xff".join(f"{k}\xff{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _dashboard_uid(url: str) -> str | None:
    match = re.search(r"/d/([^/?#]+)", url or "")
    return match.group(1) if match else None


def _query_value(url: str, name: str) -> str | None:
    if not url:
        return None
    values = parse_qs(urlparse(url).query).get(name)
    return values[0] if values else None


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
    alert: Alert, *, lookback: str, now_ns: int, resolved_at_ns: int | None = None
) -> tuple[int, int]:
    """From startsAt minus the lookback to now (or to the end of a resolved alert).

    When the clock is before the alert (a replayed log file, a skewed host), the window still
    covers the lookback on both sides of the start, so there is always something to read.
    """
    span = parse_duration(lookback) * NS_PER_SECOND
    start = alert.starts_ns - span
    end = resolved_at_ns or now_ns
    if end <= alert.starts_ns:
        end = alert.starts_ns + span
    return start, end


def alert_query(
    alert: Alert, *, lookback: str, now_ns: int, resolved_at_ns: int | None = None
) -> Query:
    start, end = analysis_window(alert, lookback=lookback, now_ns=now_ns, resolved_at_ns=resolved_at_ns)
    return Query(
        mode=Mode.TROUBLESHOOT,
        services=alert_services(alert),
        start=format_timestamp(start),
        end=format_timestamp(end),
        cache=False,
        expand_dependencies=True,
        **alert_ids(alert),
    )


def focus_on_alert(insights: list[Insight], starts_ns: int) -> list[Insight]:
    """With several incidents in the window, the alert's own comes first: the root cause whose
    evidence is nearest the moment the alert fired leads, the rest keep their order."""
    causes = [i for i in insights if i.kind == "root_cause"]
    if len(causes) < 2:
        return insights

    def distance(insight: Insight) -> int:
        first, last = insight.evidence.first_seen_ns, insight.evidence.last_seen_ns
        return 0 if first <= starts_ns <= last else min(abs(starts_ns - first), abs(starts_ns - last))

    lead = min(causes, key=distance)
    return [lead, *(i for i in insights if i is not lead)]
