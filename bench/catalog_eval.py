"""Precision and recall of the named pattern catalog on the labelled line set.

Each line of the set carries the pattern a person expects (or null for a healthy or
unnamed line). A named prediction counts as a true positive only when the name is the
expected one; a wrong name is both a false positive and a false negative.

    .venv/bin/python bench/catalog_eval.py [--set tests/fixtures/catalog_labelled.jsonl] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.analysis.catalog import Catalog, default_catalog

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "catalog_labelled.jsonl"


def load_set(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(catalog: Catalog, rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    mistakes = []
    for row in rows:
        found = catalog.match(row["line"])
        predicted = found.name if found else None
        expected = row["expected"]
        if predicted == expected:
            if expected:
                tp[expected] += 1
            continue
        if predicted:
            fp[predicted] += 1
        if expected:
            fn[expected] += 1
        mistakes.append({"line": row["line"], "expected": expected, "predicted": predicted})
    t, p, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "lines": len(rows),
        "labelled_failing": sum(1 for r in rows if r["expected"]),
        "healthy_or_unnamed": sum(1 for r in rows if not r["expected"]),
        "precision": t / (t + p) if t + p else 1.0,
        "recall": t / (t + n) if t + n else 1.0,
        "true_positives": t,
        "false_positives": p,
        "false_negatives": n,
        "per_pattern": {
            name: {"tp": tp[name], "fp": fp[name], "fn": fn[name]}
            for name in sorted(set(tp) | set(fp) | set(fn))
        },
        "mistakes": mistakes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--errors", action="store_true", help="list every mistake")
    args = parser.parse_args()
    result = evaluate(default_catalog(), load_set(args.set))
    print(
        f"lines={result['lines']} failing={result['labelled_failing']} "
        f"healthy_or_unnamed={result['healthy_or_unnamed']} patterns_in_catalog={len(default_catalog())}"
    )
    print(
        f"precision={result['precision']:.3f} recall={result['recall']:.3f} "
        f"tp={result['true_positives']} fp={result['false_positives']} fn={result['false_negatives']}"
    )
    if args.errors:
        for m in result["mistakes"]:
            print(f"  expected={m['expected']} predicted={m['predicted']}: {m['line'][:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
