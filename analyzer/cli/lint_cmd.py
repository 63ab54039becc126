"""`ai-logs lint`: validate the repository's configuration as code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "lint",
        help="check Promtail/Alloy, ruler rules, Grafana provisioning and dashboards",
        description=(
            "Check the configuration as code: YAML/JSON parse; ruler rule groups; LogQL with "
            "Grafana's grammar; pipeline fields; dashboard datasource uids; Prometheus rules. "
            "Stops at the first class of problem and exits 1; exits 2 where there is nothing to "
            "check."
        ),
    )
    parser.add_argument("root", nargs="?", default=".", type=Path,
                        help="repository root (default: the current directory)")
    parser.add_argument("--all", action="store_true",
                        help="run every class of check instead of stopping at the first failing")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.common import print_json
    from analyzer.lint import run_lint
    from analyzer.lint.repository import AS_CODE_DIRS, Repository

    if not Repository(args.root).has_config:
        folders = ", ".join(f"{d}/" for d in AS_CODE_DIRS)
        message = (f"nothing to check in {args.root.resolve()}: none of {folders} is there; "
                   "run it at the repository's root or give the root as an argument")  # fmt: skip
        if args.json:
            print_json({"ok": False, "checks": [], "message": message})
        else:
            print(f"ai-logs lint: {message}", file=sys.stderr)
        return 2
    results = run_lint(args.root, keep_going=args.all)
    failed = [r for r in results if r.problems]
    if args.json:
        print_json({
            "ok": not failed,
            "checks": [
                {"check": r.check, "ok": r.ok, "summary": r.summary,
                 "problems": [p.__dict__ for p in r.problems]}
                for r in results
            ],
        })
        return 1 if failed else 0
    for result in results:
        if result.ok:
            print(f"ok    {result.check:<11} {result.summary}")
        else:
            print(f"FAIL  {result.check:<11} {len(result.problems)} problem(s)")
            for problem in result.problems:
                print(f"  {problem.format()}")
    if failed:
        print(f"ai-logs lint: {sum(len(r.problems) for r in failed)} problem(s) in "
              f"{', '.join(r.check for r in failed)}")
        return 1
    print("ai-logs lint: no problems")
    return 0
