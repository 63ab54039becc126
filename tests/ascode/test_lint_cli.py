"""`ai-logs lint` on the repository (clean) and on broken copies: each class of problem is
caught with file:line, and linting stops at the first failing class."""

from __future__ import annotations

import json
from pathlib import Path

RULES = Path("ruler_rules/fake/alerts.yaml")
RECORDING = Path("ruler_rules/fake/recording.yaml")
PROMTAIL = Path("promtail/promtail-config.yaml")
ALLOY = Path("promtail/config.alloy")
DASHBOARD = Path("provisioning/grafana/dashboards/ai-logs-analysis.json")
PROM_RULES = Path("provisioning/prometheus/rules/ai-logs-analyzer.yml")
ALERT_RULES = Path("provisioning/grafana/alerting/alert-rules.yaml")
APP = Path("grafana_app/plugin.json")
ROOT = Path(__file__).resolve().parents[2]


def test_the_repository_is_clean(lint) -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("ai-logs lint: no problems")
    assert [line.split()[1] for line in result.stdout.splitlines()[:-1]] == [
        "yaml", "rules", "logql", "pipelines", "dashboards", "prometheus", "runbooks"]


def test_yaml_that_does_not_parse_is_reported_at_its_line(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / RULES, "        for: 5m\n", "        for: [5m\n")
    result = lint(repo_copy)
    assert result.returncode == 1
    assert f"{RULES}:{line + 1}" in result.stdout  # YAML notices on the next line
    assert "[yaml] YAML does not parse" in result.stdout


def test_a_duplicate_group_name_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / RECORDING, "name: ai-logs-ai-usage", "name: ai-logs-alerts")
    result = lint(repo_copy)
    assert result.returncode == 1
    assert (f"{RECORDING}:{line}: [rules] group name `ai-logs-alerts` is already used in "
            f"{RULES}:") in result.stdout


def test_an_alert_without_severity_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / RULES, "          severity: critical\n", "          urgency: high\n")
    result = lint(repo_copy)
    assert f"{RULES}:{line - 1}: [rules] alert `ModelTimeoutSpike` needs labels.severity" \
        in result.stdout


def test_a_rule_file_outside_a_tenant_folder_is_reported(repo_copy, lint) -> None:
    (repo_copy / RECORDING).rename(repo_copy / "ruler_rules/recording.yaml")
    result = lint(repo_copy)
    assert "ruler_rules/recording.yaml:1: [rules] Loki's local ruler storage only reads" \
        in result.stdout


def test_invalid_logql_is_reported_at_its_line(repo_copy, edit, lint) -> None:
    # the expression Loki's rules API refused (rules_push_invalid_logql.json)
    line = edit(repo_copy / RECORDING, '(rate({job=~".+"} [1m]))', '(rate({job=~".+" |= "x" [1m]))')
    result = lint(repo_copy)
    assert result.returncode == 1
    assert f"{RECORDING}:{line}: [logql] LogQL syntax error at expression line 1, col 42" \
        in result.stdout


def test_an_error_in_a_dashboard_query_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / DASHBOARD, "unwrap duration | __error__", "unwrap | __error__")
    result = lint(repo_copy)
    assert f"{DASHBOARD}:{line}: [logql] LogQL syntax error" in result.stdout


def test_an_id_as_promtail_label_is_reported(repo_copy, edit, lint) -> None:
    # the seed plan's mistake: correlation_id as a label
    line = edit(repo_copy / PROMTAIL, "          model:\n",
                "          model:\n          correlation_id:\n")
    result = lint(repo_copy)
    assert result.returncode == 1
    assert "[pipelines] `correlation_id` is high-cardinality and must not be a label" \
        in result.stdout
    assert f"{PROMTAIL}:{line - 4}:" in result.stdout  # the labels stage


def test_a_field_the_logs_do_not_have_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / ALLOY, 'tokens_used     = "tokens_used"', 'tokens_used     = "token_count"')
    result = lint(repo_copy)
    assert "[pipelines] json stage extracts `tokens_used` from `token_count`, a field the logs " \
        "do not have" in result.stdout
    assert f"{ALLOY}:" in result.stdout


def test_a_wrong_metric_type_that_check_syntax_accepts_is_reported(repo_copy, edit, lint) -> None:
    # bad_stage_check_vs_dry_run.txt: Histogramm passes -check-syntax, fails at start
    line = edit(repo_copy / PROMTAIL, "type: Histogram", "type: Histogramm")
    result = lint(repo_copy)
    assert "metric `ai_request_duration` has type `Histogramm`" in result.stdout
    assert f"{PROMTAIL}:{line}: [pipelines] metric" in result.stdout


def test_an_unprovisioned_datasource_uid_is_reported(repo_copy, edit, lint) -> None:
    dashboard = repo_copy / DASHBOARD
    line = edit(dashboard, '"uid": "ai-logs-analyzer"', '"uid": "analyzer-json"')
    (repo_copy / "grafana_app/dashboards/ai-logs-analysis.json").write_text(dashboard.read_text())
    result = lint(repo_copy)
    assert result.returncode == 1
    assert f"{DASHBOARD}:{line}: [dashboards] panel `Insights` uses datasource uid " \
        "`analyzer-json`, which is not provisioned" in result.stdout


