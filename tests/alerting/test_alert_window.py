"""An alert's analysis reads a bounded window and tells the alert's own incident as its cause.

The bundled sample holds seven incidents 15 minutes apart (analyzer/sample_logs/ground_truth.json):
the cache outage (root cause redis) from 08:11:15, then anythingllm's from 08:26:15 on. The alert
is the Grafana notifier test's message (tests/fixtures/grafana_webhook/, see its README) aimed at
the first incident, resolved at 09:00 so that three later incidents fall in its window.
"""

from __future__ import annotations

import json
import re

from alert_helpers import load_payload, retarget

from analyzer.config import SAMPLE_LOGS_DIR
from analyzer.model import NS_PER_SECOND, instant_ns


def test_an_alert_firing_since_years_is_analysed_over_a_day_and_says_so(make_app) -> None:
    app = make_app(alert_max_window="24h")
    alert = retarget(load_payload("alerting_single_firing.json"), starts_at="2021-10-12T09:51:03Z",
                     labels={"service": "api"})
    analysis_id = app.post_alerts(alert).get_json()["analysis_id"]

    assert app.drain() == ["done"]

    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    window = record["window"]
    assert instant_ns(window["end"]) - instant_ns(window["start"]) == 24 * 3600 * NS_PER_SECOND
    assert window["capped"] is True and window["uncapped_end"].startswith("2026-11-24")
    assert record["result"]["metadata"]["alert_window"]["capped"] is True
    assert "the window was cut to 24h" in record["narrative"]
    page = app.client.get(f"/reports/{analysis_id}").get_data(as_text=True)
    assert "cut to 24h; the alert fired until 24 Nov 2026" in page


def test_incidents_that_began_after_the_alert_fired_are_told_as_later_not_as_its_cause(make_app) -> None:
    truth = json.loads((SAMPLE_LOGS_DIR / "ground_truth.json").read_text())["incidents"]
    app = make_app()
    alert = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    analysis_id = app.post_alerts(alert).get_json()["analysis_id"]
    app.post_alerts(retarget(alert, status="resolved", ends_at="2026-11-24T09:00:00Z"))

    assert app.drain() == ["done"]

    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    insights = record["result"]["insights"]
    fired = instant_ns("2026-11-24T08:12:00Z")
    later = [i for i in insights if instant_ns(i["evidence"]["first_seen"]) > fired + 60 * NS_PER_SECOND]
    assert later and all(i.get("after_alert") for i in later)
    assert insights.index(later[0]) == len(insights) - len(later)  # told after the others
    cause, after = record["narrative"].split("After the alert fired, not its cause:")
    assert f"its likely root cause is {truth[0]['root_cause_service']}" in cause
    assert not re.search(rf"{truth[1]['root_cause_service']}\S* (?:is|may be) [\w ]*root cause", cause)
    assert truth[1]["root_cause_service"] in after
    page = app.client.get(f"/reports/{analysis_id}").get_data(as_text=True)
    verdict = page[page.index('id="verdict"'):].split("</p>")[0]
    assert truth[0]["root_cause_service"] in verdict
    assert page.count("began after the alert fired") == len(later)
