"""Runs the classes of checks in order and stops at the first class with problems: later
classes assume what earlier ones establish (files parse, rules are shaped right)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from analyzer.lint import (
    check_dashboards,
    check_logql,
    check_pipelines,
    check_prometheus,
    check_rules,
    check_runbooks,
    check_yaml,
)
from analyzer.lint.problems import CheckResult
from analyzer.lint.repository import Repository

CHECKS: tuple[tuple[str, Callable[[Repository], CheckResult]], ...] = (
    (check_yaml.CHECK, check_yaml.check),
    (check_rules.CHECK, check_rules.check),
    (check_logql.CHECK, check_logql.check),
    (check_pipelines.CHECK, check_pipelines.check),
    (check_dashboards.CHECK, check_dashboards.check),
    (check_prometheus.CHECK, check_prometheus.check),
    (check_runbooks.CHECK, check_runbooks.check),
)


def run_lint(root: Path, *, keep_going: bool = False) -> list[CheckResult]:
    """Results of the classes run; the last one has problems unless everything passed."""
    repo = Repository(root)
    results = []
    for _name, run in CHECKS:
        result = run(repo)
        results.append(result)
        if result.problems and not keep_going:
            break
    return results
