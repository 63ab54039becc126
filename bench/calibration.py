"""How often the stated root cause is right, per confidence band, over generated windows.

A confidence is worth reading only if it means what it says: of the answers given at 0.9-1.0,
at least nine in ten should name the real cause. This generates windows with known causes and
scores every incident's stated root cause against the truth:

- `single`: each incident kind alone in an hour of traffic (`ai-logs demo generate`);
- `multi`: all kinds in one two-hour window, each judged by the root cause told for it;
- `window`: production-sized windows (`ai-logs demo window`) with three outages;
- `silent`: a cache outage with redis's own file removed (redis writes no logs: its callers
  name it), and a database outage with anythingllm's file removed (its callers name it);
- `one-service`: only one service's file of an incident, the cause's or a caller's: either it
  names what failed it, or the answer must say it cannot tell a cause from a symptom, with a low
  confidence;
- `tiny`: the first two minutes of an incident, a handful of lines.

An answer is right when it names the incident's `root_cause_service`, or the dependency behind
it that writes no logs (`root_cause_dependency`, a database).

    .venv/bin/python bench/calibration.py [--seeds 7 11 23 42] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer import demo
from analyzer.analysis.pipeline import Analysis, analyze
from analyzer.demo.window import generate_window
from analyzer.model import NS_PER_SECOND, Query, format_timestamp, instant_ns
from analyzer.sources.files import FileSource

BANDS = ((0.9, 1.0), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.0, 0.3))
SEEDS = (7, 11, 23, 42)
TINY_NS = 120 * NS_PER_SECOND
# callers' errors trail an incident's end by their timeouts (120 s for a parser)
TRAIL_NS = 180 * NS_PER_SECOND
# the file a service writes in the generated directories
FILES = {s: ("redis.log" if s == "redis" else f"{s}.jsonl") for s in demo.SERVICES}


@dataclass(slots=True)
class Case:
    """One directory of logs, the window to ask about and the incidents in it."""

    family: str
    name: str
    directory: Path
    start: str
    end: str
    incidents: list[dict[str, Any]]


@dataclass(slots=True)
class Outcome:
    family: str
    case: str
    kind: str
    truth: list[str]
    stated: str | None
    confidence: float
    right: bool
    says_cannot_tell: bool = False
    services: int = 0  # services with lines in the window

    @property
    def band(self) -> str:
        return band_of(self.confidence)


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def bands(self) -> list[dict[str, Any]]:
        out = []
        for lo, hi in BANDS:
            members = [o for o in self.outcomes if o.stated and band_of(o.confidence) == f"{lo:.1f}-{hi:.1f}"]
            right = sum(o.right for o in members)
            out.append(
                {
                    "band": f"{lo:.1f}-{hi:.1f}",
                    "answers": len(members),
                    "right": right,
                    "accuracy": round(right / len(members), 3) if members else None,
                }
            )
        return out

    def families(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            row = out.setdefault(o.family, {"incidents": 0, "right": 0, "unanswered": 0})
            row["incidents"] += 1
            row["right"] += o.right
            row["unanswered"] += o.stated is None
        return out


def band_of(confidence: float) -> str:
    for lo, hi in BANDS:
        if confidence >= lo:
            return f"{lo:.1f}-{hi:.1f}"
    return f"{BANDS[-1][0]:.1f}-{BANDS[-1][1]:.1f}"


def right_causes(incident: dict[str, Any]) -> set[str]:
    return {incident["root_cause_service"], incident.get("root_cause_dependency") or ""} - {""}


# ---- windows ---------------------------------------------------------------------------


def cases(work: Path, seeds: tuple[int, ...] = SEEDS) -> Iterator[Case]:
    kinds = demo.incident_kinds()
    for seed in seeds:
        for kind in kinds:
            out = work / f"single-{kind}-{seed}"
            truth = demo.generate(out, seed=seed, incidents=[kind], duration="1h")
            yield Case("single", out.name, out, truth["start"], truth["end"], truth["incidents"])
            yield from _one_service(work, out, truth, seed)
            incident = truth["incidents"][0]
            first_minutes = format_timestamp(instant_ns(incident["start"]) + TINY_NS)
            yield Case("tiny", f"tiny-{kind}-{seed}", out, incident["start"], first_minutes, [incident])
        out = work / f"multi-{seed}"
        truth = demo.generate(out, seed=seed)
        yield Case("multi", out.name, out, truth["start"], truth["end"], truth["incidents"])
        out = work / f"window-{seed}"
        truth = generate_window(out, hours=3, rate=8, outages=3, seed=seed)
        yield Case("window", out.name, out, truth["window_start"], truth["window_end"], truth["incidents"])
        out = work / f"crowded-{seed}"  # outages over most of the window
        truth = generate_window(out, hours=2, rate=8, outages=3, seed=seed + 35)
        yield Case("window", out.name, out, truth["window_start"], truth["window_end"], truth["incidents"])
        yield from _silent(work, seed)


def _one_service(work: Path, source: Path, truth: dict[str, Any], seed: int) -> Iterator[Case]:
    """The cause's own file alone, and the loudest caller's file alone."""
    incident = truth["incidents"][0]
    lines = incident["error_lines"]
    callers = sorted((s for s in lines if s != incident["root_cause_service"]), key=lambda s: -lines[s])
    for service in [incident["root_cause_service"], *callers[:1]]:
        out = work / f"one-{incident['kind']}-{service}-{seed}"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / FILES[service], out / FILES[service])
        yield Case("one-service", out.name, out, truth["start"], truth["end"], truth["incidents"])


def _silent(work: Path, seed: int) -> Iterator[Case]:
    for kind, service in (("cache_outage", "redis"), ("database_outage", "anythingllm")):
        out = work / f"silent-{service}-{seed}"
        truth = demo.generate(out, seed=seed, incidents=[kind], duration="1h")
        (out / FILES[service]).unlink()
        yield Case("silent", out.name, out, truth["start"], truth["end"], truth["incidents"])


# ---- judging ---------------------------------------------------------------------------


def analyse(case: Case) -> Analysis:
    query = Query(start=case.start, end=case.end, limit=1000)
    read = FileSource(str(case.directory)).read_window(query)
    return analyze(read, query)


def stated_cause(analysis: Analysis, incident: dict[str, Any]) -> tuple[str | None, float, bool]:
    """The root cause told for the incident: the root-cause insight whose own incident overlaps
    the truth's most (a root cause told once for the whole window counts for every incident)."""
    start, end = instant_ns(incident["start"]), instant_ns(incident["end"]) + TRAIL_NS
    best, overlap = None, -1
    for insight in analysis.insights:
        if insight.kind != "root_cause":
            continue
        span = insight.evidence.extra.get("incident") or {}
        lo, hi = span.get("start", insight.evidence.first_seen_ns), span.get("end", insight.evidence.last_seen_ns)
        shared = min(hi, end) - max(lo, start)
        if shared > overlap and shared >= 0:
            best, overlap = insight, shared
    if best is None:
        return None, 0.0, False
    return best.service, best.confidence, bool(best.evidence.extra.get("cannot_tell"))


