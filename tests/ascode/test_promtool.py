"""Prometheus rules checked by Prometheus's own `promtool` (Debian's `prometheus` package):
`promtool check rules` on every rule file, `promtool test rules` on the alerts' unit tests in
tests/ascode/prometheus/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "provisioning/prometheus/rules").glob("*.yml"))
UNIT_TESTS = sorted((Path(__file__).parent / "prometheus").glob("*.test.yml"))


def promtool(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        raise RuntimeError("promtool is not installed (apt-get install prometheus)")
    return subprocess.run([binary, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_accepts_the_rule_file(path: Path) -> None:
    done = promtool("check", "rules", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize("path", UNIT_TESTS, ids=lambda p: p.name)
def test_the_alerts_pass_their_promtool_unit_tests(path: Path) -> None:
    done = promtool("test", "rules", path.name, cwd=path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_unit_test() -> None:
    import yaml

    alerts = {r["alert"] for p in RULE_FILES for g in yaml.safe_load(p.read_text())["groups"]
              for r in g["rules"] if "alert" in r}  # fmt: skip
    tested = {t["alertname"] for p in UNIT_TESTS for case in yaml.safe_load(p.read_text())["tests"]
              for t in case.get("alert_rule_test", [])}  # fmt: skip
    assert alerts and alerts == tested


def test_promtool_refuses_a_broken_expression(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RULE_FILES[0].read_text().replace("[5m]", "[5m", 1))
    done = promtool("check", "rules", broken)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


def test_a_unit_test_with_the_wrong_expectation_fails(tmp_path: Path) -> None:
    [source] = [p for p in UNIT_TESTS if "9.75s" in p.read_text()]
    changed = tmp_path / source.name
    text = source.read_text().replace("is 9.75s", "is 9s")
    changed.write_text(text.replace("../../../provisioning", str(ROOT / "provisioning")))
    done = promtool("test", "rules", changed.name, cwd=tmp_path)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
