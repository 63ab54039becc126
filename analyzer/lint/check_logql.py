"""Class `logql`: every LogQL expression parses with Grafana's grammar, its regexes compile and
its stream selectors use index labels only (an id in a selector is a label that must not exist).
"""

from __future__ import annotations

import re

from analyzer.lint.expressions import LogQLExpression, collect
from analyzer.lint.fields import log_fields
from analyzer.lint.grammar import check_logql
from analyzer.lint.problems import CheckResult, Problem
from analyzer.lint.repository import Repository

CHECK = "logql"


def problems_of(expressions: list[LogQLExpression]) -> list[Problem]:
    problems: list[Problem] = []
    index_labels = log_fields().index_labels
    results = check_logql([e.checkable for e in expressions])
    for expression, result in zip(expressions, results, strict=True):
        for error in result.errors:
            problems.append(Problem(
                CHECK, expression.path, expression.line + error.line - 1,
                f"LogQL syntax error at expression line {error.line}, col {error.col}: "
                f"{error.message} in `{_short(expression.expr)}`"))
        for pattern in result.regexes:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(Problem(CHECK, expression.path, expression.line,
                                        f"regex `{pattern}` does not compile: {exc}"))
        for label in result.selector_labels:
            if label not in index_labels:
                problems.append(Problem(
                    CHECK, expression.path, expression.line,
                    f"stream selector uses `{label}`, which is not an index label; filter "
                    f"structured metadata after the selector: `{{job=~\".+\"}} | {label}=\"...\"`"))
    return problems


def _short(expr: str) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= 90 else flat[:87] + "..."


def check(repo: Repository) -> CheckResult:
    expressions = collect(repo)
    result = CheckResult(CHECK, problems=problems_of(expressions))
    by_source: dict[str, int] = {}
    for expression in expressions:
        by_source[expression.source] = by_source.get(expression.source, 0) + 1
    detail = ", ".join(f"{count} {source}" for source, count in sorted(by_source.items()))
    result.summary = f"{len(expressions)} LogQL expressions parse ({detail})"
    return result
