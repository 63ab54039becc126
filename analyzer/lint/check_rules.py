"""Class `rules`: Loki ruler rule groups are where Loki reads them and shaped as it expects.

Loki reads `<rules dir>/<tenant>/*.yaml`; group names must be unique (Loki refuses a tenant's
rules when two groups share a name); each rule is a recording or an alerting rule; alerts carry
what the on-call person needs: `for`, a severity, summary, description and runbook_url.
"""

from __future__ import annotations

import re
from typing import Any

from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import LineDict, SourceError

CHECK = "rules"
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
GROUP_KEYS = {"name", "interval", "rules", "limit", "query_offset", "evaluation_delay",
              "source_tenants"}
SEVERITIES = {"info", "warning", "critical"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")


def check_rule(rule: Any, path: str, line: int, *, alert_annotations: tuple[str, ...],
               severities: set[str] | None, check: str) -> list[Problem]:
    """Shape of one Prometheus-format rule; Loki and Prometheus share the format."""
    problems: list[Problem] = []
    if not isinstance(rule, LineDict):
        return [Problem(check, path, line, "a rule is a mapping with record/alert and expr")]
    for key in rule:
        if key not in RULE_KEYS:
            problems.append(Problem(check, path, rule.line_of(key), f"unknown rule key `{key}`"))
    kinds = [k for k in ("record", "alert") if k in rule]
    if len(kinds) != 1:
        problems.append(Problem(check, path, rule.line,
                                "a rule has exactly one of `record` or `alert`"))
        return problems
    name = str(rule[kinds[0]])
    if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
        problems.append(Problem(check, path, rule.line, f"rule `{name}` has no `expr`"))
    if kinds[0] == "record":
        if not METRIC_NAME.match(name):
            problems.append(Problem(check, path, rule.line_of("record"),
                                    f"`{name}` is not a valid metric name"))
        for key in ("for", "annotations"):
            if key in rule:
                problems.append(Problem(check, path, rule.line_of(key),
                                        f"recording rule `{name}` cannot have `{key}`"))
        return problems
    duration = rule.get("for")
    if duration is not None and not DURATION.match(str(duration)):
        problems.append(Problem(check, path, rule.line_of("for"),
                                f"alert `{name}`: `for: {duration}` is not a duration (5m, 1h)"))
    labels = rule.get("labels") or {}
    annotations = rule.get("annotations") or {}
    if severities is not None:
        if "for" not in rule:
            problems.append(Problem(check, path, rule.line, f"alert `{name}` has no `for`"))
        if labels.get("severity") not in severities:
            problems.append(Problem(
                check, path, rule.line_of("labels") if "labels" in rule else rule.line,
                f"alert `{name}` needs labels.severity in {sorted(severities)}"))
    for key in alert_annotations:
        if not annotations.get(key):
            problems.append(Problem(
                check, path, rule.line_of("annotations") if "annotations" in rule else rule.line,
                f"alert `{name}` has no `{key}` annotation"))
    for what, mapping in (("labels", labels), ("annotations", annotations)):
        if not isinstance(mapping, dict) or any(not isinstance(v, str) for v in mapping.values()):
            problems.append(Problem(check, path, rule.line_of(what),
                                    f"alert `{name}`: {what} must map names to strings"))
    return problems


def check_groups(content: Any, path: str, seen: dict[str, str], *, check: str,
                 alert_annotations: tuple[str, ...], severities: set[str] | None,
                 ) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    if not isinstance(content, LineDict) or not isinstance(content.get("groups"), list):
        return [Problem(check, path, 1, "a rule file is a mapping with a `groups` list")], 0
    groups = content["groups"]
    for index, group in enumerate(groups):
        line = groups.line_of(index)
        if not isinstance(group, LineDict) or not group.get("name"):
            problems.append(Problem(check, path, line, "a rule group needs a `name`"))
            continue
        name = str(group["name"])
        if name in seen:
            problems.append(Problem(check, path, group.line_of("name"),
                                    f"group name `{name}` is already used in {seen[name]}"))
        seen.setdefault(name, f"{path}:{group.line_of('name')}")
        for key in group:
            if key not in GROUP_KEYS:
                problems.append(Problem(check, path, group.line_of(key),
                                        f"unknown group key `{key}`"))
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            problems.append(Problem(check, path, line, f"group `{name}` has no rules"))
            continue
        for rule_index, rule in enumerate(rules):
            problems += check_rule(rule, path, rules.line_of(rule_index), check=check,
                                   alert_annotations=alert_annotations, severities=severities)
    return problems, len(groups)


def check(repo: Repository) -> CheckResult:
    result = CheckResult(CHECK)
    for path in repo.misplaced_ruler_files:
        result.problems.append(Problem(
            CHECK, repo.rel(path), 1,
            "Loki's local ruler storage only reads ruler_rules/<tenant>/*.yaml "
            "(tenant `fake` when auth is off): move the file into a tenant folder"))
    seen_by_tenant: dict[str, dict[str, str]] = {}
    group_count = 0
    for path in repo.ruler_rule_files:
        try:
            content = repo.load(path)
        except SourceError:
            continue
        seen = seen_by_tenant.setdefault(path.parent.name, {})
        problems, count = check_groups(content, repo.rel(path), seen, check=CHECK,
                                       alert_annotations=REQUIRED_ANNOTATIONS,
                                       severities=SEVERITIES)
        result.problems += problems
        group_count += count
    tenants = ", ".join(sorted(seen_by_tenant)) or "none"
    result.summary = (f"{group_count} rule groups in {len(repo.ruler_rule_files)} files "
                      f"(tenants: {tenants})")
    return result
