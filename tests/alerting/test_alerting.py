"""What an alert notification means for the analysis: ids, services, window, Grafana targets.

Payloads: tests/fixtures/grafana_webhook/ (see its README): Grafana's documented webhook example
(grafana/grafana docs, webhook-notifier.md) and the webhook notifier test's message
(grafana/alerting receivers/webhook/v1/webhook_test.go), both verbatim.
"""

from __future__ import annotations

import pytest
from alert_helpers import load_payload, retarget

from analyzer.alerting import (
    PayloadError,
    alert_query,
    alert_services,
    analysis_window,
    focus_on_alert,
    parse_notification,
)
from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns


def test_grouped_notification_makes_one_alert_per_entry() -> None:
    notification = parse_notification(load_payload("docs_grouped_firing.json"))
    assert [a.name for a in notification.alerts] == ["High memory usage", "High CPU usage"]
    assert notification.org_id == 1
    assert all(a.ends_at is None for a in notification.alerts)  # Go's zero time means "not ended"


def test_same_fingerprint_and_start_give_the_same_analysis_id() -> None:
    first = parse_notification(load_payload("docs_grouped_firing.json")).alerts[0]
    again = parse_notification(load_payload("docs_grouped_firing.json")).alerts[0]
    later = parse_notification(
        retarget(load_payload("docs_grouped_firing.json"), starts_at="2021-10-12T10:51:03Z")
    ).alerts[0]
    assert first.analysis_id("team-a") == again.analysis_id("team-a")
    assert first.analysis_id("team-a") != later.analysis_id("team-a")  # a new firing is a new analysis


def test_the_same_alert_in_two_tenants_is_two_analyses() -> None:
    alert = parse_notification(load_payload("docs_grouped_firing.json")).alerts[0]
    assert alert.analysis_id("team-a") != alert.analysis_id("team-b")


def test_an_external_url_that_is_not_http_is_dropped() -> None:
    payload = load_payload("docs_grouped_firing.json")
    assert parse_notification(payload).external_url == "https://play.grafana.org"
    payload["externalURL"] = "javascript:alert(1)//"
    assert parse_notification(payload).external_url == ""


def test_dashboard_and_panel_come_from_grafanas_urls() -> None:
    alert = parse_notification(retarget(load_payload("alerting_single_firing.json"), panel_id=2)).alerts[0]
    assert alert.dashboard_uid == "abcd"
    assert alert.panel_id == 2


def test_a_non_numeric_panel_is_left_out() -> None:
    alert = parse_notification(load_payload("alerting_single_firing.json")).alerts[0]
    assert alert.dashboard_uid == "abcd"
    assert alert.panel_id is None  # the notifier test's panel "efgh" is no panel id


def test_service_labels_become_service_filters() -> None:
    payload = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api|worker"})
    assert alert_services(parse_notification(payload).alerts[0]) == ["api", "worker"]


def test_labels_without_a_service_read_every_service() -> None:
    alert = parse_notification(load_payload("docs_grouped_firing.json")).alerts[0]
    assert alert_services(alert) == []


def test_workspace_label_becomes_the_workspace_filter() -> None:
    payload = retarget(load_payload("alerting_single_firing.json"), labels={"workspace": "ws-marketing"})
    alert = parse_notification(payload).alerts[0]
    query = alert_query(alert, analysis_window(alert, lookback="30m", now_ns=instant_ns("2026-11-24T09:00:00Z")))
    assert query.workspace_id == "ws-marketing"


def test_window_runs_from_start_minus_lookback_to_now() -> None:
    alert = parse_notification(retarget(load_payload("alerting_single_firing.json"))).alerts[0]
    now = alert.starts_ns + 600 * NS_PER_SECOND
    window = analysis_window(alert, lookback="30m", now_ns=now)
    assert window.start_ns == alert.starts_ns - 1800 * NS_PER_SECOND
    assert window.end_ns == now
    assert window.capped is False


def test_window_of_a_resolved_alert_ends_at_its_end() -> None:
    alert = parse_notification(retarget(load_payload("alerting_single_firing.json"))).alerts[0]
    resolved = alert.starts_ns + 300 * NS_PER_SECOND
    window = analysis_window(alert, lookback="30m", now_ns=alert.starts_ns + 3600 * NS_PER_SECOND,
                             resolved_at_ns=resolved)
    assert window.end_ns == resolved


def test_window_of_an_alert_firing_for_years_is_cut_to_the_longest_allowed() -> None:
    alert = parse_notification(
        retarget(load_payload("alerting_single_firing.json"), starts_at="2021-10-12T09:51:03Z")
    ).alerts[0]
    now = instant_ns("2026-11-24T09:00:00Z")
    window = analysis_window(alert, lookback="30m", now_ns=now, max_window="24h")
    assert window.start_ns == alert.starts_ns - 1800 * NS_PER_SECOND
    assert window.end_ns - window.start_ns == 24 * 3600 * NS_PER_SECOND
    assert window.capped is True
    assert window.to_dict()["uncapped_end"] == format_timestamp(now)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "JSON object"),
        ({"alerts": []}, "non-empty"),
        ({"alerts": [{"status": "pending", "startsAt": "2021-10-12T09:51:03Z"}]}, "status"),
        ({"alerts": [{"status": "firing", "startsAt": "yesterday"}]}, "startsAt"),
    ],
)
def test_malformed_notifications_are_refused_with_the_reason(body: object, fragment: str) -> None:
    with pytest.raises(PayloadError, match=fragment):
        parse_notification(body)


def _insight(kind: str, service: str, first_s: int, last_s: int) -> dict:
    return {"kind": kind, "title": f"{service} {kind}", "service": service,
            "evidence": {"first_seen": format_timestamp(first_s * NS_PER_SECOND),
                         "last_seen": format_timestamp(last_s * NS_PER_SECOND)}}


def test_the_root_cause_of_the_alerts_own_incident_leads() -> None:
    earlier, own = _insight("root_cause", "admin-ui", 100, 400), _insight("root_cause", "redis", 1000, 1300)
    pattern = {"kind": "pattern", "title": "p", "evidence": {}}
    ordered = focus_on_alert([earlier, pattern, own], starts_ns=1100 * NS_PER_SECOND)
    assert [i.get("service") for i in ordered] == ["redis", "admin-ui", None]


def test_a_single_root_cause_keeps_its_place() -> None:
    only = [_insight("pattern", "api", 10, 20), _insight("root_cause", "redis", 10, 20)]
    assert focus_on_alert(only, starts_ns=30 * NS_PER_SECOND) == only


def test_findings_that_began_after_the_alert_fired_come_last_and_are_marked() -> None:
    later = _insight("root_cause", "admin-ui", 5000, 5400)
    own = _insight("root_cause", "redis", 1000, 1300)
    ordered = focus_on_alert([later, own], starts_ns=1100 * NS_PER_SECOND)
    assert [i["service"] for i in ordered] == ["redis", "admin-ui"]
    assert [i.get("after_alert", False) for i in ordered] == [False, True]
