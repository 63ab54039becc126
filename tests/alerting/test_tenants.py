"""One tenant's alerts are its own: ids, duplicates, resolutions and the Loki reads they cause.

Two teams each give their Grafana contact point a webhook key of their own tenant (`ai-logs keys
create ... --tenant T --scope webhook`) and read analyses with a query key. Payloads:
tests/fixtures/grafana_webhook/ (see its README), aimed at the demo incident or, for the Loki
reads, at the recorded Loki's error lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_helpers import INCIDENT_END, load_payload, retarget

from analyzer.infra.keys import KeyStore


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    store = KeyStore(str(tmp_path / "keys.yaml"))
    return {
        "path": str(store.path),
        "a-hook": store.add("a-hook", ["team-a"], ["webhook"]),
        "b-hook": store.add("b-hook", ["team-b"], ["webhook"]),
        "a-reader": store.add("a-reader", ["team-a"], ["query"]),
        "b-reader": store.add("b-reader", ["team-b"], ["query"]),
        "both-hook": store.add("both-hook", ["team-a", "team-b"], ["webhook"]),
    }


def firing() -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})


def resolved() -> dict:
    return retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"},
                    status="resolved", ends_at=INCIDENT_END)


def as_key(key: str, **headers: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {key}", **headers}}


def test_another_tenant_posting_the_alert_first_does_not_make_ours_a_duplicate(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"])
    squatter = app.post_alerts(firing(), **as_key(keys["b-hook"])).get_json()

    ours = app.post_alerts(firing(), **as_key(keys["a-hook"])).get_json()

    assert ours["duplicate"] is False and ours["alerts"][0]["outcome"] == "queued"
    assert ours["analysis_id"] != squatter["analysis_id"]
    record = app.client.get(f"/api/v1/ai_logs/analyses/{ours['analysis_id']}", **as_key(keys["a-reader"]))
    assert record.status_code == 200 and record.get_json()["job_id"] == ours["job_id"]


def test_a_tenant_cannot_learn_that_another_tenants_alert_exists(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"])
    ours = app.post_alerts(firing(), **as_key(keys["a-hook"])).get_json()

    probe = app.post_alerts(firing(), **as_key(keys["b-hook"])).get_json()

    assert probe["duplicate"] is False
    peek = app.client.get(f"/api/v1/ai_logs/analyses/{ours['analysis_id']}", **as_key(keys["b-reader"]))
    assert peek.status_code == 404
    assert app.client.get(f"/reports/{ours['analysis_id']}", **as_key(keys["b-reader"])).status_code == 404


def test_another_tenant_cannot_resolve_our_analysis(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"])
    ours = app.post_alerts(firing(), **as_key(keys["a-hook"])).get_json()

    attempt = app.post_alerts(resolved(), **as_key(keys["b-hook"])).get_json()

    assert attempt["alerts"][0]["outcome"] == "ignored"
    record = app.client.get(f"/api/v1/ai_logs/analyses/{ours['analysis_id']}", **as_key(keys["a-reader"]))
    assert record.get_json()["resolved"] is False
    assert app.post_alerts(resolved(), **as_key(keys["a-hook"])).get_json()["alerts"][0]["outcome"] == "resolved"


def test_a_webhook_key_cannot_choose_another_tenant(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"])
    answer = app.post_alerts(firing(), **as_key(keys["a-hook"], **{"X-Scope-OrgID": "team-b"}))
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "TENANT_MISMATCH"
    same = app.post_alerts(firing(), **as_key(keys["a-hook"], **{"X-Scope-OrgID": "team-a"}))
    assert same.status_code == 202


def test_a_webhook_key_of_several_tenants_is_refused(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"])
    answer = app.post_alerts(firing(), **as_key(keys["both-hook"], **{"X-Scope-OrgID": "team-a"}))
    assert answer.status_code == 403
    error = answer.get_json()["error"]
    assert error["code"] == "WEBHOOK_TENANT_AMBIGUOUS" and "--scope webhook" in error["suggestion"]


def test_the_single_webhook_credential_writes_to_the_default_tenant(make_app) -> None:
    app = make_app(webhook_auth="Bearer s3cret-token", default_tenant="ops")
    token = {"Authorization": "Bearer s3cret-token"}
    chosen = app.post_alerts(firing(), headers={**token, "X-Scope-OrgID": "team-b"})
    assert chosen.status_code == 403 and chosen.get_json()["error"]["code"] == "TENANT_MISMATCH"
    accepted = app.post_alerts(firing(), headers=token).get_json()
    assert accepted["analysis_id"] == app.services.extras["results"].get(accepted["analysis_id"])["id"]
    assert app.services.extras["results"].get(accepted["analysis_id"])["tenant"] == "ops"


def test_with_keys_and_the_single_credential_both_work_each_for_its_tenant(make_app, keys) -> None:
    app = make_app(api_keys_file=keys["path"], webhook_auth="Bearer s3cret-token", default_tenant="ops")
    by_env = app.post_alerts(firing(), headers={"Authorization": "Bearer s3cret-token"}).get_json()
    by_key = app.post_alerts(firing(), **as_key(keys["a-hook"])).get_json()
    results = app.services.extras["results"]
    assert results.get(by_env["analysis_id"])["tenant"] == "ops"
    assert results.get(by_key["analysis_id"])["tenant"] == "team-a"
    assert app.post_alerts(firing(), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_worker_reads_loki_only_as_the_alerts_tenant(make_app, keys, recorded_loki) -> None:
    app = make_app(api_keys_file=keys["path"], loki_url=recorded_loki.url, source_path=None)
    alert = retarget(load_payload("alerting_single_firing.json"), starts_at="2026-11-24T05:20:00Z",
                     labels={"service": "api"}, status=None)
    accepted = app.post_alerts(alert, **as_key(keys["a-hook"])).get_json()

    assert app.drain() == ["done"]

    tenants = {r.headers.get("x-scope-orgid") for r in recorded_loki.requests}
    assert tenants == {"team-a"}
    record = app.client.get(f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}", **as_key(keys["a-reader"]))
    assert record.get_json()["result"]["summary"]["total_records"] > 0
