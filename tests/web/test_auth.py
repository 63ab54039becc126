"""API keys, scopes and tenant isolation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

URL = "/api/v1/ai_logs/query"


def test_request_without_a_key_is_a_401(keyed_client: FlaskClient) -> None:
    response = keyed_client.get(URL)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "UNAUTHORIZED"


def test_unknown_key_is_a_401(keyed_client: FlaskClient) -> None:
    response = keyed_client.get(URL, headers={"X-API-Key": "ailk_not-a-real-key"})
    assert response.status_code == 401


def test_key_in_x_api_key_is_accepted(keyed_client: FlaskClient, keys: dict[str, str]) -> None:
    assert keyed_client.get(URL, headers={"X-API-Key": keys["a"]}).status_code == 200


def test_key_as_bearer_token_is_accepted(keyed_client: FlaskClient, keys: dict[str, str]) -> None:
    response = keyed_client.get(URL, headers={"Authorization": f"Bearer {keys['a']}"})
    assert response.status_code == 200


def test_key_without_the_scope_is_a_403(keyed_client: FlaskClient, keys: dict[str, str]) -> None:
    response = keyed_client.get(URL, headers={"X-API-Key": keys["hook"]})
    assert response.status_code == 403
    assert "query" in response.get_json()["error"]["message"]


def test_key_asking_for_another_tenant_is_a_403(
    keyed_client: FlaskClient, keys: dict[str, str]
) -> None:
    response = keyed_client.get(URL, headers={"X-API-Key": keys["a"], "X-Scope-OrgID": "tenant-b"})
    assert response.status_code == 403
    assert "tenant-b" in response.get_json()["error"]["message"]


def test_key_asking_for_its_own_tenant_is_allowed(
    keyed_client: FlaskClient, keys: dict[str, str]
) -> None:
    response = keyed_client.get(URL, headers={"X-API-Key": keys["b"], "X-Scope-OrgID": "tenant-b"})
    assert response.status_code == 200


def test_tenants_do_not_share_cached_results(
    keyed_client: FlaskClient, keys: dict[str, str]
) -> None:
    first = keyed_client.get(URL, headers={"X-API-Key": keys["a"]}).get_json()
    other = keyed_client.get(URL, headers={"X-API-Key": keys["b"]}).get_json()
    again = keyed_client.get(URL, headers={"X-API-Key": keys["a"]}).get_json()
    assert first["metadata"]["from_cache"] is False
    assert other["metadata"]["from_cache"] is False
    assert again["metadata"]["from_cache"] is True


def test_keys_file_holds_only_hashes(keys: dict[str, str]) -> None:
    text = Path(keys["file"]).read_text()
    for name in ("a", "b", "hook"):
        assert keys[name] not in text
    entries = yaml.safe_load(text)["keys"]
    assert all(len(e["sha256"]) == 64 for e in entries)


def test_keys_never_appear_in_logs(
    keyed_client: FlaskClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keyed_client.get(URL, headers={"X-API-Key": keys["a"]})
    keyed_client.get(URL, headers={"Authorization": "Bearer ailk_wrong"})
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert keys["a"] not in logged
    assert "ailk_wrong" not in logged


def test_open_mode_refuses_non_loopback_clients(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    response = client.get(URL, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 401
    assert "AI_LOGS_API_KEYS_FILE" in response.get_json()["error"]["suggestion"]


def test_open_mode_answers_loopback_clients(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get(URL, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_key_named_by_environment_variable_is_accepted(
    make_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env-keys.yaml"
    path.write_text(
        "keys:\n  - name: grafana\n    key_env: TEST_GRAFANA_KEY\n    tenants: [fake]\n    scopes: [query]\n"
    )
    monkeypatch.setenv("TEST_GRAFANA_KEY", "ailk_from-a-secret")
    client = make_app(api_keys_file=str(path)).test_client()
    assert client.get(URL, headers={"X-API-Key": "ailk_from-a-secret"}).status_code == 200
    assert client.get(URL, headers={"X-API-Key": "ailk_other"}).status_code == 401
