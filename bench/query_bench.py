"""Latency of GET /api/v1/ai_logs/query over a 10k-line window, file source and Loki source.

Prints p50/p95 uncached and cached for each source, and the ratio of the whole uncached request
to the raw fetch-and-parse time (what the analysis adds on top of reading the logs). Targets:
uncached p95 < 1 s, cached p95 < 5 ms.

    python bench/query_bench.py [--fixtures ../shared/fixtures/loki] [--lines 10000] [--runs 30]

The Loki source is served by `loki_replay.ReplayedLoki`: the recorded entries of a real Loki 3.5
push, replicated to the volume asked for, in Loki's categorize-labels response shape.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import httpx
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.demo import generate
from analyzer.model import NS_PER_SECOND, Query, instant_ns
from analyzer.services import build_services
from analyzer.sources.files import FileSource
from analyzer.sources.loki import LokiSource

from loki_replay import ReplayedLoki


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def serve(app: object) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def measure(url: str, params: dict[str, str], runs: int) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url + "/api/v1/ai_logs/query", params=params)
            out.append(time.perf_counter() - started)
            response.raise_for_status()
    return out


def raw_fetch(source: object, query: Query, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        result = source.fetch(query, limit=20000)  # type: ignore[attr-defined]
        out.append(time.perf_counter() - started)
    print(f"    raw fetch+parse returned {len(result.records)} records")
    return out


def report(name: str, uncached: list[float], cached: list[float], raw: list[float]) -> None:
    ms = 1000
    print(f"  {name}")
    print(
        f"    uncached p50 {percentile(uncached, 50) * ms:8.1f} ms   p95 {percentile(uncached, 95) * ms:8.1f} ms"
        f"   (target p95 < 1000 ms)"
    )
    print(
        f"    cached   p50 {percentile(cached, 50) * ms:8.2f} ms   p95 {percentile(cached, 95) * ms:8.2f} ms"
        f"   (target p95 < 5 ms)"
    )
    print(
        f"    raw fetch+parse p50 {percentile(raw, 50) * ms:8.1f} ms; request/raw ratio "
        f"{statistics.median(uncached) / statistics.median(raw):.2f}x"
    )


def bench_source(
    name: str, settings: Settings, source: object, params: dict[str, str], runs: int
) -> None:
    app = create_app(settings, services=build_services(settings, source=source))  # type: ignore[arg-type]
    url, server = serve(app)
    try:
        first = httpx.get(
            url + "/api/v1/ai_logs/query", params=params | {"cache": "false"}, timeout=60
        ).json()
        print(f"  {name}: window holds {first['metadata']['total_logs']} records")
        uncached = measure(url, params | {"cache": "false"}, runs)
        measure(url, params, 1)  # fill the cache
        cached = measure(url, params, runs)
        window_query = Query(start=params["start"], end=params["end"])
        raw = raw_fetch(source, window_query, max(5, runs // 3))
        report(name, uncached, cached, raw)
    finally:
        server.shutdown()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fixtures", default="../shared/fixtures/loki", help="recorded Loki responses"
    )
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        # file source: demo logs at a rate that puts ~--lines lines in one hour
        truth = generate(Path(tmp) / "logs", duration="1h", rate=args.lines / 60 * 0.93)
        start, end = truth["start"], truth["end"]
        print(f"query window {start} .. {end}")
        settings = Settings(source_path=str(Path(tmp) / "logs"), data_dir=str(Path(tmp) / "var"))
        files = FileSource(settings.source_path or "", clock="latest")
        params = {"mode": "troubleshoot", "start": start, "end": end, "limit": "1000"}
        bench_source("file source", settings, files, params, args.runs)

        start_ns, end_ns = instant_ns(start), instant_ns(end)
        replay = ReplayedLoki(
            Path(args.fixtures), entries=args.lines, start_ns=start_ns, end_ns=end_ns
        )
        loki_url = replay.start()
        try:
            loki_settings = Settings(loki_url=loki_url, data_dir=str(Path(tmp) / "var2"))
            loki = LokiSource(loki_url)
            bench_source(
                "Loki source (recorded entries, replayed)", loki_settings, loki, params, args.runs
            )
            print(f"    Loki requests served: {replay.requests}")
        finally:
            replay.stop()
    _, peak = tracemalloc.get_traced_memory()
    print(
        f"peak Python memory {peak / 2**20:.1f} MiB; window {((end_ns - start_ns) / NS_PER_SECOND):.0f} s"
    )


if __name__ == "__main__":
    main()
