"""Grafana alert notifications: the alerts they carry and the id of each alert's analysis.

Pure functions over the webhook body, so the web layer, the worker and the tests agree on what an
alert means. One job per alert: a grouped notification of three alerts makes three analyses,
because each alert has its own labels (services), start time and life cycle (resolved apart).

An analysis id belongs to one tenant: the same fingerprint and start posted by two tenants are two
analyses, so one tenant can neither pre-empt another's alert nor learn that it exists.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from analyzer.model import LATEST, instant_ns

# Grafana writes the zero time of Go for an alert that has not ended.
_ZERO_TIME = "0001-01-01T00:00:00Z"
# Loki takes nanosecond epochs in an int64: a later start cannot be read (the same bound as
# every other time the service takes, so /openapi.json states one limit).
_LATEST_NS = int(LATEST.timestamp()) * 1_000_000_000
_URL_MAX = 2048


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

    def analysis_id(self, tenant: str) -> str:
        """A Grafana retry or repeat of the same firing maps to the same id, in one tenant."""
        return alert_key(tenant, self.fingerprint, self.starts_at)

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


def alert_key(tenant: str, fingerprint: str, starts_at: str) -> str:
    digest = hashlib.sha256(f"{tenant}\n{fingerprint}\n{starts_at}".encode()).hexdigest()
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
        external_url=_browser_url(body.get("externalURL")),
    )


def _parse_alert(item: object, index: int) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object")
    if isinstance(item.get("status"), dict | list):  # an empty one too: the document says text
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved', not an object or a list")
    status = str(item.get("status") or "firing").lower()
    if status not in {"firing", "resolved"}:
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved', not {status!r}")
    labels = _string_map(item.get("labels"), f"{where}.labels")
    annotations = _string_map(item.get("annotations"), f"{where}.annotations")
    starts_at = str(item.get("startsAt") or "")
    try:
        starts_ns = instant_ns(starts_at)
    except (ValueError, OverflowError) as exc:
        raise PayloadError(f"{where}.startsAt is not an RFC 3339 time: {starts_at[:40]!r}") from exc
    if starts_ns > _LATEST_NS:
        raise PayloadError(f"{where}.startsAt must be before the year 2262, not {starts_at[:40]!r}")
    ends_at = str(item.get("endsAt") or "") or None
    if ends_at and (ends_at.startswith(_ZERO_TIME[:4]) or status == "firing"):
        ends_at = None  # Go's zero time, or the predicted end Alertmanager puts on firing alerts
    if ends_at:
        try:
            instant_ns(ends_at)
        except (ValueError, OverflowError) as exc:
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


def _browser_url(value: object) -> str:
    """Grafana's `externalURL` (its root URL as a browser reaches it) when it is a plain http(s)
    URL; anything else is dropped, since it ends up in links on the report page."""
    text = str(value or "").strip()
    parts = urlparse(text)
    if len(text) > _URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    if any(c.isspace() or ord(c) < 32 for c in text):
        return ""
    return text.rstrip("/")
