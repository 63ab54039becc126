"""The named pattern catalog: every entry's examples, the user extension, and the labelled set."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from analyzer.analysis.catalog import CatalogError, default_catalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

SEED_PATTERNS = (
    "connection_timeout", "connection_refused", "rate_limit_exceeded", "out_of_memory",
    "memory_leak", "db_connection_pool", "slow_query", "token_limit_exceeded", "model_timeout",
    "hallucination_detected", "auth_failure", "permission_denied", "file_parsing_error",
    "file_size_limit",
)
CATALOG = default_catalog()
POSITIVES = [(p.name, line) for p in CATALOG for line in p.examples_match]
NEGATIVES = [(p.name, line) for p in CATALOG for line in p.examples_no_match]


def test_catalog_holds_the_seed_patterns_and_at_least_sixteen_more() -> None:
    names = {p.name for p in CATALOG}
    assert set(SEED_PATTERNS) <= names
    assert len(names - set(SEED_PATTERNS)) >= 16


@pytest.mark.parametrize("pattern", list(CATALOG), ids=lambda p: p.name)
def test_every_pattern_has_category_severity_suggestion_and_both_kinds_of_example(pattern) -> None:
    assert pattern.category and pattern.suggestion
    assert pattern.blame in ("self", "upstream", "caller")
    assert pattern.examples_match, "needs lines it must name"
    assert pattern.examples_no_match, "needs healthy lines it must not name"


@pytest.mark.parametrize(("name", "line"), POSITIVES)
def test_positive_example_is_named_by_its_pattern(name: str, line: str) -> None:
    found = CATALOG.match(line)
    assert found is not None and found.name == name


@pytest.mark.parametrize(("name", "line"), NEGATIVES)
def test_negative_example_is_named_by_no_pattern(name: str, line: str) -> None:
    assert CATALOG.match(line) is None


@pytest.mark.parametrize(
    "line",
    ["0 errors, 0 warnings", "timeout=30 retries=3", "connect_timeout: 10s", "max_tokens=4096"],
)
def test_config_dumps_and_zero_counts_are_healthy(line: str) -> None:
    assert CATALOG.match(line) is None


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "patterns.yaml"
    path.write_text(text)
    return str(path)


def test_user_file_adds_patterns_ahead_of_the_builtin_ones(tmp_path: Path) -> None:
    user = _write(tmp_path, """
patterns:
  - name: vector_index_missing
    category: search
    severity: error
    regex: 'collection \\S+ (?:not found|does not exist)'
    suggestion: Re-create the collection.
""")
    catalog = load_catalog(user)
    assert catalog.patterns[0].name == "vector_index_missing"
    assert catalog.match("collection ws-4 not found in vector-db").name == "vector_index_missing"
    assert len(catalog) == len(CATALOG) + 1


def test_user_pattern_replaces_the_builtin_of_the_same_name(tmp_path: Path) -> None:
    user = _write(tmp_path, """
patterns:
  - name: slow_query
    category: database
    severity: error
    regex: 'query took \\d{4,}ms'
    suggestion: Our own threshold.
""")
    catalog = load_catalog(user)
    assert catalog.get("slow_query").severity.label == "error"
    assert catalog.match("query took 2500ms").name == "slow_query"
    assert len(catalog) == len(CATALOG)


@pytest.mark.parametrize(
    ("regex", "why"),
    [("(?<!no )leak", "lookbehind"), ("(a)\\1", "backreference"), ("([a-", "")],
)
def test_user_regex_that_re2_cannot_run_is_refused_with_the_pattern_name(
    tmp_path: Path, regex: str, why: str
) -> None:
    user = _write(tmp_path, f"""
patterns:
  - name: bad_one
    category: x
    severity: warn
    regex: '{regex}'
    suggestion: s
""")
    with pytest.raises(CatalogError, match="bad_one") as info:
        load_catalog(user)
    assert why in str(info.value)


def test_labelled_set_precision_and_recall(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("catalog_eval", ROOT / "bench" / "catalog_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.load_set(FIXTURES / "catalog_labelled.jsonl")
    result = module.evaluate(CATALOG, rows)
    with capsys.disabled():
        print(
            f"\ncatalog on {result['lines']} labelled lines: precision={result['precision']:.3f} "
            f"recall={result['recall']:.3f}"
        )
    assert result["lines"] >= 300
    assert result["labelled_failing"] >= 100 and result["healthy_or_unnamed"] >= 100
    assert len({r["source"] for r in rows}) >= 8
    assert result["precision"] >= 0.95
    assert result["recall"] >= 0.9


def test_labelled_set_names_only_catalog_patterns() -> None:
    lines = (FIXTURES / "catalog_labelled.jsonl").read_text().splitlines()
    expected = {json.loads(line)["expected"] for line in lines} - {None}
    assert expected <= {p.name for p in CATALOG}
