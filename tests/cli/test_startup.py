"""Start-up imports only what a command runs (speed itself is measured by bench/cli_bench.py):
`--version` imports no command, a query of the bundled sample none of the optional libraries,
and the optional `tfidf` method says what to install when scikit-learn is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_after(code: str) -> set[str]:
    """Top-level module names loaded after running `code` in a fresh interpreter."""
    script = (f"import sys, json, io, contextlib\nwith contextlib.redirect_stdout(io.StringIO()):\n"
              f"    {code}\nprint(json.dumps(sorted(sys.modules)))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_version_imports_no_command_and_no_pydantic() -> None:
    loaded = modules_after("from analyzer.cli import main; main(['--version'])")
    assert not any(m.startswith("analyzer.cli.") and m.endswith("_cmd") for m in loaded)
    assert "pydantic" not in loaded and "yaml" not in loaded


def test_a_sample_query_imports_no_optional_library() -> None:
    loaded = modules_after("from analyzer.cli import main; main(['query'])")
    assert {"sklearn", "numpy", "scipy", "flask", "werkzeug"}.isdisjoint(loaded)
    assert "analyzer.analysis.pipeline" in loaded  # it did run the analysis


def test_the_tfidf_method_without_scikit_learn_says_what_to_install() -> None:
    script = (
        "import sys; sys.modules['sklearn'] = None\n"  # as if scikit-learn were not installed
        "from analyzer.analysis.anomalies import novel_templates\n"
        "from analyzer.model import LogRecord, Severity, TimeRange\n"
        "old = [LogRecord(i, 'api', Severity.ERROR, 'disk full on /var') for i in range(1, 5)]\n"
        "new = [LogRecord(i, 'api', Severity.ERROR, 'certificate expired') for i in range(6, 9)]\n"
        "try:\n"
        "    novel_templates(old + new, TimeRange(0, 10), method='tfidf')\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    assert "pip install 'ai-logs-analyzer[ml]'" in done.stdout
