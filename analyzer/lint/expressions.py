"""Every LogQL expression of the repository, with the file and line it comes from.

Sources: Loki ruler rules, Grafana-managed alert rules on a Loki datasource, Loki panel targets
and variables of the dashboards, and the `match` selectors of the Promtail/Alloy pipelines.
Dashboard queries hold Grafana variables; they are replaced by sample values of the right
shape (a duration inside `[...]`, a word elsewhere) before the grammar sees them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from analyzer.lint.pipelines import iter_match_selectors, load_pipelines
from analyzer.lint.problems import Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import LineDict, SourceError

LOKI_TYPE = "loki"
_RANGE_VARIABLE = re.compile(r"\[\s*\$(?:\{[^}]+\}|\w+)\s*\]")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class LogQLExpression:
    path: str
    line: int  # line of the expression's first character in the file
    expr: str  # as written
    source: str  # "ruler", "alerting", "dashboard", "pipeline"

    @property
    def checkable(self) -> str:
        """The expression with Grafana variables replaced by sample values."""
        text = _RANGE_VARIABLE.sub("[5m]", self.expr)
        return _VARIABLE.sub("sample", text)


def mapping(value: Any) -> LineDict:
    """The value if it is a mapping, else an empty one: shape errors are other checks' job."""
    if isinstance(value, LineDict):
        return value
    empty = LineDict()
    empty.key_lines, empty.value_lines = {}, {}
    return empty


def grafana_variables(text: str) -> set[str]:
    return {a or b for a, b in _VARIABLE.findall(text)}


def datasource_types(repo: Repository) -> dict[str, str]:
    """uid -> type of every provisioned datasource."""
    found: dict[str, str] = {}
    for path in repo.datasource_files:
        try:
            content = mapping(repo.load(path))
        except SourceError:
            continue
        for source in content.get("datasources") or []:
            if isinstance(source, dict) and source.get("uid"):
                found[str(source["uid"])] = str(source.get("type", ""))
    return found


def _ruler(repo: Repository) -> Iterator[LogQLExpression]:
    for path in repo.ruler_rule_files:
        content = mapping(repo.load(path))
        for group in content.get("groups") or []:
            for rule in group.get("rules") or []:
                if isinstance(rule, LineDict) and isinstance(rule.get("expr"), str):
                    yield LogQLExpression(repo.rel(path), rule.value_line("expr"), rule["expr"],
                                          "ruler")


def _alerting(repo: Repository, loki_uids: set[str]) -> Iterator[LogQLExpression]:
    for path in repo.alerting_files:
        content = mapping(repo.load(path))
        for group in content.get("groups") or []:
            for rule in group.get("rules") or []:
                for query in rule.get("data") or []:
                    model = query.get("model") or {}
                    if query.get("datasourceUid") in loki_uids and isinstance(model, LineDict) \
                            and isinstance(model.get("expr"), str):
                        yield LogQLExpression(repo.rel(path), model.value_line("expr"),
                                              model["expr"], "alerting")


def iter_panels(panels: Any) -> Iterator[LineDict]:
    for panel in panels or []:
        if isinstance(panel, LineDict):
            yield panel
            yield from iter_panels(panel.get("panels"))


def _uid(ref: Any) -> str | None:
    if isinstance(ref, dict):
        return ref.get("uid")
    return ref if isinstance(ref, str) else None


def _dashboards(repo: Repository, loki_uids: set[str]) -> Iterator[LogQLExpression]:
    for path in repo.dashboard_files:
        dashboard = mapping(repo.load(path))
        for panel in iter_panels(dashboard.get("panels")):
            for target in panel.get("targets") or []:
                uid = _uid(target.get("datasource")) or _uid(panel.get("datasource"))
                if uid in loki_uids and isinstance(target, LineDict) \
                        and isinstance(target.get("expr"), str):
                    yield LogQLExpression(repo.rel(path), target.value_line("expr"),
                                          target["expr"], "dashboard")


def collect(repo: Repository) -> list[LogQLExpression]:
    """All LogQL of the repository. Files that do not parse are skipped (the yaml check
    reports them)."""
    loki_uids = {uid for uid, kind in datasource_types(repo).items() if kind == LOKI_TYPE}
    found: list[LogQLExpression] = []
    for producer in (lambda: _ruler(repo), lambda: _alerting(repo, loki_uids),
                     lambda: _dashboards(repo, loki_uids)):
        try:
            found += list(producer())
        except (SourceError, AttributeError):
            continue
    pipeline_problems: list[Problem] = []
    pipelines = load_pipelines(repo.root, repo.promtail_configs, repo.alloy_configs, repo.rel,
                               repo.load, pipeline_problems)
    for pipeline in pipelines:
        for line, selector in iter_match_selectors(pipeline.stages):
            found.append(LogQLExpression(pipeline.path, line, selector, "pipeline"))
    return found

