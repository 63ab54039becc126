"""Schemathesis over /openapi.json, every operation, with and without a key; prints the figures.

    python bench/fuzz_api.py [--examples N]

Runs tests/web/test_fuzz_openapi.py with N examples per operation and auth mode (default 10)
and prints the number of cases, the 5xx answers and the answers outside the document (both must
be 0: the test fails otherwise), then how far the request schemas agree with the service.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10, help="per operation and auth mode")
    args = parser.parse_args()
    env = {**os.environ, "AI_LOGS_FUZZ_EXAMPLES": str(args.examples)}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         "tests/web/test_fuzz_openapi.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    lines = run.stdout.splitlines()
    report = [line for line in lines if line.startswith(("schemathesis cases", "  valid", "  invalid"))]
    failed = [line for line in lines if line.startswith("FAILED")]
    print(f"examples per operation and auth mode: {args.examples}; {elapsed:.0f} s")
    for line in report:
        print(line[:300])
    print(f"5xx answers and answers outside the document: {'none' if run.returncode == 0 else 'see below'}")
    for line in failed:
        print(line)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
