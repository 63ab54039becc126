"""One troubleshoot over Loki against Loki's own time for one count over the window.

The recorded answers of a real Loki over a 1,036,196-line window (tests/fixtures/loki_scale)
are served with the time Loki took to compute each (`stats.summary.execTime` + `queueTime`,
recorded one query at a time). A request the recording lacks (a message count, an onset read)
is answered 404 after the recorded time of the same kind of request (a line-filter count, a
forward read of error lines), so it costs what it would. Printed: the analysis's wall time, the
requests it sent and how many ran at once, and the ratio to Loki's time for one instant count
over the window (`totals_instant`), the anchor.

Loki answered each recorded query alone; queries sent together share its queriers, so on a
single-binary Loki the real ratio is higher than printed here.

    python bench/loki_window_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.analysis.pipeline import analyze  # noqa: E402
from analyzer.model import Query  # noqa: E402
from analyzer.sources.loki import LokiSource  # noqa: E402

SCALE = ROOT / "tests" / "fixtures" / "loki_scale"
START, END = "1796141142000000000", "1796151942000000000"


def _server_module() -> Any:
    spec = importlib.util.spec_from_file_location("recorded_loki", ROOT / "tests" / "loki" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _seconds(exchange: dict[str, Any]) -> float:
    body = exchange.get("body")
    data = body.get("data") if isinstance(body, dict) else None
    summary = (data.get("stats") or {}).get("summary") if isinstance(data, dict) else None
    if not summary:
        return 0.0
    return float(summary.get("execTime") or 0) + float(summary.get("queueTime") or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = _server_module()
    exchanges = [json.loads(p.read_text()) for p in sorted(SCALE.glob("*.json")) if p.name != "truth.json"]
    by_name = {p.stem: json.loads(p.read_text()) for p in SCALE.glob("*.json")}
    stand_ins = {"count": _seconds(by_name["line_filter_count_1m"]),
                 "lines": _seconds(by_name["first_errors_forward"])}  # fmt: skip
    anchor = _seconds(by_name["totals_instant"])

    class TimedLoki(server.ReplayLoki):
        in_flight = 0
        most = 0
        lock = threading.Lock()

        def answer(self, seen: Any) -> Any:
            with self.lock:
                self.in_flight += 1
                TimedLoki.most = max(TimedLoki.most, self.in_flight)
            try:
                found = super().answer(seen)
                recorded = self._match(seen) or self._recorded_for(seen)
                if recorded is not None:
                    delay = _seconds(recorded)
                elif seen.path.endswith("/query") or "step" in seen.params:
                    delay = stand_ins["count"]
                elif seen.path.endswith("/query_range"):
                    delay = stand_ins["lines"]
                else:
                    delay = 0.0
                time.sleep(delay)  # here, so that requests in flight are counted while they wait
                return found
            finally:
                with self.lock:
                    self.in_flight -= 1

        def _recorded_for(self, seen: Any) -> dict[str, Any] | None:
            base, _ = server._split_service(seen.params.get("query", ""))
            return next((e for e in self.exchanges
                         if e["request"]["params"].get("query") == base
                         and e["request"]["path"] == seen.path), None)  # fmt: skip

    walls, requests = [], 0
    for _ in range(max(1, args.runs)):
        loki = TimedLoki(exchanges)
        serving = server._serve(loki)
        next(serving)
        source = LokiSource(loki.url, retries=0, selector='{env="prod"}')
        query = Query(start=START, end=END)
        started = time.perf_counter()
        analysis = analyze(source.read_window(query), query)
        walls.append(time.perf_counter() - started)
        requests = len(loki.requests)
        top = analysis.insights[0]
        next(serving, None)
    wall = statistics.median(walls)
    print(f"troubleshoot over Loki, recorded 1,036,196-line window ({args.runs} runs)")
    print(f"  analysis wall (median): {wall:.2f} s; {requests} requests, at most {TimedLoki.most} at once")
    print(f"  root cause: {top.service} ({top.kind})")
    print(f"  Loki's own time for one count over the window (totals_instant): {anchor:.2f} s")
    print(f"  ratio analysis / one count: {wall / anchor:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
