"""Links that leave the analyzer open in a browser: the report on the public URL, Explore on the
Grafana the alert came from, neither rewritten by the masking of personal data.

Addresses are the documentation ranges of RFC 5737 (192.0.2.0/24, 203.0.113.0/24), as a
deployment reached by IP would have them. Payload: tests/fixtures/grafana_webhook/
alerting_single_firing.json (see its README) aimed at the demo incident.
"""

from __future__ import annotations

from alert_helpers import load_payload, retarget

PUBLIC = "http://192.0.2.10:8080"
GRAFANA_FOR_BROWSERS = "http://203.0.113.7:3000"


def firing() -> dict:
    payload = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    payload["externalURL"] = GRAFANA_FOR_BROWSERS + "/"
    return payload


def test_the_annotation_links_the_report_on_the_public_url_unmasked(make_app, grafana) -> None:
    app = make_app(grafana_url=grafana.url, grafana_token="glsa_test", public_url=PUBLIC)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    app.drain()

    [posted] = grafana.annotations("POST")
    assert f'<a href="{PUBLIC}/reports/{analysis_id}">' in posted["json"]["text"]
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["report_url"] == f"{PUBLIC}/reports/{analysis_id}"
    listed = app.client.get("/api/v1/ai_logs/analyses").get_json()["analyses"]
    assert listed[0]["report_url"] == f"{PUBLIC}/reports/{analysis_id}"


def test_without_a_public_url_the_report_link_is_the_address_grafana_called(make_app, grafana) -> None:
    app = make_app(grafana_url=grafana.url)
    analysis_id = app.post_alerts(firing(), base_url="http://192.0.2.20:8080").get_json()["analysis_id"]
    app.drain()

    [posted] = grafana.annotations("POST")
    assert f'href="http://192.0.2.20:8080/reports/{analysis_id}"' in posted["json"]["text"]


def test_explore_links_go_to_the_grafana_of_the_alert_not_the_internal_one(make_app, grafana) -> None:
    app = make_app(grafana_url="http://grafana:3000", public_url=PUBLIC)
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    app.drain()

    page = app.client.get(f"/reports/{analysis_id}").get_data(as_text=True)
    assert f'href="{GRAFANA_FOR_BROWSERS}/explore?' in page
    assert "http://grafana:3000/explore" not in page
    assert app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()["grafana_url"] == GRAFANA_FOR_BROWSERS


def test_without_an_external_url_explore_links_use_grafana_url(make_app) -> None:
    app = make_app(grafana_url="http://203.0.113.9:3000")
    payload = firing()
    del payload["externalURL"]
    analysis_id = app.post_alerts(payload).get_json()["analysis_id"]
    app.drain()

    page = app.client.get(f"/reports/{analysis_id}").get_data(as_text=True)
    assert 'href="http://203.0.113.9:3000/explore?' in page
