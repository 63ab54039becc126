"""Class `runbooks`: what an alert tells on-call to do works.

- An alert's runbook is `runbook_url`, which Grafana renders as a link (`runbook` is shown as
  plain text); it is an absolute URL or a Grafana path. A link to a dashboard names a
  provisioned dashboard and only its variables; a link to the analyzer's API is a valid request.
- Every request to the analyzer's API written in an alert's annotations (Loki ruler rules,
  Prometheus rules, Grafana-managed rules) is valid against the API's own request models: no
  parameter the API does not have (`since`), no value it refuses (`mode: patterns`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from analyzer.lint.api_requests import API_PREFIX, WrittenRequest, find_requests, request_problem
from analyzer.lint.expressions import mapping
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import LineDict, SourceError

CHECK = "runbooks"
_DASHBOARD_LINK = re.compile(r"^/d/([^/?#]+)")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def _alert_rules(repo: Repository) -> Iterator[tuple[Path, str, LineDict]]:
    """(file, alert name, annotations) of every alerting rule the repository provisions."""
    for path in [*repo.ruler_rule_files, *repo.prometheus_rule_files]:
        for group in _groups(repo, path):
            for rule in group.get("rules") or []:
                if isinstance(rule, LineDict) and "alert" in rule:
                    yield path, str(rule["alert"]), mapping(rule.get("annotations"))
    for path in repo.alerting_files:
        for group in _groups(repo, path):
            for rule in group.get("rules") or []:
                if isinstance(rule, LineDict) and "title" in rule:
                    yield path, str(rule["title"]), mapping(rule.get("annotations"))


def _groups(repo: Repository, path: Path) -> list[Any]:
    try:
        content = mapping(repo.load(path))
    except SourceError:
        return []
    return [g for g in content.get("groups") or [] if isinstance(g, LineDict)]


def _dashboards(repo: Repository) -> dict[str, set[str]]:
    """uid -> variable names of every provisioned dashboard."""
    found: dict[str, set[str]] = {}
    for path in repo.dashboard_files:
        try:
            dashboard = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        variables = (dashboard.get("templating") or {}).get("list") or []
        found[str(dashboard.get("uid"))] = {str(v.get("name")) for v in variables}
    return found


def _url_problem(url: str, dashboards: dict[str, set[str]]) -> str | None:
    plain = _TEMPLATE.sub("sample", url).strip()
    parts = urlsplit(plain)
    if not (parts.scheme in ("http", "https") and parts.netloc) and not plain.startswith("/"):
        return f"runbook_url `{url}` is neither an absolute URL nor a Grafana path"
    if API_PREFIX in parts.path:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        return request_problem(WrittenRequest("GET", target, None, 0))
    link = _DASHBOARD_LINK.match(parts.path) if not parts.netloc else None
    if link is None:
        return None
    uid = link.group(1)
    if uid not in dashboards:
        return f"runbook_url links dashboard `{uid}`, which is not provisioned"
    for key, _ in parse_qsl(parts.query):
        name = key.removeprefix("var-")
        if key.startswith("var-") and name not in dashboards[uid]:
            return f"runbook_url sets `{key}`, but dashboard `{uid}` has no variable `{name}`"
    return None


def check(repo: Repository) -> CheckResult:
    problems: list[Problem] = []
    dashboards = _dashboards(repo)
    requests = alerts = 0
    for path, name, notes in _alert_rules(repo):
        alerts += 1
        rel = repo.rel(path)
        if "runbook" in notes:
            problems.append(Problem(
                CHECK, rel, notes.line_of("runbook"),
                f"alert `{name}`: name the runbook `runbook_url` (Grafana renders it as a link; "
                f"`runbook` is shown as plain text)"))
        url = notes.get("runbook_url")
        if isinstance(url, str):
            why = _url_problem(url, dashboards)
            if why:
                problems.append(Problem(CHECK, rel, notes.value_line("runbook_url"),
                                        f"alert `{name}`: {why}"))
        for key, value in notes.items():
            if not isinstance(value, str):
                continue
            for request in find_requests(value):
                requests += 1
                why = request_problem(request)
                if why:
                    problems.append(Problem(CHECK, rel, notes.value_line(key),
                                            f"alert `{name}` {key}: {why}"))
    summary = (f"{alerts} alerts: runbook links resolve, {requests} API requests in their "
               f"annotations are valid")
    return CheckResult(CHECK, summary, problems)
