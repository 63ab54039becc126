"""`ai-logs lint`: checks the stack's configuration as code (Promtail/Alloy, Loki ruler rules,
Grafana provisioning and dashboards, Prometheus rules) before it reaches a running service."""

from analyzer.lint.grammar import INSTALL_COMMAND, GrammarUnavailable
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.runner import CHECKS, run_lint

__all__ = [
    "CHECKS",
    "INSTALL_COMMAND",
    "CheckResult",
    "GrammarUnavailable",
    "Problem",
    "run_lint",
]
