"""Novel-message detectors compared on generated incidents: real novelties against false alarms.

For each seed, every incident window is searched with the 30 minutes before it as baseline, and
so is a quiet window of the same length with no incident. A reported template is a real novelty
when its lines never occur outside incident windows (the generator injects them); anything
else is a false alarm.

    .venv/bin/python bench/anomaly_bench.py [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer import demo
from analyzer.analysis.anomalies import novel_templates
from analyzer.model import NS_PER_SECOND, Query, TimeRange, instant_ns
from analyzer.sources.files import FileSource

BASELINE_SECONDS = 1800


def evaluate(seed: int, methods: list[str]) -> dict[str, dict[str, float]]:
    out_dir = Path(tempfile.mkdtemp())
    demo.generate(out_dir, seed=seed)
    truth = json.loads((out_dir / demo.GROUND_TRUTH_FILE).read_text())
    records = FileSource(str(out_dir)).fetch(Query(time_range="30d", limit=10000), limit=None).records
    windows = [TimeRange(instant_ns(i["start"]), instant_ns(i["end"])) for i in truth["incidents"]]
    outside = {r.message for r in records if not any(w.contains(r.timestamp_ns) for w in windows)}
    length = windows[0].end_ns - windows[0].start_ns
    quiet_start = windows[0].start_ns - BASELINE_SECONDS * NS_PER_SECOND - length
    quiet = [] if quiet_start - BASELINE_SECONDS * NS_PER_SECOND < records[0].timestamp_ns else [
        TimeRange(quiet_start, quiet_start + length)
    ]
    scores = {m: {"real": 0.0, "false": 0.0, "seconds": 0.0} for m in methods}
    for window in windows + quiet:
        base = TimeRange(window.start_ns - BASELINE_SECONDS * NS_PER_SECOND, window.start_ns)
        baseline = [r for r in records if base.start_ns <= r.timestamp_ns < base.end_ns]
        current = [r for r in records if window.contains(r.timestamp_ns)]
        for m in methods:
            started = time.perf_counter()
            found = novel_templates(current, window, baseline=baseline, method=m)
            scores[m]["seconds"] += time.perf_counter() - started
            for n in found:
                real = not any(s in outside for s in n.samples)
                scores[m]["real" if real else "false"] += 1
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[demo.DEFAULT_SEED, 7, 99])
    args = parser.parse_args()
    methods = ["frequency", "tfidf"]
    totals = {m: {"real": 0.0, "false": 0.0, "seconds": 0.0} for m in methods}
    for seed in args.seeds:
        for m, s in evaluate(seed, methods).items():
            for k, v in s.items():
                totals[m][k] += v
    for m, t in totals.items():
        found = t["real"] + t["false"]
        precision = t["real"] / found if found else 1.0
        print(f"{m:<10} real_novelties={t['real']:.0f} false_alarms={t['false']:.0f} "
              f"precision={precision:.3f} seconds={t['seconds']:.2f} seeds={len(args.seeds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
