"""Loki ruler rules: what the dashboards and alerts rely on, and pattern filters that agree with
the analyzer's catalog on its own examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = [r for p in sorted((ROOT / "ruler_rules").glob("*/*.yaml"))
         for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"]]
RECORDED = {r["record"]: r["expr"] for r in RULES if "record" in r}
ALERTS = {r["alert"]: r for r in RULES if "alert" in r}
CATALOG = {p["name"]: p for p in yaml.safe_load(
    (ROOT / "analyzer/analysis/catalog.yaml").read_text())["patterns"]}
PATTERN_RULES = {r["labels"]["pattern"]: r["expr"] for r in RULES
                 if r.get("record") == "service:pattern_lines:rate5m"}


def test_rules_live_in_the_tenant_folder_loki_reads_without_auth() -> None:
    assert {p.parent.name for p in (ROOT / "ruler_rules").glob("*/*.yaml")} == {"fake"}


def test_error_rate_is_recorded_by_service_and_level() -> None:
    assert "by (service, level)" in RECORDED["service_level:log_lines:rate1m"]
    assert "by (service)" in RECORDED["service:log_error_ratio:rate5m"]


def test_ai_tokens_are_summed_from_the_unwrapped_field_by_model_and_workspace() -> None:
    expr = RECORDED["model_workspace:ai_tokens:sum5m"]
    assert "by (model, workspace_id)" in expr and "unwrap tokens_used" in expr


@pytest.mark.parametrize("quantile, name", [("0.5", "p50"), ("0.95", "p95")])
def test_request_duration_quantiles_by_model(quantile: str, name: str) -> None:
    expr = RECORDED[f"model:ai_request_duration_seconds:{name}_5m"]
    assert expr.startswith(f"quantile_over_time({quantile},") and "unwrap duration" in expr
    assert expr.endswith("by (model)")


@pytest.mark.parametrize("alert", ["HighServiceErrorRate", "WorkspaceTokenBudgetBurn",
                                   "ModelTimeoutSpike", "OutOfMemory",
                                   "AuthenticationFailureSpike"])
def test_alerts_carry_for_severity_and_runbook_url(alert: str) -> None:
    rule = ALERTS[alert]
    assert rule["for"] and rule["labels"]["severity"] in {"warning", "critical"}
    assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
    assert "runbook" not in rule["annotations"]  # Grafana renders runbook_url as a link


def _filters(expr: str) -> tuple[re.Pattern[str], list[re.Pattern[str]]]:
    keep = re.search(r"\|~ `([^`]*)`", expr).group(1)
    drop = re.findall(r"!~ `([^`]*)`", expr)
    return re.compile(keep), [re.compile(d) for d in drop]


def _matches(expr: str, line: str) -> bool:
    keep, drop = _filters(expr)
    return bool(keep.search(line)) and not any(d.search(line) for d in drop)


@pytest.mark.parametrize("pattern", sorted(PATTERN_RULES))
def test_pattern_filter_matches_the_catalog_examples(pattern: str) -> None:
    examples = CATALOG[pattern]["examples"]
    assert all(_matches(PATTERN_RULES[pattern], line) for line in examples["match"])


@pytest.mark.parametrize("pattern", sorted(PATTERN_RULES))
def test_pattern_filter_ignores_the_catalog_counter_examples(pattern: str) -> None:
    examples = CATALOG[pattern]["examples"]
    assert not any(_matches(PATTERN_RULES[pattern], line) for line in examples.get("no_match", []))


def test_the_critical_catalog_patterns_have_a_rule() -> None:
    assert {"connection_timeout", "connection_refused", "out_of_memory", "model_timeout",
            "token_limit_exceeded", "auth_failure", "rate_limit_exceeded",
            "db_connection_pool"} <= set(PATTERN_RULES)
