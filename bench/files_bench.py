"""FileSource over a large generated dump: first (index-building) read, repeated reads, memory.

Usage: python bench/files_bench.py [--lines 1000000] [--dir /tmp/ai-logs-files-bench]
Generates demo logs at a rate that gives about `--lines` lines (once; reused when present), then
times a first query (parses everything and builds the index), a repeated query over the last
hour (served from time blocks), and reports peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from analyzer.demo import generate
from analyzer.model import Query
from analyzer.sources.files import FileSource


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/ai-logs-files-bench")
    args = parser.parse_args()
    out = Path(args.dir)
    truth_file = out / "ground_truth.json"
    hours = 6
    if not truth_file.exists():
        started = time.perf_counter()
        generate(out, duration=f"{hours}h", rate=args.lines / (hours * 60) / 1.05, seed=7)
        print(f"generated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    lines = sum(json.loads(truth_file.read_text())["files"].values())
    source = FileSource(str(out))
    figures: dict[str, float | int] = {"lines": lines}

    started = time.perf_counter()
    first = source.fetch(Query(time_range="1h", severity_threshold="error"))
    figures["first_query_s"] = round(time.perf_counter() - started, 2)
    figures["first_query_records_parsed"] = first.stats["records_parsed"]

    started = time.perf_counter()
    again = source.fetch(Query(time_range="1h", severity_threshold="error"))
    figures["repeat_query_s"] = round(time.perf_counter() - started, 2)
    figures["repeat_query_records_parsed"] = again.stats["records_parsed"]
    figures["matched"] = again.stats["matched"]

    started = time.perf_counter()
    source.fetch(Query(time_range="5m"), limit=1000)
    figures["repeat_5m_query_s"] = round(time.perf_counter() - started, 2)

    figures["lines_per_s_first_pass"] = round(lines / figures["first_query_s"])
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
