"""Incidents are runs of failures above the window's background, however much of the window
they fill: three outages in two hours are three incidents, each with its own root cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analyzer.analysis.catalog import default_catalog
from analyzer.analysis.pipeline import analyze
from analyzer.analysis.window_facts import WindowFacts, _background_limit
from analyzer.demo.window import generate_window
from analyzer.model import Query, instant_ns
from analyzer.sources.files import FileSource


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Outages over three quarters of a two-hour window."""
    out = tmp_path_factory.mktemp("crowded")
    return out, generate_window(out, hours=2, rate=8, outages=3, seed=42)


def _read(crowded: tuple[Path, dict[str, Any]]) -> tuple[Any, Query]:
    directory, truth = crowded
    query = Query(start=truth["window_start"], end=truth["window_end"])
    return FileSource(str(directory)).read_window(query), query


def test_the_generated_outages_fill_most_of_the_window(crowded) -> None:
    _, truth = crowded
    spans = sum(instant_ns(i["end"]) - instant_ns(i["start"]) for i in truth["incidents"])
    window = instant_ns(truth["window_end"]) - instant_ns(truth["window_start"])
    assert spans > window / 2


def test_outages_that_fill_most_of_the_window_are_each_an_incident(crowded) -> None:
    read, _ = _read(crowded)
    facts = WindowFacts.build(read.profile, read.evidence.records, default_catalog())
    for outage in crowded[1]["incidents"]:
        start, end = instant_ns(outage["start"]), instant_ns(outage["end"])
        inside = [i for i in facts.incidents if i.start_ns < end and start < i.end_ns]
        assert len(inside) == 1, outage["kind"]
        assert inside[0].end_ns - inside[0].start_ns < (end - start) * 1.2


def test_each_crowded_outage_gets_its_own_root_cause(crowded) -> None:
    read, query = _read(crowded)
    analysis = analyze(read, query)
    causes = [i for i in analysis.insights if i.kind == "root_cause"]
    assert analysis.insights[0].kind == "root_cause"
    for outage in crowded[1]["incidents"]:
        start = instant_ns(outage["start"])
        told = {
            c.service for c in causes
            if c.evidence.extra["incident"]["start"] <= start + 60 * 10**9 <= c.evidence.extra["incident"]["end"]
        }
        right = {outage["root_cause_service"], outage.get("root_cause_dependency")}
        assert told & right, (outage["kind"], told)


def test_outages_a_few_quiet_minutes_apart_with_other_errors_between_stay_apart(tmp_path: Path) -> None:
    """Four ten-minute outages in an hour, five quiet minutes apart, and between the third and
    the fourth twenty model timeouts of another service: four incidents, four right causes."""
    truth = generate_window(tmp_path, hours=1, rate=6, outages=4, seed=9)
    query = Query(start=truth["window_start"], end=truth["window_end"])
    analysis = analyze(FileSource(str(tmp_path)).read_window(query), query)
    causes = [i for i in analysis.insights if i.kind == "root_cause"]
    for outage in truth["incidents"]:
        start = instant_ns(outage["start"]) + 60 * 10**9
        span = [c for c in causes if c.evidence.extra["incident"]["start"] <= start <= c.evidence.extra["incident"]["end"]]
        assert [c.service for c in span] in ([outage["root_cause_service"]], [outage.get("root_cause_dependency")])


def test_a_steady_failure_rate_is_background_not_an_incident() -> None:
    steady = [1000 + (i * 37) % 61 - 30 for i in range(240)]
    assert _background_limit(steady, 240) > max(steady)


def test_quiet_buckets_set_the_background_when_outages_are_most_of_the_window() -> None:
    counts = [3000] * 160 + [2] * 80
    assert _background_limit(counts, 240) < 20


def test_a_burst_is_told_from_its_first_line_not_its_first_bucket(crowded) -> None:
    read, query = _read(crowded)
    bursts = [i for i in analyze(read, query).insights if i.kind == "burst"]
    outages = [(instant_ns(o["start"]), instant_ns(o["end"])) for o in crowded[1]["incidents"]]
    assert bursts
    for burst in bursts:
        first, last = burst.evidence.first_seen_ns, burst.evidence.last_seen_ns
        during = [(lo, hi) for lo, hi in outages if lo - 300 * 10**9 <= first <= hi]
        for lo, hi in during:  # a caller's burst of an outage starts once the outage has
            assert lo <= first <= last <= hi + 60 * 10**9, burst.title
