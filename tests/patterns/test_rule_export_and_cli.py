"""Every catalog pattern exports as valid LogQL; the CLI shows insights, the catalog and rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from analyzer.analysis.catalog import default_catalog
from analyzer.analysis.rule_export import RuleSpec, line_filter, rule_group
from analyzer.errors import InvalidParameter
from analyzer.lint.grammar import check_logql


def _spec(regex: str, **kw) -> RuleSpec:
    return RuleSpec(pattern_id="p1", pattern_type="x", regex=regex, severity="warning", suggestion="s", **kw)


def test_every_catalog_pattern_becomes_a_rule_loki_can_parse() -> None:
    exprs = [
        rule_group(_spec(p.regex, exclude=p.exclude, services=["api"]))["rules"][0]["expr"]
        for p in default_catalog()
    ]
    results = check_logql(exprs)
    assert [r.errors for r in results if not r.ok] == []


@pytest.mark.parametrize("regex", ["(?<=a)b", "(?!x)y", "(a)\\1", "a++"])
def test_regex_constructs_re2_lacks_are_refused(regex: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        line_filter(regex)
    assert info.value.code == "INVALID_REGEX"


@pytest.mark.parametrize(("name", "value"), [("interval", "5 minutes"), ("for_", "1m\n- x")])
def test_durations_are_checked_before_they_reach_the_rule(name: str, value: str) -> None:
    with pytest.raises(InvalidParameter):
        rule_group(_spec("timeout"), **{name: value})


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from analyzer.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "LOKI_URL": ""},
    )


def test_cli_json_lists_insights_with_the_root_cause_first() -> None:
    done = _cli("patterns", "--time-range", "7d", "--json")
    assert done.returncode == 0, done.stderr
    insights = json.loads(done.stdout)["insights"]
    assert insights[0]["kind"] == "root_cause" and insights[0]["evidence"]["logql"]


def test_cli_prints_a_rule_group_for_a_catalog_pattern() -> None:
    done = _cli("patterns", "--rule", "disk_full", "--services", "api,worker", "--threshold", "1")
    assert done.returncode == 0, done.stderr
    group = yaml.safe_load(done.stdout)
    assert group["rules"][0]["expr"].endswith("> 1") and 'service=~"api|worker"' in group["rules"][0]["expr"]


def test_cli_unknown_rule_pattern_is_a_clear_error() -> None:
    done = _cli("patterns", "--rule", "no_such_pattern")
    assert done.returncode == 2 and "ai-logs patterns --catalog" in done.stderr
