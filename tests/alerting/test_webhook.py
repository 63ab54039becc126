"""`POST /webhooks/grafana`: store first, answer 202, never twice for the same alert.

Payloads: tests/fixtures/grafana_webhook/ (see its README): Grafana's documented webhook example
(grafana/grafana docs/sources/alerting/configure-notifications/manage-contact-points/integrations/
webhook-notifier.md) and the message of Grafana's webhook notifier test (grafana/alerting
receivers/webhook/v1/webhook_test.go, "with Authorization set"), verbatim in the files; the tests
change only startsAt/endsAt, status and a `service` label to aim them at the demo incident.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from pathlib import Path

import pytest
from alert_helpers import INCIDENT_END, load_payload, retarget


def firing(**labels: str) -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api", **labels})


def test_a_firing_alert_is_stored_then_answered_202_with_a_job_id(make_app) -> None:
    app = make_app()
    answer = app.post_alerts(firing())
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["job_id"].startswith("job_")
    assert body["duplicate"] is False
    assert body["alerts"][0]["queue"] == "spool"
    queue = app.services.extras["jobs"]
    assert queue.counts()["spool"] == {"ready": 1}
    record = app.client.get(f"/api/v1/ai_logs/analyses/{body['analysis_id']}").get_json()
    assert record["status"] == "queued"
    assert record["job_id"] == body["job_id"]
    assert record["alert"]["dashboard_uid"] == "abcd"


def test_with_redis_the_job_goes_to_the_stream(make_app, redis_url: str) -> None:
    app = make_app(redis_url=redis_url)
    body = app.post_alerts(firing()).get_json()
    assert body["alerts"][0]["queue"] == "redis"
    import redis

    entries = redis.Redis.from_url(redis_url).xrange("ai-logs:jobs")
    assert [json.loads(fields[b"job"])["id"] for _, fields in entries] == [body["job_id"]]


def test_a_grouped_notification_makes_one_job_per_alert(make_app) -> None:
    app = make_app()
    body = app.post_alerts(retarget(load_payload("docs_grouped_firing.json"))).get_json()
    assert [a["alertname"] for a in body["alerts"]] == ["High memory usage", "High CPU usage"]
    assert len({a["job_id"] for a in body["alerts"]}) == 2
    assert app.services.extras["jobs"].counts()["spool"] == {"ready": 2}


@pytest.mark.parametrize("backend", ["spool", "redis"])
def test_a_repeated_notification_answers_the_existing_job(make_app, request, backend: str) -> None:
    extra = {"redis_url": request.getfixturevalue("redis_url")} if backend == "redis" else {}
    app = make_app(**extra)
    first = app.post_alerts(firing()).get_json()
    again = app.post_alerts(firing())
    assert again.status_code == 202
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["job_id"] == first["job_id"]
    listed = app.client.get("/api/v1/ai_logs/analyses").get_json()
    assert listed["count"] == 1


def test_a_resolved_notification_closes_the_analysis(make_app) -> None:
    app = make_app()
    analysis_id = app.post_alerts(firing()).get_json()["analysis_id"]
    resolved = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"},
                        status="resolved", ends_at=INCIDENT_END)
    answer = app.post_alerts(resolved)
    assert answer.status_code == 202
    assert answer.get_json()["alerts"][0]["outcome"] == "resolved"
    record = app.client.get(f"/api/v1/ai_logs/analyses/{analysis_id}").get_json()
    assert record["resolved"] is True
    assert record["ends_at"] == INCIDENT_END


def test_a_resolved_alert_never_seen_firing_is_ignored(make_app) -> None:
    app = make_app()
    resolved = retarget(load_payload("alerting_single_firing.json"), status="resolved", ends_at=INCIDENT_END)
    body = app.post_alerts(resolved).get_json()
    assert body["alerts"][0]["outcome"] == "ignored"
    assert app.client.get("/api/v1/ai_logs/analyses").get_json()["count"] == 0


def test_an_invalid_payload_is_a_400_that_says_why(make_app) -> None:
    answer = make_app().post_alerts({"receiver": "x", "alerts": "none"})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert "alerts" in error["message"]


def test_when_no_store_takes_the_job_the_answer_is_503(make_app, tmp_path: Path) -> None:
    app = make_app()
    with sqlite3.connect(tmp_path / "data" / "jobs.sqlite3") as conn:
        conn.execute("DROP TABLE jobs")  # the spool is broken and there is no Redis
    answer = app.post_alerts(firing())
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "QUEUE_UNAVAILABLE"
    # nothing half-stored: Grafana's re-send must not be taken for a repeat
    assert app.client.get("/api/v1/ai_logs/analyses").get_json()["count"] == 0


# -- the contact point's credentials -----------------------------------------------------------


def test_bearer_credential_is_required_when_configured(make_app) -> None:
    app = make_app(webhook_auth="Bearer s3cret-token")
    assert app.post_alerts(firing()).status_code == 401
    wrong = app.post_alerts(firing(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = app.post_alerts(firing(), headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 202


def test_basic_auth_credential_is_accepted(make_app) -> None:
    app = make_app(webhook_auth="grafana:pa55word")
    token = base64.b64encode(b"grafana:pa55word").decode()
    assert app.post_alerts(firing(), headers={"Authorization": f"Basic {token}"}).status_code == 202
    bad = base64.b64encode(b"grafana:guess").decode()
    assert app.post_alerts(firing(), headers={"Authorization": f"Basic {bad}"}).status_code == 401


def _signed(body: bytes, secret: str, stamp: str | None = None) -> str:
    message = f"{stamp}:".encode() + body if stamp else body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("header", ["X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"])
def test_hmac_signature_of_the_body_is_verified(make_app, header: str) -> None:
    app = make_app(webhook_secret="hmac-secret")
    body = json.dumps(firing()).encode()
    good = app.client.post("/webhooks/grafana", data=body, content_type="application/json",
                           headers={header: _signed(body, "hmac-secret")})
    assert good.status_code == 202
    forged = app.client.post("/webhooks/grafana", data=body, content_type="application/json",
                             headers={header: _signed(body, "other-secret")})
    assert forged.status_code == 401
    assert forged.get_json()["error"]["code"] == "SIGNATURE_INVALID"


def test_unsigned_body_is_refused_when_a_secret_is_configured(make_app) -> None:
    answer = make_app(webhook_secret="hmac-secret").post_alerts(firing())
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "SIGNATURE_MISSING"


def test_timestamped_signature_covers_the_timestamp(make_app) -> None:
    app = make_app(webhook_secret="hmac-secret", webhook_timestamp_header="X-Grafana-Alerting-Timestamp")
    body = json.dumps(firing()).encode()
    stamp = str(int(time.time()))
    headers = {"X-Grafana-Alerting-Signature": _signed(body, "hmac-secret", stamp),
               "X-Grafana-Alerting-Timestamp": stamp}
    assert app.client.post("/webhooks/grafana", data=body, content_type="application/json",
                           headers=headers).status_code == 202
    stale = str(int(time.time()) - 3600)
    replay = {"X-Grafana-Alerting-Signature": _signed(body, "hmac-secret", stale),
              "X-Grafana-Alerting-Timestamp": stale}
    answer = app.client.post("/webhooks/grafana", data=body, content_type="application/json",
                             headers=replay)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "SIGNATURE_EXPIRED"
