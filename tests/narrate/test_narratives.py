"""Narratives and timelines: root cause first with evidence, deterministic, verbosity = length."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from analyzer.analysis.conversations import conversation_report
from analyzer.analysis.correlate import request_flow
from analyzer.analysis.pipeline import analyze_records
from analyzer.analysis.pricing import load_prices
from analyzer.analysis.workspace import workspace_summary
from analyzer.infra.privacy import mask
from analyzer.model import Query, TimeRange, instant_ns
from analyzer.narrate import explore_url, render

GRAFANA = "http://grafana.local:3000"
KINDS = [
    "cache_outage",
    "database_outage",
    "llm_timeout",
    "token_limit",
    "connection_pool_exhaustion",
    "file_processing_timeout",
    "auth_failure_spike",
]


def correlation_body(demo: Any, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    incident = next(i for i in demo.truth["incidents"] if i["kind"] == kind)
    cid = incident["failed_correlation_ids"][0]
    result = request_flow(demo.records, cid, known_services=demo.truth["services"])
    return mask(result.to_dict()), incident


@pytest.mark.parametrize("kind", KINDS)
def test_narrative_names_the_root_cause_service_first_with_evidence(demo: Any, kind: str) -> None:
    body, incident = correlation_body(demo, kind)
    text = render("correlation", body, fmt="narrative", verbosity="standard", grafana_url=GRAFANA)
    started = text.split("Where it started:", 1)[1]
    first_line = started.splitlines()[0]
    assert incident["root_cause_service"] in first_line
    # the services the failure spread to are named only after the origin
    for other in incident["affected_services"]:
        if other != incident["root_cause_service"] and other in started:
            assert started.index(incident["root_cause_service"]) < started.index(other)
    # evidence travels with the claim: a short time, a quoted sample line, a count, a link
    assert re.search(r"\(\d\d:\d\d:\d\d\.\d{3}\)", first_line)
    assert re.search(r": `[^`]+` \((\d+ error lines?|named by \d+ error lines?)\)", first_line)
    assert f"Explore: {GRAFANA}/explore?" in started


def test_same_logs_give_the_same_text(demo: Any) -> None:
    body, _ = correlation_body(demo, "database_outage")
    again, _ = correlation_body(demo, "database_outage")
    for fmt in ("narrative", "timeline"):
        assert render("correlation", body, fmt=fmt) == render("correlation", again, fmt=fmt)


def test_verbosity_changes_length_not_facts(demo: Any) -> None:
    body, incident = correlation_body(demo, "cache_outage")
    texts = {
        v: render("correlation", body, fmt="narrative", verbosity=v)
        for v in ("minimal", "standard", "detailed")
    }
    assert len(texts["minimal"]) < len(texts["standard"]) <= len(texts["detailed"])
    for text in texts.values():
        assert f"failed at {incident['root_cause_service']}" in text


def test_timeline_is_in_time_order(demo: Any) -> None:
    body, _ = correlation_body(demo, "llm_timeout")
    text = render("correlation", body, fmt="timeline", verbosity="detailed")
    stamps = [line.split()[0] for line in text.splitlines() if re.match(r"\d\d:\d\d:\d\d", line)]
    assert len(stamps) >= 4
    assert stamps == sorted(stamps)


def test_no_link_without_a_grafana_url(demo: Any) -> None:
    body, _ = correlation_body(demo, "token_limit")
    assert "Explore:" not in render("correlation", body, fmt="narrative")


def test_conversation_and_workspace_narratives_render(demo: Any) -> None:
    prices = load_prices()
    truth = next(c for c in demo.truth["conversations"] if c["failed_turns"])
    conversation = mask(conversation_report(demo.records, truth["conversation_id"], prices=prices))
    text = render("conversation", conversation, fmt="narrative", grafana_url=GRAFANA)
    assert f"{truth['turns']} turns" in text and "Failed turns, in time order:" in text
    summary = mask(workspace_summary(demo.records, truth["workspace_id"], prices=prices))
    text = render("workspace", summary, fmt="narrative")
    assert summary["top_error_patterns"][0]["pattern"] in text


def test_each_failed_turn_of_a_conversation_is_told_on_its_own(demo: Any) -> None:
    truth = max(demo.truth["conversations"], key=lambda c: c["failed_turns"])
    body = mask(conversation_report(demo.records, truth["conversation_id"], prices=load_prices()))
    text = render("conversation", body, fmt="narrative", verbosity="detailed")
    turns = re.findall(r"^- (\d\d:\d\d:\d\d) turn (\S+): (\S+) failed first", text, re.M)
    assert len(turns) == truth["failed_turns"] >= 2
    assert [t for t, _, _ in turns] == sorted(t for t, _, _ in turns)
    assert "failed after it" not in text  # turns of different outages are not one cascade


def test_the_workspace_story_tells_its_first_error_apart_from_its_most_frequent(demo: Any) -> None:
    summary = mask(workspace_summary(demo.records, "ws-legal", prices=load_prices()))
    text = render("workspace", summary, fmt="narrative")
    assert "Where it started" not in text
    first = summary["first_error"]
    assert f"The first error came at {first['timestamp'][11:19]} from {first['service']}" in text
    assert text.index("Most frequent errors:") < text.index(summary["top_error_patterns"][0]["pattern"])
    hours = summary["peak_usage_times"]
    assert text.count("Busiest hour") == 1
    assert f"{hours[0]['requests']} of {summary['total_requests']} requests" in text


def test_query_narrative_leads_with_the_top_insight() -> None:
    body = {
        "summary": {},
        "logs": [],
        "metadata": {
            "query_mode": "troubleshoot",
            "total_logs": 120,
            "services_queried": ["api", "redis"],
            "time_range": {
                "start": "2026-11-24T08:00:00.000000Z",
                "end": "2026-11-24T09:00:00.000000Z",
            },
        },
        "insights": [
            {
                "kind": "root_cause",
                "title": "redis refused connections",
                "severity": "error",
                "confidence": 0.9,
                "service": "redis",
                "suggestion": "Restart redis.",
                "evidence": {
                    "count": 4,
                    "first_seen": "2026-11-24T08:11:15.000000Z",
                    "last_seen": "2026-11-24T08:18:45.000000Z",
                    "samples": ["OOM command not allowed"],
                    "services": ["redis"],
                },
            },
            {
                "kind": "error_cascade",
                "title": "api errors followed",
                "severity": "error",
                "confidence": 0.7,
                "service": "api",
                "suggestion": "Wait for redis.",
                "evidence": {
                    "count": 48,
                    "first_seen": "2026-11-24T08:11:31.000000Z",
                    "last_seen": "2026-11-24T08:18:40.000000Z",
                    "samples": ["connection refused redis:6379"],
                    "services": ["api"],
                },
            },
        ],
    }
    text = render("query", body, fmt="narrative", grafana_url=GRAFANA)
    started = text.split("Where it started:", 1)[1]
    assert started.splitlines()[0].strip().startswith(
        "redis is very likely the root cause: `OOM command not allowed` (4 lines, 08:11:15\u201308:18:45)"
    )
    assert started.index("redis") < started.index("api")
    assert "1. Restart redis." in text


def test_a_cause_named_by_its_callers_counts_its_own_line_apart_from_theirs() -> None:
    """The quoted line is the cause's own: its count stands beside it, the callers' in the total."""
    cause = {
        "kind": "root_cause", "title": "redis", "severity": "error", "confidence": 0.95,
        "service": "redis",
        "evidence": {
            "count": 297, "own_failures": 1, "accused_by": {"worker": 296},
            "first_seen": "2026-11-24T08:10:00.000000Z", "last_seen": "2026-11-24T08:15:00.000000Z",
            "samples": ["Out of memory allocating 1024 bytes"], "services": ["redis", "worker"],
        },
    }
    body = {
        "summary": {}, "logs": [], "insights": [cause],
        "metadata": {
            "query_mode": "troubleshoot", "total_logs": 2993, "services_queried": ["redis", "worker"],
            "time_range": {"start": "2026-11-24T08:00:00.000000Z", "end": "2026-11-24T09:00:00.000000Z"},
        },
    }
    started = render("query", body, fmt="narrative").split("Where it started:", 1)[1].splitlines()[0]
    assert started.strip() == (
        "redis is very likely the root cause: worker (296 lines) names it or calls it: "
        "`Out of memory allocating 1024 bytes` (1 line of its own; 297 in all, 08:10:00\u201308:15:00)."
    )


def test_explore_url_uses_the_panes_format() -> None:
    url = explore_url(
        GRAFANA + "/",
        '{service="api"} | correlation_id="x"',
        1_000_000_000_000,
        2_000_000_000_000,
        "P8E80F9AEF21F6940",
    )
    parts = urlsplit(url)
    assert parts.path == "/explore"
    params = parse_qs(parts.query)
    assert params["schemaVersion"] == ["1"]
    pane = next(iter(json.loads(params["panes"][0]).values()))
    assert pane["datasource"] == "P8E80F9AEF21F6940"
    assert pane["queries"][0]["expr"] == '{service="api"} | correlation_id="x"'
    assert pane["range"] == {"from": "1000000", "to": "2000000"}


def test_unknown_kind_or_format_is_refused() -> None:
    with pytest.raises(ValueError):
        render("nope", {}, fmt="narrative")
    with pytest.raises(ValueError):
        render("query", {}, fmt="poem")


def query_body(demo: Any, start: str, end: str, mode: str = "troubleshoot") -> dict[str, Any]:
    window = TimeRange(instant_ns(start), instant_ns(end))
    return mask(analyze_records(demo.records, Query(mode=mode), window).to_dict())


def minutes(hh_mm: str) -> int:
    hours, mins = hh_mm.split(":")
    return int(hours) * 60 + int(mins)


def whole_demo(demo: Any, mode: str = "troubleshoot") -> dict[str, Any]:
    return query_body(demo, demo.truth["start"], demo.truth["end"], mode)


def test_a_window_with_several_incidents_lists_each_problem_in_time_order(demo: Any) -> None:
    text = render("query", whole_demo(demo), fmt="narrative", verbosity="minimal")
    incidents = demo.truth["incidents"]
    assert f"{len(incidents)} separate problems in this window" in text
    headings = [line for line in text.splitlines() if re.match(r"\d+\. \d\d:\d\d:\d\d", line)]
    assert len(headings) == len(incidents)
    for heading, incident in zip(headings, incidents, strict=True):
        # each problem starts inside its incident and leads with a service the incident hit
        # (a burst is counted from the start of its bucket, up to two minutes early)
        start, end = minutes(incident["start"][11:16]), minutes(incident["end"][11:16])
        assert start - 2 <= minutes(heading.split()[1][:5]) <= end
        first_named = heading.split()[2].rstrip(",:")
        assert first_named in incident["affected_services"] + [incident.get("root_cause_dependency")]


def test_a_window_around_one_incident_tells_one_story(demo: Any) -> None:
    incident = next(i for i in demo.truth["incidents"] if i["kind"] == "database_outage")
    body = query_body(demo, "2026-11-24T08:25:00Z", "2026-11-24T08:40:00Z")
    text = render("query", body, fmt="narrative")
    assert "separate problems" not in text and "One problem" in text
    started = text.split("Where it started:", 1)[1].splitlines()[0]
    assert started.strip().startswith(f"{incident['root_cause_dependency']} is very likely the root cause")
    assert "it has no logs of its own, and anythingllm" in started


def test_times_are_short_and_the_date_is_said_once(demo: Any) -> None:
    text = render("query", whole_demo(demo), fmt="narrative")
    assert text.count("2026-11-24") == 1
    assert "T08:" not in text and "Z " not in text


def test_counts_read_as_words_not_templates(demo: Any) -> None:
    for kind, body in (
        ("query", whole_demo(demo)),
        ("correlation", correlation_body(demo, "cache_outage")[0]),
    ):
        text = render(kind, body, fmt="narrative", verbosity="detailed")
        assert "(s)" not in text and " 1 lines" not in text and " 1 errors" not in text


def test_confidence_is_in_words_and_figures_only_in_detailed_output(demo: Any) -> None:
    body = whole_demo(demo)
    standard = render("query", body, fmt="narrative")
    detailed = render("query", body, fmt="narrative", verbosity="detailed")
    assert "confidence" not in standard and "likely the root cause" in standard
    assert re.search(r"\[root_cause, confidence 0\.\d+", detailed)


def test_each_problem_quotes_a_sample_once_and_offers_a_link(demo: Any) -> None:
    text = render("query", whole_demo(demo), fmt="narrative", grafana_url=GRAFANA)
    problems = re.split(r"\n\d+\. ", text.split("Across the whole window:")[0])[1:]
    assert problems
    for problem in problems:
        samples = re.findall(r"`([^`]+)`", problem)
        assert samples and len(samples) == len(set(samples))
        assert f"Explore: {GRAFANA}/explore?" in problem


def test_query_timeline_has_one_line_per_event_with_its_count(demo: Any) -> None:
    text = render("query", whole_demo(demo), fmt="timeline", verbosity="detailed")
    events = [line for line in text.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
    assert len(events) >= len(demo.truth["incidents"])
    assert [e.split()[0] for e in events] == sorted(e.split()[0] for e in events)
    assert any(re.search(r"  \(\d+\)$", e) for e in events)


def test_performance_narrative_speaks_of_percentiles_and_slowest_operations(demo: Any) -> None:
    body = whole_demo(demo, "performance")
    text = render("query", body, fmt="narrative")
    overall = body["summary"]["overall"]
    assert "p50" in text and "p95" in text and "Slowest at p95" in text
    slowest = body["summary"]["slowest_operations"][0]
    assert f"{slowest['service']} {slowest['request_type']} took" in text
    assert overall["count"] > 0 and f"{overall['count']:,} timed operations" in text


def test_audit_narrative_says_who_did_what_and_what_failed(demo: Any) -> None:
    body = whole_demo(demo, "audit")
    outcome = body["summary"]["by_outcome"]
    text = render("query", body, fmt="narrative")
    assert f"{outcome['success']:,} succeeded, {outcome['failure']:,} failed" in text
    top = next(a for a in body["summary"]["actors"] if a["actor"] != "unknown")
    who = text.split("Who did what:", 1)[1]
    assert f"- {top['actor']}: {top['events']} events (" in who and f"{top['failed']} failed" in who
    assert "separate problems" not in text and "Where it started" not in text


def test_conversation_mode_counts_conversations_and_tokens(demo: Any) -> None:
    body = whole_demo(demo, "conversation")
    text = render("query", body, fmt="narrative", verbosity="minimal")
    summary = body["summary"]
    assert (
        f"{summary['conversation_count']} conversations with {summary['total_turns']} turns used "
        f"{summary['total_tokens']:,} tokens costing $"
    ) in text
    assert f"{summary['failed_turns']} turns failed" in text and "separate problems" not in text


def test_a_window_read_whole_carries_no_sampling_caveat(demo: Any) -> None:
    window = TimeRange(demo.records[0].timestamp_ns, demo.records[-1].timestamp_ns)
    body = analyze_records(demo.records, Query(), window).to_dict()
    text = render("query", body, fmt="narrative", verbosity="standard")
    assert "sample" not in text.split("\n\n")[1]
