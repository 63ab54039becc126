"""LogQL syntax check with Grafana's own grammar (`@grafana/lezer-logql`, run by node).

The grammar is the one Grafana's query editor uses, so an expression it rejects is one Loki
rejects too. Node and the npm package are a development dependency of linting only; when
either is missing the error says how to install it instead of skipping the check.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import AnalyzerError

CHECKER_DIR = Path(__file__).resolve().parent / "logql_grammar"
CHECKER = CHECKER_DIR / "check_logql.mjs"
INSTALL_COMMAND = "npm ci --prefix analyzer/lint/logql_grammar"


class GrammarUnavailable(AnalyzerError):
    status = 503
    code = "LOGQL_GRAMMAR_UNAVAILABLE"
    suggestion = f"Install node (>= 18) and run `{INSTALL_COMMAND}` in the repository."


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based, within the expression
    col: int
    message: str


@dataclass
class GrammarResult:
    expr: str
    errors: list[SyntaxProblem] = field(default_factory=list)
    selector_labels: list[str] = field(default_factory=list)
    regexes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise GrammarUnavailable("node is not installed: the LogQL grammar check needs it")
    if not (CHECKER_DIR / "node_modules" / "@grafana" / "lezer-logql").is_dir():
        raise GrammarUnavailable(
            f"@grafana/lezer-logql is not installed in {CHECKER_DIR.name}/: run `{INSTALL_COMMAND}`"
        )
    return node


def check_logql(expressions: list[str]) -> list[GrammarResult]:
    """One result per expression, in order; one node process for the whole batch."""
    if not expressions:
        return []
    payload = json.dumps([{"id": i, "expr": e} for i, e in enumerate(expressions)])
    proc = subprocess.run(
        [_node(), str(CHECKER)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise GrammarUnavailable(f"the LogQL checker failed: {proc.stderr.strip()[:500]}")
    results = []
    for expr, raw in zip(expressions, json.loads(proc.stdout), strict=True):
        results.append(
            GrammarResult(
                expr=expr,
                errors=[SyntaxProblem(e["line"], e["col"], e["message"]) for e in raw["errors"]],
                selector_labels=raw["selector_labels"],
                regexes=[r["pattern"] for r in raw["regexes"]],
            )
        )
    return results
