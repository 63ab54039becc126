"""`/api/v1/ai_logs/patterns` endpoints and the Loki ruler rule export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analyzer.analysis.rule_export import template_regex
from analyzer.app import create_app
from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.infra.registry import Detection
from analyzer.lint.grammar import check_logql
from analyzer.services import build_services
from analyzer.sources.loki import LokiSource

BASE = "/api/v1/ai_logs/patterns"
NASTY_LINE = 'user "bob" said \\ (a|b)* [c] $ {d}? ^x+ 5.0 `tick` \'q\' \n\t done'


@pytest.fixture
def app(tmp_path: Path):
    settings = Settings(source_path=str(SAMPLE_LOGS_DIR), data_dir=str(tmp_path))
    return create_app(settings, services=build_services(settings))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def refreshed(client) -> list[dict]:
    body = client.get(f"{BASE}?refresh=true&time_range=7d&per_page=200").get_json()
    return body["patterns"]


def test_refresh_records_the_catalog_patterns_found_in_the_logs(refreshed: list[dict]) -> None:
    types = {p["pattern_type"] for p in refreshed}
    assert {"connection_refused", "token_limit_exceeded", "auth_failure"} <= types
    entry = next(p for p in refreshed if p["pattern_type"] == "connection_refused")
    assert entry["occurrence_count"] > 0 and entry["affected_services"]
    assert entry["first_seen"] <= entry["last_seen"] and 1 <= len(entry["sample_logs"]) <= 5
    assert entry["resolved"] is False and entry["suggestion"]


def test_list_filters_by_severity_and_service_and_pages(client, refreshed: list[dict]) -> None:
    errors = client.get(f"{BASE}?severity=error&per_page=200").get_json()
    assert errors["total"] >= 1 and all(p["severity"] == "error" for p in errors["patterns"])
    api = client.get(f"{BASE}?service=api&per_page=200").get_json()
    assert all("api" in p["affected_services"] for p in api["patterns"])
    page2 = client.get(f"{BASE}?per_page=2&page=2").get_json()
    assert page2["total"] == len(refreshed) and page2["page"] == 2
    assert [p["id"] for p in page2["patterns"]] == [p["id"] for p in refreshed[2:4]]


def test_patch_resolves_with_notes_and_the_filter_finds_it(client, refreshed: list[dict]) -> None:
    pid = refreshed[0]["id"]
    answer = client.patch(f"{BASE}/{pid}", json={"resolved": True, "resolution_notes": "scaled redis"})
    assert answer.status_code == 200
    assert answer.get_json()["resolved"] is True and answer.get_json()["resolution_notes"] == "scaled redis"
    resolved = client.get(f"{BASE}?resolved=true").get_json()
    assert [p["id"] for p in resolved["patterns"]] == [pid]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"{BASE}?bogus=1", 400, "UNKNOWN_PARAMETER"),
        (f"{BASE}?per_page=0", 400, "INVALID_PARAMETER"),
        (f"{BASE}/not-an-id", 400, "INVALID_PATTERN_ID"),
        (f"{BASE}/0123456789abcdef", 404, "PATTERN_NOT_FOUND"),
        (f"{BASE}/0123456789abcdef/rule", 404, "PATTERN_NOT_FOUND"),
    ],
)
def test_bad_requests_get_a_coded_error_with_a_suggestion(client, path: str, status: int, code: str) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error["code"] == code and error["suggestion"]


def test_rule_is_a_loki_rule_group_with_valid_logql(client, refreshed: list[dict]) -> None:
    entry = next(p for p in refreshed if p["pattern_type"] == "connection_refused")
    answer = client.get(f"{BASE}/{entry['id']}/rule?threshold=10&interval=5m")
    assert answer.status_code == 200 and answer.mimetype == "application/yaml"
    group = yaml.safe_load(answer.get_data(as_text=True))
    rule = group["rules"][0]
    assert rule["expr"].endswith("> 10")
    assert rule["annotations"]["suggestion"] == entry["suggestion"]
    checked = check_logql([rule["expr"]])[0]
    assert checked.ok, checked.errors
    assert checked.selector_labels == ["service"]
    assert all(s in rule["expr"] for s in entry["affected_services"])


def _nasty_entry(app) -> str:
    registry = app.extensions["ai_logs"].extras["pattern_registry"]
    found = Detection(
        pattern_type="novel_message", severity="error", count=3, first_seen_ns=1, last_seen_ns=2,
        services=['api"} |= "x', "worker"], samples=[NASTY_LINE], regex=template_regex(NASTY_LINE + " <*>"),
        suggestion='say "hi" \\ {{ $labels.service }}',
    )
    return registry.record("fake", found).id


def test_pattern_text_full_of_quotes_backslashes_and_metacharacters_stays_one_literal(app, client) -> None:
    pid = _nasty_entry(app)
    group = yaml.safe_load(client.get(f"{BASE}/{pid}/rule").get_data(as_text=True))
    expr = group["rules"][0]["expr"]
    checked = check_logql([expr])[0]
    assert checked.ok, checked.errors
    # one selector label and one line filter: nothing in the text escaped its string literal
    assert checked.selector_labels == ["service"] and len(checked.regexes) == 2  # selector =~ and |~
    line_regex = checked.regexes[-1]
    assert re.search(line_regex, NASTY_LINE + " trailing")
    assert not re.search(line_regex, NASTY_LINE.replace("(a|b)*", "a"))


def test_post_to_a_ruler_on_local_storage_returns_409_with_the_yaml_and_where_to_put_it(
    tmp_path: Path, local_storage_ruler
) -> None:
    settings = Settings(source_path=str(SAMPLE_LOGS_DIR), data_dir=str(tmp_path))
    services = build_services(settings, source=LokiSource(local_storage_ruler.url, retries=0))
    app = create_app(settings, services=services)
    pid = _nasty_entry(app)
    answer = app.test_client().post(f"{BASE}/{pid}/rule", json={"namespace": "llm-alerts"})
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "RULER_READ_ONLY" and "local" in error["message"]
    assert error["details"]["path"] == "ruler_rules/fake/"
    assert yaml.safe_load(error["details"]["yaml"])["rules"][0]["alert"] == "NovelMessageRate"
    sent = local_storage_ruler.received[0]
    assert sent["path"] == "/loki/api/v1/rules/llm-alerts"
    assert sent["body"] == error["details"]["yaml"]


def test_post_without_loki_says_there_is_no_ruler_and_gives_the_yaml(app, client) -> None:
    pid = _nasty_entry(app)
    answer = client.post(f"{BASE}/{pid}/rule", json={})
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "RULER_UNAVAILABLE" and "groups" not in error["details"]["yaml"]
    assert yaml.safe_load(error["details"]["yaml"])["name"].startswith("ai-logs-pattern-")
