"""Class `pipelines`: Promtail and Alloy pipelines read only fields the logs have."""

from __future__ import annotations

from analyzer.lint.pipelines import check_pipeline, load_pipelines
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository

CHECK = "pipelines"


def check(repo: Repository) -> CheckResult:
    problems: list[Problem] = []
    pipelines = load_pipelines(repo.root, repo.promtail_configs, repo.alloy_configs, repo.rel,
                               repo.load, problems)
    for pipeline in pipelines:
        check_pipeline(pipeline, problems)
    files = len(repo.promtail_configs) + len(repo.alloy_configs)
    summary = f"{len(pipelines)} pipelines in {files} Promtail/Alloy files"
    return CheckResult(CHECK, summary, problems)
