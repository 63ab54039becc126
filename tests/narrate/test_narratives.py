"""Narratives and timelines: root cause first with evidence, deterministic, verbosity = length."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from analyzer.analysis.conversations import conversation_report
from analyzer.analysis.correlate import request_flow
from analyzer.analysis.pricing import load_prices
from analyzer.analysis.workspace import workspace_summary
from analyzer.infra.privacy import mask
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
    evidence = started.split("Evidence:", 1)[1].splitlines()[0]
    assert "line(s)" in evidence and "first at" in evidence
    assert "Sample:" in started and f"Explore: {GRAFANA}/explore?" in started


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
    stamps = [line.split()[0] for line in text.splitlines() if line[:4].isdigit()]
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
    assert "Where it started:" in text and str(truth["turns"]) in text
    summary = mask(workspace_summary(demo.records, truth["workspace_id"], prices=prices))
    text = render("workspace", summary, fmt="narrative")
    assert summary["top_error_patterns"][0]["pattern"] in text


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
    assert started.index("redis refused") < started.index("api errors followed")
    assert "4 line(s), first at 2026-11-24T08:11:15" in started
    assert "1. Restart redis." in text


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
