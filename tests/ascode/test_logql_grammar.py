"""The LogQL grammar check: Grafana's own grammar, run by node, on every expression we ship."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from analyzer.lint.check_logql import problems_of
from analyzer.lint.expressions import LogQLExpression, collect
from analyzer.lint.grammar import CHECKER_DIR, INSTALL_COMMAND, GrammarUnavailable, check_logql
from analyzer.lint.repository import Repository

ROOT = Path(__file__).resolve().parents[2]
LOKI = ROOT / "tests" / "fixtures" / "ascode" / "loki"


def _fixture(name: str) -> dict:
    return json.loads((LOKI / name).read_text())


def test_grammar_package_is_installed_or_the_suite_says_how_to_install_it() -> None:
    assert shutil.which("node"), "node is missing: install nodejs"
    assert (CHECKER_DIR / "node_modules" / "@grafana" / "lezer-logql").is_dir(), (
        f"@grafana/lezer-logql is missing: run `{INSTALL_COMMAND}`")


@pytest.mark.parametrize("name", sorted(p.name for p in LOKI.glob("query_*.json")))
def test_accepts_every_query_loki_answered(name: str) -> None:
    query = _fixture(name)["request"]["params"]["query"]
    [result] = check_logql([query])
    assert result.ok, result.errors


@pytest.mark.parametrize("name", ["error_parse.json", "error_parse_metric.json",
                                  "error_parse_trailing_filter.json"])
def test_rejects_what_loki_rejected_at_the_same_column(name: str) -> None:
    fixture = _fixture(name)
    loki_col = int(re.search(r"col (\d+)", fixture["body"]).group(1))
    [result] = check_logql([fixture["request"]["params"]["query"]])
    assert not result.ok
    assert result.errors[0].col == loki_col


def test_rejects_an_empty_query_like_loki() -> None:
    assert "query" not in _fixture("error_missing_query.json")["request"]["params"]
    [result] = check_logql([""])
    assert result.errors[0].message == "empty expression"


@pytest.mark.parametrize("name", ["rules_push_invalid_logql.json", "ruler_invalid_rule_file.json"])
def test_rejects_the_rules_loki_refused(name: str) -> None:
    content = yaml.safe_load(_fixture(name)["request"]["body"])
    groups = content.get("groups", [content])
    exprs = [rule["expr"] for group in groups for rule in group["rules"]]
    assert exprs and not any(result.ok for result in check_logql(exprs))


@pytest.mark.parametrize("name", ["error_bad_regex.json", "error_bad_regex_matcher.json"])
def test_regexes_loki_cannot_compile_are_problems(name: str) -> None:
    query = _fixture(name)["request"]["params"]["query"]
    problems = problems_of([LogQLExpression("q.yaml", 3, query, "ruler")])
    assert [p.line for p in problems] == [3]
    assert "does not compile" in problems[0].message


def test_a_correlation_id_in_a_stream_selector_is_a_problem() -> None:
    expr = '{service="api", correlation_id="corr-1"}'
    [problem] = problems_of([LogQLExpression("d.json", 9, expr, "dashboard")])
    assert "`correlation_id`, which is not an index label" in problem.message


def _shipped() -> list[LogQLExpression]:
    return collect(Repository(ROOT))


@pytest.mark.parametrize("expression", _shipped(), ids=lambda e: f"{e.path}:{e.line}")
def test_every_shipped_expression_parses(expression: LogQLExpression) -> None:
    [result] = check_logql([expression.checkable])
    assert result.ok, f"{expression.path}:{expression.line}: {result.errors}"
    assert problems_of([expression]) == []


def test_every_rule_alert_and_loki_panel_is_collected() -> None:
    by_source: dict[str, int] = {}
    for expression in _shipped():
        by_source[expression.source] = by_source.get(expression.source, 0) + 1
    rules = sum(len(g["rules"]) for p in (ROOT / "ruler_rules").glob("*/*.yaml")
                for g in yaml.safe_load(p.read_text())["groups"])
    dashboard = json.loads((ROOT / "provisioning/grafana/dashboards/ai-logs-analysis.json")
                           .read_text())
    loki_targets = [t for p in dashboard["panels"] for t in p.get("targets", [])
                    if t["datasource"]["type"] == "loki"]
    assert by_source["ruler"] == rules
    assert by_source["dashboard"] == 2 * len(loki_targets)  # provisioning + app bundle copy
    assert by_source["alerting"] == 3
    assert by_source["pipeline"] == 4  # redis / non-redis match selectors, Promtail and Alloy


def test_missing_grammar_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    import analyzer.lint.grammar as grammar

    monkeypatch.setattr(grammar, "CHECKER_DIR", tmp_path)
    with pytest.raises(GrammarUnavailable) as caught:
        check_logql(['{service="api"}'])
    assert INSTALL_COMMAND in caught.value.message


def test_missing_node_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GrammarUnavailable, match="node is not installed"):
        check_logql(['{service="api"}'])
