"""Latency of GET /api/v1/ai_logs/query over a 10k-line window, file source and Loki source.

The analyzer runs as deployed: gunicorn (gthread, one worker) in its own process. The bench
prints p50/p95 uncached and cached for each source, the raw fetch-and-parse time of the same
window, and the ratio of the whole uncached request to it (what analysis and serving add on top
of reading the logs). Targets: uncached p95 < 1 s, cached p95 < 5 ms.

    python bench/query_bench.py [--fixtures ../shared/fixtures/loki] [--lines 10000] [--runs 30]

The Loki source is served by `loki_replay.ReplayedLoki`: the recorded entries of a real Loki 3.5
push, replicated to the volume asked for, in Loki's categorize-labels response shape.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyzer.demo import generate  # noqa: E402 - after the path set-up above
from analyzer.model import NS_PER_SECOND, Query, instant_ns  # noqa: E402 - after the path set-up above
from analyzer.sources.files import FileSource  # noqa: E402 - after the path set-up above
from analyzer.sources.loki import LokiSource  # noqa: E402 - after the path set-up above

from gunicorn_process import start_gunicorn  # noqa: E402 - after the path set-up above
from loki_replay import ReplayedLoki  # noqa: E402 - after the path set-up above


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def measure(url: str, params: dict[str, str], runs: int) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url + "/api/v1/ai_logs/query", params=params)
            out.append(time.perf_counter() - started)
            response.raise_for_status()
    return out


def raw_fetch(source: FileSource | LokiSource, query: Query, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        source.fetch(query, limit=20000)
        out.append(time.perf_counter() - started)
    return out


def bench_source(
    name: str,
    env: dict[str, str],
    source: FileSource | LokiSource,
    params: dict[str, str],
    runs: int,
    data_dir: Path,
) -> None:
    url, proc = start_gunicorn(
        env
        | {
            "AI_LOGS_DATA_DIR": str(data_dir),
            "AI_LOGS_RATE_LIMIT": "100000",
            "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"),
        }
    )
    try:
        first = httpx.get(
            url + "/api/v1/ai_logs/query", params=params | {"cache": "false"}, timeout=60
        )
        body = first.json()
        uncached = measure(url, params | {"cache": "false"}, runs)
        measure(url, params, 1)  # fill the cache
        cached = measure(url, params, runs)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    raw = raw_fetch(source, Query(start=params["start"], end=params["end"]), max(5, runs // 3))
    ms = 1000
    print(
        f"  {name}: {body['metadata']['total_logs']} records in the window, {len(first.content) / 1024:.0f} KiB answer"
    )
    print(
        f"    uncached p50 {percentile(uncached, 50) * ms:8.1f} ms   p95 {percentile(uncached, 95) * ms:8.1f} ms   (target p95 < 1000 ms)"
    )
    print(
        f"    cached   p50 {percentile(cached, 50) * ms:8.2f} ms   p95 {percentile(cached, 95) * ms:8.2f} ms   (target p95 < 5 ms)"
    )
    print(
        f"    raw fetch+parse p50 {percentile(raw, 50) * ms:8.1f} ms; uncached request / raw fetch = "
        f"{statistics.median(uncached) / statistics.median(raw):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fixtures", default="../shared/fixtures/loki", help="recorded Loki responses"
    )
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "logs"
        # demo logs at a rate that puts about --lines lines in one hour
        truth = generate(logs, duration="1h", rate=args.lines / 60 * 0.93)
        start, end = truth["start"], truth["end"]
        print(
            f"query window {start} .. {end}; mode troubleshoot, limit 1000; analyzer under gunicorn"
        )
        params = {"mode": "troubleshoot", "start": start, "end": end, "limit": "1000"}
        files = FileSource(str(logs), clock="latest")
        bench_source(
            "file source", {"AI_LOGS_SOURCE": str(logs)}, files, params, args.runs, Path(tmp) / "v1"
        )

        start_ns, end_ns = instant_ns(start), instant_ns(end)
        replay = ReplayedLoki(
            Path(args.fixtures), entries=args.lines, start_ns=start_ns, end_ns=end_ns
        )
        loki_url = replay.start()
        try:
            loki = LokiSource(loki_url)
            bench_source(
                "Loki source (recorded entries, replayed)",
                {"LOKI_URL": loki_url},
                loki,
                params,
                args.runs,
                Path(tmp) / "v2",
            )
            print(f"    Loki requests served: {replay.requests}")
        finally:
            replay.stop()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS of the analyzer process {peak:.0f} MiB; window {(end_ns - start_ns) / NS_PER_SECOND:.0f} s"
    )


if __name__ == "__main__":
    main()
