"""Class `prometheus`: Prometheus rule files have the fields Prometheus requires, and
prometheus.yml loads them."""

from __future__ import annotations

from analyzer.lint.check_rules import check_groups
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import LineDict, SourceError

CHECK = "prometheus"


def _balanced(expr: str) -> bool:
    depth: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    quote = None
    for char in expr:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth.append(char)
        elif char in pairs and (not depth or depth.pop() != pairs[char]):
            return False
    return not depth and quote is None


def check(repo: Repository) -> CheckResult:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    groups = 0
    for path in repo.prometheus_rule_files:
        try:
            content = repo.load(path)
        except SourceError:
            continue
        found, count = check_groups(content, repo.rel(path), seen, check=CHECK,
                                    alert_annotations=("summary", "runbook_url"), severities=None)
        problems += found
        groups += count
        for group in (content or {}).get("groups") or []:
            for rule in group.get("rules") or [] if isinstance(group, dict) else []:
                if isinstance(rule, LineDict) and isinstance(rule.get("expr"), str) \
                        and not _balanced(rule["expr"]):
                    problems.append(Problem(CHECK, repo.rel(path), rule.value_line("expr"),
                                            "PromQL expression has unbalanced brackets or quotes"))
    config_path = repo.root / "provisioning/prometheus/prometheus.yml"
    if config_path.exists():
        try:
            config = repo.load(config_path)
            if isinstance(config, LineDict) and repo.prometheus_rule_files \
                    and not config.get("rule_files"):
                problems.append(Problem(CHECK, repo.rel(config_path), 1,
                                        "rule files exist but prometheus.yml has no rule_files"))
        except SourceError:
            pass
    summary = f"{groups} rule groups in {len(repo.prometheus_rule_files)} Prometheus rule files"
    return CheckResult(CHECK, summary, problems)
