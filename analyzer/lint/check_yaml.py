"""Class `yaml`: every YAML and JSON file of the as-code folders parses."""

from __future__ import annotations

from analyzer.lint.alloy import parse_alloy
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository
from analyzer.lint.sourcemap import SourceError

CHECK = "yaml"


def check(repo: Repository) -> CheckResult:
    result = CheckResult(CHECK)
    files = repo.yaml_files + repo.json_files
    for path in files:
        try:
            repo.load(path)
        except SourceError as exc:
            result.problems.append(Problem(CHECK, repo.rel(path), exc.line, exc.message, exc.col))
    for path in repo.alloy_configs:
        try:
            parse_alloy(path.read_text(encoding="utf-8"))
        except SourceError as exc:
            result.problems.append(Problem(CHECK, repo.rel(path), exc.line, exc.message))
    count = len(files) + len(repo.alloy_configs)
    result.summary = f"{count} YAML/JSON/Alloy files parse"
    return result
