"""Helpers for the configuration-as-code tests: a broken copy of the repository's as-code
folders, and running `ai-logs lint` on it as a real subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

AS_CODE = ("promtail", "ruler_rules", "provisioning", "grafana_app")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The as-code folders copied into a scratch repository, to break on purpose."""
    for folder in AS_CODE:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


@pytest.fixture
def lint() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`ai-logs lint ROOT [args]` as a real subprocess."""

    def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())",
             "lint", str(root), *args],
            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
        )

    return run


@pytest.fixture
def edit() -> Callable[[Path, str, str], int]:
    """Replace the first occurrence of `old` by `new` in a file; returns old's 1-based line."""

    def replace(path: Path, old: str, new: str) -> int:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        line = text[: text.index(old)].count("\n") + 1
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return line

    return replace
