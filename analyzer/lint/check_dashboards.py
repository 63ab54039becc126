"""Class `dashboards`: every panel, variable and alert query points at a provisioned datasource
uid of the right type, uses only defined variables, and the app bundle ships the same
dashboards as provisioning.
"""

from __future__ import annotations

import json
import re
from typing import Any

from analyzer.lint.expressions import datasource_types, grafana_variables, iter_panels, mapping
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import LineDict, SourceError

CHECK = "dashboards"
# plugin.schema.json's pattern for a dependency's id
PLUGIN_ID = re.compile(r"[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager)")
BUILTIN_UIDS = {"-- Grafana --", "grafana", "__expr__", "-- Dashboard --", "-- Mixed --"}


def _ref(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, dict):
        return value.get("uid"), value.get("type")
    return (value, None) if isinstance(value, str) else (None, None)


def _check_ref(ref: Any, line: int, where: str, known: dict[str, str], path: str,
               problems: list[Problem]) -> None:
    uid, kind = _ref(ref)
    if isinstance(ref, LineDict) and "uid" in ref:
        line = ref.line_of("uid")
    if uid is None or uid in BUILTIN_UIDS or uid.startswith("$"):
        return
    if uid not in known:
        problems.append(Problem(
            CHECK, path, line,
            f"{where} uses datasource uid `{uid}`, which is not provisioned "
            f"(provisioned: {', '.join(sorted(known))})"))
    elif kind and kind != known[uid]:
        problems.append(Problem(CHECK, path, line,
                                f"{where}: datasource `{uid}` is of type `{known[uid]}`, not `{kind}`"))


def _check_dashboard(dashboard: LineDict, path: str, known: dict[str, str],
                     problems: list[Problem]) -> int:
    variables = {v.get("name") for v in (dashboard.get("templating") or {}).get("list") or []
                 if isinstance(v, dict)}
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        if isinstance(variable, LineDict) and "datasource" in variable:
            _check_ref(variable["datasource"], variable.line_of("datasource"),
                       f"variable `{variable.get('name')}`", known, path, problems)
    count = 0
    for panel in iter_panels(dashboard.get("panels")):
        count += 1
        title = f"panel `{panel.get('title', panel.get('id'))}`"
        targets = panel.get("targets") or []
        if targets and "datasource" not in panel and not all(
                isinstance(t, dict) and t.get("datasource") for t in targets):
            problems.append(Problem(CHECK, path, panel.line, f"{title} has queries but no datasource"))
        if "datasource" in panel:
            _check_ref(panel["datasource"], panel.line_of("datasource"), title, known, path,
                       problems)
        for target in targets:
            if not isinstance(target, LineDict):
                continue
            if "datasource" in target:
                _check_ref(target["datasource"], target.line_of("datasource"), title, known,
                           path, problems)
            text = json.dumps({k: target.get(k) for k in ("expr", "target", "payload")})
            for name in sorted(grafana_variables(text)):
                if not name.startswith("__") and name not in variables:
                    problems.append(Problem(CHECK, path, target.line,
                                            f"{title} uses `${name}`, which is not a variable "
                                            f"of the dashboard"))
    return count