def score(case: Case, analysis: Analysis) -> list[Outcome]:
    """One outcome per incident of the case: the cause stated for it, right or not."""
    services = len(analysis.profile.services())
    out = []
    for incident in case.incidents:
        stated, confidence, cannot_tell = stated_cause(analysis, incident)
        truth = right_causes(incident)
        out.append(
            Outcome(
                case.family, case.name, incident["kind"], sorted(truth), stated,
                round(confidence, 3), stated in truth, cannot_tell, services,
            )
        )
    return out


def evaluate(seeds: tuple[int, ...] = SEEDS, work: Path | None = None) -> Report:
    started = time.perf_counter()
    report = Report()
    own_work = work is None
    work = work or Path(tempfile.mkdtemp(prefix="calibration-"))
    try:
        for case in cases(work, seeds):
            report.outcomes.extend(score(case, analyse(case)))
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--json", action="store_true", help="every outcome as JSON")
    parser.add_argument("--wrong", action="store_true", help="list the wrong answers")
    args = parser.parse_args()
    report = evaluate(tuple(args.seeds))
    if args.json:
        print(json.dumps({"bands": report.bands(), "outcomes": [asdict(o) for o in report.outcomes]}, indent=1))
        return 0
    print(f"{len(report.outcomes)} incidents in generated windows, seeds {' '.join(map(str, args.seeds))}, "
          f"{report.seconds:.1f} s")
    print(f"{'confidence':<12}{'answers':>8}{'right':>7}{'accuracy':>10}")
    for row in report.bands():
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.0%}"
        print(f"{row['band']:<12}{row['answers']:>8}{row['right']:>7}{accuracy:>10}")
    print()
    print(f"{'windows':<14}{'incidents':>10}{'right':>7}{'unanswered':>12}")
    for family, row in report.families().items():
        print(f"{family:<14}{row['incidents']:>10}{row['right']:>7}{row['unanswered']:>12}")
    one = [o for o in report.outcomes if o.family == "one-service"]
    told = sum(o.says_cannot_tell for o in one if not o.right)
    print(f"\none-service answers that were wrong and said they cannot tell: {told} of "
          f"{sum(not o.right for o in one)}")
    if args.wrong:
        for o in report.outcomes:
            if not o.right:
                print(f"  {o.case:<40} {o.kind:<28} stated {o.stated} ({o.confidence}), truth {o.truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
