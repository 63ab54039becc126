"""The top insight of every generated incident names the root-cause service (logs only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import demo
from analyzer.analysis.pipeline import analyze_records
from analyzer.model import LogRecord, Query, Severity, instant_ns
from analyzer.sources.files import FileSource

SEEDS = (demo.DEFAULT_SEED, 20261124)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"demo{request.param}")
    demo.generate(out, seed=request.param)
    return out


def _incidents(directory: Path) -> list[dict]:
    return json.loads((directory / demo.GROUND_TRUTH_FILE).read_text())["incidents"]


def _right(incident: dict) -> set[str]:
    """The service that fails, or the dependency behind it that logs nothing (its database)."""
    return {incident["root_cause_service"], incident.get("root_cause_dependency", "")} - {""}


def test_generator_makes_at_least_six_incident_kinds(generated: Path) -> None:
    assert len({i["kind"] for i in _incidents(generated)}) >= 6


def test_top_insight_names_the_root_cause_service_of_every_incident(generated: Path) -> None:
    source = FileSource(str(generated))
    wrong = {}
    for incident in _incidents(generated):
        query = Query(start=incident["start"], end=incident["end"], limit=10000)
        window = query.window()
        fetched = source.fetch(query)
        top = analyze_records(fetched.records, query, window).insights[0]
        if top.kind != "root_cause" or top.service not in _right(incident):
            wrong[incident["kind"]] = (top.kind, top.service, incident["root_cause_service"])
    assert wrong == {}


def test_a_window_with_several_incidents_names_each_root_cause(generated: Path) -> None:
    truth = json.loads((generated / demo.GROUND_TRUTH_FILE).read_text())
    query = Query(start=truth["start"], end=truth["end"], limit=10000)
    records = FileSource(str(generated)).fetch(query).records
    causes = [i for i in analyze_records(records, query, query.window()).insights if i.kind == "root_cause"]
    found = {}
    for incident in truth["incidents"]:
        start, end = instant_ns(incident["start"]), instant_ns(incident["end"])
        found[incident["kind"]] = next(
            (c.service for c in causes if start <= c.evidence.first_seen_ns <= end), None
        )
    assert {k: s for k, s in found.items() if s not in _right(_kind(truth, k))} == {}


def _kind(truth: dict, kind: str) -> dict:
    return next(i for i in truth["incidents"] if i["kind"] == kind)


def test_root_cause_is_not_the_loudest_service_when_callers_log_more(generated: Path) -> None:
    source = FileSource(str(generated))
    checked = 0
    for incident in _incidents(generated):
        loudest = max(incident["error_lines"], key=incident["error_lines"].get)
        if loudest == incident["root_cause_service"]:
            continue
        query = Query(start=incident["start"], end=incident["end"], limit=10000)
        top = analyze_records(source.fetch(query).records, query, query.window()).insights[0]
        assert top.service != loudest
        checked += 1
    assert checked >= 3


def _record(t: int, service: str, message: str, level: Severity = Severity.ERROR, **fields) -> LogRecord:
    return LogRecord(timestamp_ns=t * 1_000_000_000, service=service, level=level, message=message,
                     fields=fields, correlation_id=fields.pop("cid", None))


def test_a_quiet_dependency_named_by_callers_outranks_the_callers() -> None:
    from analyzer.analysis.root_cause import rank_root_causes

    records = [_record(1, "store", "checkpoint write failed: no space left on device")]
    records += [_record(2 + i, "frontend", "GET /cart failed: store:9000 connection refused") for i in range(30)]
    records += [_record(2 + i, "mailer", "queue flush failed: connection refused store:9000") for i in range(10)]
    assert rank_root_causes(records)[0].service == "store"


def test_auth_failures_blame_the_calling_service_not_the_one_rejecting() -> None:
    from analyzer.analysis.root_cause import rank_root_causes

    records = []
    for i in range(20):
        cid = f"r{i}"
        records.append(_record(i, "portal", "login attempt", Severity.INFO, cid=cid, span_id=f"p{i}"))
        records.append(_record(i, "backend", "401 Unauthorized POST /login", cid=cid, span_id=f"b{i}", parent_span_id=f"p{i}"))
        records.append(_record(i, "portal", "login failed: bad credentials", cid=cid, span_id=f"p{i}"))
    assert rank_root_causes(records)[0].service == "portal"
