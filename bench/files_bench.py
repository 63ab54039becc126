"""FileSource over a large generated dump: first (index-building) reads, repeated reads, memory.

Usage: python bench/files_bench.py [--dir PATH] [--lines 1000000] [--repeats 7]
`--dir` is read as it is when it holds log files; otherwise demo logs of about `--lines` lines
are generated there first (and reused on the next run). Prints, as JSON:
- the first query over the new files, twice from a fresh source: a relative "last 1h, errors"
  fetch (one pass builds the index and answers), and the service's way (`now_ns()` builds the
  index, then the absolute window is fetched), each with lines/s over the whole dump;
- repeated queries once indexed (p50/p95 over `--repeats` runs): the last hour's errors, the
  last hour at every level with the service's record limit, and a window of about 10k lines
  (every record, the newest 1000, and its warnings and errors);
- peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzer.demo import generate
from analyzer.model import NS_PER_SECOND, Query, Severity
from analyzer.sources.base import FetchResult
from analyzer.sources.files import FileSource

HOURS = 6
SERVICE_LIMIT = 10_000  # what the service asks for: max(query.limit * 10, 5000)


def ensure_data(out: Path, lines: int) -> None:
    if FileSource(str(out)).files():
        return
    started = time.perf_counter()
    generate(out, duration=f"{HOURS}h", rate=lines / (HOURS * 60) / 1.05, seed=7)
    print(f"generated in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            total += sum(
                chunk.count(b"\n") for chunk in iter(lambda h=handle: h.read(1 << 20), b"")
            )
    return total


def timed(run: Callable[[], FetchResult]) -> tuple[float, FetchResult]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def repeated(run: Callable[[], FetchResult], repeats: int) -> dict[str, Any]:
    seconds = []
    result = None
    for _ in range(repeats):
        spent, result = timed(run)
        seconds.append(spent)
    assert result is not None
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000, 1),
        "records": len(result.records),
        "lines_parsed": result.stats["records_parsed"],
    }


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/ai-logs-files-bench", help="log files to read")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines to generate")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    out = Path(args.dir)
    ensure_data(out, args.lines)
    paths = FileSource(str(out)).files()
    lines = count_lines(paths)
    figures: dict[str, Any] = {
        "lines": lines,
        "megabytes": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
    }
    errors_1h = Query(time_range="1h", severity_threshold="error")

    spent, first = timed(lambda: FileSource(str(out)).fetch(errors_1h))
    figures["first_query"] = {
        "seconds": round(spent, 2),
        "lines_per_s": round(lines / spent),
        "lines_parsed": first.stats["records_parsed"],
    }

    source = FileSource(str(out))

    def service_first() -> FetchResult:
        window = errors_1h.window(now=source.now_ns())
        absolute = errors_1h.model_copy(
            update={"start": at(window.start_ns), "end": at(window.end_ns)}
        )
        return source.fetch(absolute, limit=SERVICE_LIMIT)

    spent, first = timed(service_first)
    figures["first_query_service_path"] = {
        "seconds": round(spent, 2),
        "lines_per_s": round(lines / spent),
        "lines_parsed": first.stats["records_parsed"],
    }

    figures["repeat_1h_errors"] = repeated(lambda: source.fetch(errors_1h), args.repeats)
    figures["repeat_1h_all_levels"] = repeated(
        lambda: source.fetch(Query(time_range="1h"), limit=SERVICE_LIMIT), args.repeats
    )
    end = source.now_ns()
    span_ns = int(10_000 / lines * HOURS * 3600 * NS_PER_SECOND)
    ten_k = Query(start=at(end - span_ns), end=at(end))
    figures["repeat_10k_line_window"] = repeated(
        lambda: source.fetch(ten_k, limit=SERVICE_LIMIT), args.repeats
    )
    figures["repeat_10k_line_window_newest_1000"] = repeated(
        lambda: source.fetch(ten_k, limit=1000), args.repeats
    )
    figures["repeat_10k_line_window_warnings"] = repeated(
        lambda: source.fetch(ten_k.model_copy(update={"severity_threshold": Severity.WARN})),
        args.repeats,
    )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