def test_an_app_bundle_out_of_date_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / DASHBOARD, '"title": "Insights"', '"title": "Findings"')
    result = lint(repo_copy)
    assert "grafana_app/dashboards/ai-logs-analysis.json:1: [dashboards] differs from " \
        f"{DASHBOARD}" in result.stdout


def test_a_prometheus_rule_without_expr_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / PROM_RULES, "      - alert: AILogsAnalyzerErrorRate\n        expr: |-",
                "      - alert: AILogsAnalyzerErrorRate\n        query: |-")
    result = lint(repo_copy)
    assert f"{PROM_RULES}:{line + 1}: [prometheus] unknown rule key `query`" in result.stdout
    assert "[prometheus] rule `AILogsAnalyzerErrorRate` has no `expr`" in result.stdout


def test_lint_stops_at_the_first_failing_class_unless_asked_for_all(repo_copy, edit,
                                                                   lint) -> None:
    edit(repo_copy / RULES, "        for: 5m\n", "        for: [5m\n")
    edit(repo_copy / PROM_RULES, "expr:", "query:")
    first = lint(repo_copy)
    every = lint(repo_copy, "--all")
    assert "[yaml]" in first.stdout and "[prometheus]" not in first.stdout
    assert "[yaml]" in every.stdout and "[prometheus]" in every.stdout
    assert first.returncode == every.returncode == 1


def test_json_output_lists_problems_with_file_and_line(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / RECORDING, "name: ai-logs-ai-usage", "name: ai-logs-alerts")
    report = json.loads(lint(repo_copy, "--json").stdout)
    assert report["ok"] is False
    [problem] = report["checks"][-1]["problems"]
    assert (problem["path"], problem["line"], problem["check"]) == (str(RECORDING), line,
                                                                   "rules")


# ---- runbooks: every request they show is valid against the API ----


def test_a_runbook_request_with_a_parameter_the_api_has_not_is_reported(repo_copy, edit,
                                                                         lint) -> None:
    # what the runbooks said before: "since" is a 400 (the parameter is time_range)
    line = edit(repo_copy / RULES, "&time_range=30m", "&since=30m")
    result = lint(repo_copy)
    assert result.returncode == 1
    assert (f"{RULES}:{line}: [runbooks] alert `HighServiceErrorRate` description: "
            "GET /api/v1/ai_logs/query: unknown parameter 'since'") in result.stdout


def test_a_runbook_request_with_a_mode_the_api_has_not_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / RULES, '\\"mode\\": \\"troubleshoot\\"', '\\"mode\\": \\"patterns\\"')
    result = lint(repo_copy)
    assert (f"{RULES}:{line}: [runbooks] alert `OutOfMemory` description: POST "
            "/api/v1/ai_logs/query: invalid value for 'mode'") in result.stdout


def test_a_runbook_request_to_a_path_the_api_has_not_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / ALERT_RULES, "/api/v1/ai_logs/workspace/", "/api/v1/ai_logs/workspaces/")
    result = lint(repo_copy)
    assert "[runbooks] alert `Workspace token burn` description: /api/v1/ai_logs/workspaces/" \
        in result.stdout and "is not an endpoint of the API" in result.stdout


def test_a_runbook_key_instead_of_runbook_url_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / PROM_RULES, "runbook_url:", "runbook:")
    result = lint(repo_copy, "--all")
    assert (f"{PROM_RULES}:{line}: [runbooks] alert `HighAILogQueryLatency`: name the runbook "
            "`runbook_url`") in result.stdout


def test_a_runbook_url_setting_a_variable_the_dashboard_has_not_is_reported(repo_copy, edit,
                                                                           lint) -> None:
    line = edit(repo_copy / RULES, "?var-service=", "?var-app=")
    result = lint(repo_copy)
    assert (f"{RULES}:{line}: [runbooks] alert `HighServiceErrorRate`: runbook_url sets "
            "`var-app`, but dashboard `ai-logs-analysis` has no variable `app`") in result.stdout


# ---- alert rules linked to panels, and the app bundle ----


def test_an_alert_rule_linked_to_a_missing_panel_is_reported(repo_copy, edit, lint) -> None:
    line = edit(repo_copy / ALERT_RULES, "panelId: 19", "panelId: 99")
    result = lint(repo_copy)
    assert (f"{ALERT_RULES}:{line}: [dashboards] alert rule `Workspace token burn` links panel "
            "99, which dashboard `ai-logs-analysis` has not") in result.stdout


def test_a_dashboard_uid_without_a_panel_id_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / ALERT_RULES, "        panelId: 5\n", "")
    result = lint(repo_copy)
    assert "[dashboards] alert rule `AI service error burst`: dashboardUid and panelId go " \
        "together" in result.stdout


def test_an_app_dashboard_include_without_a_uid_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / APP, '      "uid": "ai-logs-analysis",\n', "")
    result = lint(repo_copy)
    assert f"{APP}:" in result.stdout
    assert "needs `uid: ai-logs-analysis`" in result.stdout and "missing a UID field" in result.stdout


def test_a_core_datasource_as_app_dependency_is_reported(repo_copy, edit, lint) -> None:
    edit(repo_copy / APP, '"id": "simpod-json-datasource"', '"id": "loki"')
    result = lint(repo_copy)
    assert "[dashboards] plugin dependency `loki` is not a plugin id Grafana accepts" \
        in result.stdout