def _check_app(repo: Repository, problems: list[Problem]) -> None:
    manifest_path = repo.app_manifest
    if not manifest_path.exists():
        return
    try:
        manifest = mapping(repo.load(manifest_path))
    except SourceError:
        return
    rel = repo.rel(manifest_path)
    if manifest.get("type") != "app":
        problems.append(Problem(CHECK, rel, manifest.line_of("type"), "plugin.json type must be `app`"))
    for dependency in mapping(manifest.get("dependencies")).get("plugins") or []:
        if not isinstance(dependency, LineDict):
            continue
        missing = [k for k in ("id", "name", "type", "version") if not dependency.get(k)]
        if missing:
            problems.append(Problem(CHECK, rel, dependency.line,
                                    f"plugin dependency lacks {', '.join(missing)}"))
        if not PLUGIN_ID.fullmatch(str(dependency.get("id", ""))):
            problems.append(Problem(
                CHECK, rel, dependency.line_of("id"),
                f"plugin dependency `{dependency.get('id')}` is not a plugin id Grafana accepts "
                f"(core datasources such as loki are no dependency)"))
    for include in manifest.get("includes") or []:
        if include.get("type") != "dashboard":
            continue
        shipped = manifest_path.parent / str(include.get("path", ""))
        if not shipped.is_file():
            problems.append(Problem(CHECK, rel, include.line,
                                    f"includes `{include.get('path')}`, which does not exist"))
            continue
        uid = json.loads(shipped.read_text()).get("uid")
        if include.get("uid") != uid:
            problems.append(Problem(
                CHECK, rel, include.line,
                f"the dashboard include needs `uid: {uid}` (its dashboard's uid): without it "
                f"Grafana logs \"missing a UID field\" and the app has no nav entry"))
        provisioned = repo.root / "provisioning/grafana/dashboards" / shipped.name
        if provisioned.is_file() and json.loads(provisioned.read_text()) != json.loads(
                shipped.read_text()):
            problems.append(Problem(
                CHECK, repo.rel(shipped), 1,
                f"differs from {repo.rel(provisioned)}: copy the provisioned dashboard again"))


def _panel_ids(repo: Repository) -> dict[str, set[int]]:
    """uid -> panel ids of every provisioned dashboard."""
    found: dict[str, set[int]] = {}
    for path in repo.dashboard_files:
        try:
            dashboard = mapping(repo.load(path))
        except SourceError:
            continue
        ids = {p.get("id") for p in iter_panels(dashboard.get("panels"))}
        found.setdefault(str(dashboard.get("uid")), set()).update(
            i for i in ids if isinstance(i, int))
    return found


def _check_alerting(repo: Repository, known: dict[str, str], problems: list[Problem]) -> None:
    panels = _panel_ids(repo)
    for path in repo.alerting_files:
        try:
            content = mapping(repo.load(path))
        except SourceError:
            continue
        for group in content.get("groups") or []:
            for rule in group.get("rules") or []:
                title = f"alert rule `{rule.get('title')}`"
                for query in rule.get("data") or []:
                    if isinstance(query, LineDict) and "datasourceUid" in query:
                        _check_ref(query["datasourceUid"], query.line_of("datasourceUid"),
                                   title, known, repo.rel(path), problems)
                if isinstance(rule, LineDict):
                    _check_panel_link(rule, title, panels, repo.rel(path), problems)


def _check_panel_link(rule: LineDict, title: str, panels: dict[str, set[int]], path: str,
                      problems: list[Problem]) -> None:
    """`dashboardUid` and `panelId` come together (Grafana refuses one alone) and name a
    provisioned dashboard and one of its panels."""
    uid, panel = rule.get("dashboardUid"), rule.get("panelId")
    if uid is None and panel is None:
        return
    if uid is None or panel is None:
        problems.append(Problem(CHECK, path, rule.line,
                                f"{title}: dashboardUid and panelId go together"))
    elif str(uid) not in panels:
        problems.append(Problem(CHECK, path, rule.line_of("dashboardUid"),
                                f"{title} links dashboard `{uid}`, which is not provisioned"))
    elif panel not in panels[str(uid)]:
        problems.append(Problem(CHECK, path, rule.line_of("panelId"),
                                f"{title} links panel {panel}, which dashboard `{uid}` has not"))


def check(repo: Repository) -> CheckResult:
    problems: list[Problem] = []
    known = datasource_types(repo)
    panels = 0
    for path in repo.dashboard_files:
        try:
            dashboard = mapping(repo.load(path))
        except SourceError:
            continue
        panels += _check_dashboard(dashboard, repo.rel(path), known, problems)
    _check_alerting(repo, known, problems)
    _check_app(repo, problems)
    summary = (f"{panels} panels in {len(repo.dashboard_files)} dashboards use "
               f"{len(known)} provisioned datasources")
    return CheckResult(CHECK, summary, problems)
