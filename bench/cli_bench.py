"""What a CLI user waits: wall time of whole `ai-logs` processes, start to exit.

Usage: python bench/cli_bench.py [--runs 15] [--ai-logs PATH] [--dump DIR [--dump-lines N]]
Runs each command `--runs` times as a fresh process (the console script next to this Python
unless `--ai-logs` is given) and prints, as JSON, min / median / p95 wall seconds and the median
CPU seconds of the process for:
- `python -c pass`: the interpreter's own start-up, the floor every command pays;
- `ai-logs --version`;
- `ai-logs query` on the bundled sample (the README's first command), text and `--json`;
- `ai-logs patterns` on the bundled sample;
- with `--dump`, `ai-logs query --source DIR --time-range 1h` over a large dump (generated there
  first when the directory holds no logs): each run is a new process that reads the files again,
  which is what a CLI user waits, unlike bench/files_bench.py's repeated in-process reads;
and the modules a sample query imported that only optional features need (scikit-learn, numpy,
scipy, Flask): none are expected.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPTIONAL = ("sklearn", "numpy", "scipy", "flask")


def wall(command: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Wall seconds (what the user waits) and CPU seconds of the process (user + system: what
    it costs, steadier than wall time on a machine shared with other work)."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=True)  # fmt: skip
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    times.sort()
    return {
        "min_s": round(times[0], 3),
        "median_s": round(statistics.median(times), 3),
        "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3),
        "cpu_median_s": round(statistics.median(cpu), 3),
    }


def ensure_dump(out: Path, lines: int) -> int:
    """Demo logs of about `lines` lines over 6 hours in `out`, unless it already holds logs."""
    if not any(out.glob("*.jsonl")):
        from analyzer.demo import generate

        generate(out, duration="6h", rate=lines / 360 / 1.05, seed=7)
    return sum(path.read_bytes().count(b"\n") for path in out.iterdir() if path.is_file()
               and path.suffix in (".jsonl", ".log"))  # fmt: skip


def optional_imports(ai_logs: str, env: dict[str, str]) -> list[str]:
    """Top-level modules among OPTIONAL that `ai-logs query` imported (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", ai_logs, "query"],
                          capture_output=True, text=True, env=env, check=True)  # fmt: skip
    found = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return sorted(name for name in OPTIONAL if name in found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--ai-logs", default=str(Path(sys.executable).with_name("ai-logs")))
    parser.add_argument("--dump", help="a directory of log files (generated when empty)")
    parser.add_argument("--dump-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="ai-logs-bench-")
    # the bundled sample, whatever Loki or files this shell points at
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LOKI_", "AI_LOGS_")) and k != "REDIS_URL"}  # fmt: skip
    env["XDG_STATE_HOME"] = state
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "ai-logs --version": [args.ai_logs, "--version"],
        "ai-logs query (bundled sample)": [args.ai_logs, "query"],
        "ai-logs query --json (bundled sample)": [args.ai_logs, "query", "--json"],
        "ai-logs patterns (bundled sample)": [args.ai_logs, "patterns"],
    }
    if args.dump:
        lines = ensure_dump(Path(args.dump), args.dump_lines)
        commands[f"ai-logs query --source DUMP --time-range 1h ({lines} lines)"] = [
            args.ai_logs, "query", "--source", args.dump, "--time-range", "1h"]
    wall(commands["ai-logs query (bundled sample)"], 1, env)  # bytecode compiled, page cache warm
    report: dict[str, object] = {
        name: wall(command, args.runs if "DUMP" not in name else max(3, args.runs // 5), env)
        for name, command in commands.items()
    }
    report["optional modules imported by a sample query"] = optional_imports(args.ai_logs, env)
    report["cpus"] = os.cpu_count()
    report["load_average_1m"] = round(os.getloadavg()[0], 2)
    report["runs"] = args.runs
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
