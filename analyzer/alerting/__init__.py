"""The Grafana alert pipeline's own vocabulary: notifications, analysis ids, what an alert's
analysis reads (`scope`), its stored record (`records`), the report data (`report`) and its
stores (`stores`). Web handlers and the worker both build on these; neither imports the other."""

from analyzer.alerting.notification import (
    Alert,
    Notification,
    PayloadError,
    alert_key,
    parse_notification,
)
from analyzer.alerting.scope import (
    AlertWindow,
    alert_ids,
    alert_query,
    alert_services,
    analysis_window,
    began_after_alert,
    focus_on_alert,
)

__all__ = [
    "Alert",
    "AlertWindow",
    "Notification",
    "PayloadError",
    "alert_ids",
    "alert_key",
    "alert_query",
    "alert_services",
    "analysis_window",
    "began_after_alert",
    "focus_on_alert",
    "parse_notification",
]
