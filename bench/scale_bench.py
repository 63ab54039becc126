"""Whole-window analysis at 100k, 1M and 3M lines: time, memory and exactness against the floor.

For each size, `ai-logs demo window` writes a window with a cache outage (its ground truth counts
what was written); then `ai-logs query --source DIR --json` troubleshoots the whole window as a
CLI user runs it, in a process of its own. Printed per size: lines, wall seconds and peak RSS of
that process, whether the first insight names the root cause, the largest count error over the
totals, lines and errors per service and level and first errors (must be 0), and, measured in
the same run over the same files, a plain counting pass (every line read and counted in Python,
nothing parsed): the floor, and the analysis's time as a multiple of it.

    python bench/scale_bench.py [--sizes 100k,1M,3M] [--work DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.demo.window import generate_window  # noqa: E402

# lines ~= hours * 3600 * rate * (1 + the outage's share)
SIZES = {"100k": (1.0, 15.0), "1M": (3.0, 70.0), "3M": (6.0, 110.0)}


def ai_logs() -> str:
    return str(Path(sys.executable).with_name("ai-logs"))


def run(argv: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) of the process, and its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_maxrss, out


def floor_pass(directory: Path) -> float:
    """Every line of the window's files read and counted by service file: the least a Python
    pass over the same bytes costs."""
    code = (
        "import sys, pathlib\n"
        "n = 0\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
        "    if p.suffix in ('.jsonl', '.log'):\n"
        "        with p.open('rb') as f:\n"
        "            for _ in f: n += 1\n"
        "print(n)\n"
    )
    wall, _, _ = run([sys.executable, "-c", code, str(directory)])
    return wall


def count_errors(answer: dict[str, Any], truth: dict[str, Any]) -> int:
    """The largest difference between a reported count and the truth (0 when all are exact);
    a wrong first error counts as 1."""
    summary = answer["summary"]
    diffs = [
        abs(summary["total_records"] - truth["total_lines"]),
        abs(summary["error_count"] - truth["total_errors"]),
        abs(summary["warning_count"] - truth["total_warnings"]),
    ]
    for service, lines in truth["lines_by_service"].items():
        diffs.append(abs(summary["by_service"].get(service, 0) - lines))
    errors = {a["service"]: a for a in summary["affected_services"]}
    for key, n in truth["count_by_service_level"].items():
        service, level = key.split("/")
        if level == "error":
            diffs.append(abs(errors.get(service, {}).get("errors", 0) - n))
    for service, first in truth["first_error"].items():
        diffs.append(int(errors.get(service, {}).get("first_error") != first))
    return max(diffs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M,3M")
    parser.add_argument("--work", default=None, help="where windows are written (kept)")
    parser.add_argument("--runs", type=int, default=3, help="analysis runs per size (median)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="scale-bench-"))
    print(f"{'size':>5} {'lines':>10} {'wall s':>7} {'peak MiB':>9} {'root cause':>10} "
          f"{'count err':>9} {'floor s':>8} {'x floor':>7}")
    for size in args.sizes.split(","):
        hours, rate = SIZES[size]
        directory = work / size
        truth_file = directory / "ground_truth.json"
        if not truth_file.exists():
            generate_window(directory, hours=hours, rate=rate)
        truth = json.loads(truth_file.read_text())
        argv = [ai_logs(), "query", "--source", str(directory), "--json",
                "--from", truth["window_start"], "--to", truth["window_end"]]  # fmt: skip
        walls, peaks, answer = [], [], {}
        for _ in range(max(1, args.runs)):
            wall, peak, out = run(argv)
            walls.append(wall)
            peaks.append(peak)
            answer = json.loads(out)
        floors = sorted(floor_pass(directory) for _ in range(max(1, args.runs)))
        wall = sorted(walls)[len(walls) // 2]
        floor = floors[len(floors) // 2]
        top = answer["insights"][0] if answer["insights"] else {}
        right = top.get("kind") == "root_cause" and top.get("service") == truth["root_service"]
        print(f"{size:>5} {truth['total_lines']:>10,} {wall:>7.2f} {max(peaks) / 1024:>9.0f} "
              f"{'right' if right else 'WRONG':>10} {count_errors(answer, truth):>9} "
              f"{floor:>8.2f} {wall / floor:>7.1f}")
    print(f"(windows in {work}; wall is the median of {args.runs} runs of `ai-logs query --json`)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
