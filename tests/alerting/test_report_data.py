"""What the worker stores for the report page, and how the page draws it.

Small record lists built here for the timeline's rules; the bundled sample's cache outage (root
cause redis, alert on api: analyzer/sample_logs/ground_truth.json) for the worker's stored report.
"""

from __future__ import annotations

import json
import re

from alert_helpers import INCIDENT_END, load_payload, retarget

from analyzer.alerting.report import error_timeline
from analyzer.config import SAMPLE_LOGS_DIR
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, instant_ns
from analyzer.web.reports import graph_svg, render_report, timeline_svg

T0 = instant_ns("2026-11-24T08:00:07Z")


def line(service: str, seconds: float, level: Severity = Severity.ERROR, cid: str | None = None) -> LogRecord:
    return LogRecord(
        timestamp_ns=T0 + int(seconds * NS_PER_SECOND), service=service, level=level,
        message=f"{service} {level.name.lower()}", correlation_id=cid,
    )


def test_timeline_has_a_lane_for_each_service_that_logged_errors_in_the_order_they_began() -> None:
    records = [line("api", 600), line("worker", 300), line("worker", 900), line("admin-ui", 60, Severity.INFO)]

    timeline = error_timeline(records, T0, T0 + 3600 * NS_PER_SECOND, alert_services=["api"])

    assert timeline["services"] == ["worker", "api"]
    assert sum(timeline["series"]["worker"]) == 2 and sum(timeline["series"]["api"]) == 1
    assert timeline["total_errors"] == 3


def test_root_cause_that_only_warned_still_gets_its_lane_and_other_warners_do_not() -> None:
    records = [line("redis", 10, Severity.WARN), line("api", 20), line("admin-ui", 30, Severity.WARN)]

    timeline = error_timeline(records, T0, T0 + 600 * NS_PER_SECOND, root_cause="redis", alert_services=["api"])

    assert timeline["services"] == ["redis", "api"]
    assert sum(timeline["warnings"]["redis"]) == 1 and sum(timeline["series"]["redis"]) == 0
    assert timeline["warning_only"] == ["admin-ui"]


def test_timeline_buckets_have_a_round_width_aligned_on_the_clock() -> None:
    timeline = error_timeline([line("api", 5)], T0, T0 + 38 * 60 * NS_PER_SECOND)

    assert timeline["bucket_seconds"] == 60
    assert timeline["bucket_start"].startswith("2026-11-24T08:00:00.")
    assert timeline["buckets"] == len(timeline["series"]["api"]) <= 60


def test_timeline_marks_the_alert_start_and_end_and_labels_the_time_axis() -> None:
    timeline = error_timeline([line("api", 600)], T0, T0 + 3600 * NS_PER_SECOND)

    drawn = timeline_svg(timeline, alert_start="2026-11-24T08:30:00Z", alert_end="2026-11-24T08:45:00Z")

    assert [m["text"] for m in drawn["markers"]] == ["alert fired 08:30:00", "resolved 08:45:00"]
    assert drawn["band"] and drawn["band"]["w"] > 0
    labels = [t["label"] for t in drawn["ticks"]]
    assert 4 <= len(labels) <= 9 and all(re.fullmatch(r"\d\d:\d\d", label) for label in labels)


def test_graph_marks_the_failing_hop_and_labels_each_edge_with_its_calls() -> None:
    graph = {
        "kind": "request_flow", "failing_hop": "redis",
        "nodes": [{"id": "api", "errors": 2, "lines": 4, "status": "error"},
                  {"id": "redis", "errors": 0, "lines": 0, "status": "unreachable", "inferred": True},
                  {"id": "auth", "errors": 0, "lines": 2, "status": "ok"}],
        "edges": [{"source": "api", "target": "redis", "failed": True, "weight": 3},
                  {"source": "api", "target": "auth", "failed": False, "weight": 1}],
    }

    drawn = graph_svg(graph)

    assert [n["id"] for n in drawn["nodes"] if n["failing"]] == ["redis"]
    assert sorted(e["label"] for e in drawn["edges"]) == ["1 call", "3 calls"]
    fills = {n["status"]: n["color"] for n in drawn["nodes"]}
    assert len(set(fills.values())) == 3  # one colour per health


def test_worker_stores_a_timeline_over_every_service_not_only_the_alerting_one(make_app) -> None:
    truth = json.loads((SAMPLE_LOGS_DIR / "ground_truth.json").read_text())["incidents"][0]
    app = make_app()
    alert = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    accepted = app.post_alerts(alert).get_json()
    app.post_alerts(retarget(alert, status="resolved", ends_at=INCIDENT_END))  # the window ends there
    assert app.drain()[0] == "done"

    record = app.client.get(f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}").get_json()
    timeline = record["report"]["timeline"]

    assert record["query"]["services"] == ["api"]
    assert timeline["root_cause"] == truth["root_cause_service"]
    erring = {s for s, n in truth["error_lines"].items() if n and s != truth["root_cause_service"]}
    assert erring <= set(timeline["services"])
    assert truth["root_cause_service"] in timeline["services"]


def test_a_cause_outside_the_alerting_service_comes_with_the_services_read_to_find_it(make_app) -> None:
    app = make_app()
    alert = retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    accepted = app.post_alerts(alert).get_json()
    app.post_alerts(retarget(alert, status="resolved", ends_at=INCIDENT_END))
    assert app.drain()[0] == "done"
    record = app.client.get(f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}").get_json()

    meta = record["result"]["metadata"]
    assert meta["services_queried"] == ["api"] and "redis" in meta["coverage"]["services_read"]
    others = meta["coverage"]["lines_in_window"] - meta["total_logs"]
    opening = record["narrative"].split("\n\n")[1]
    assert opening.startswith(f"What happened: {meta['total_logs']:,} lines from api; to find causes it also read ")
    assert f"({others:,} lines)" in opening and "its likely root cause is redis" in opening
    page = app.client.get(f"/reports/{accepted['analysis_id']}").get_data(as_text=True)
    assert f'<dd id="also-read">{others} lines from admin-ui, anythingllm, browser, redis, worker</dd>' in page


def test_report_narrative_is_paragraphs_not_one_preformatted_block(make_app) -> None:
    app = make_app(grafana_url="http://grafana.invalid")
    accepted = app.post_alerts(
        retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    ).get_json()
    app.drain()
    record = app.client.get(f"/api/v1/ai_logs/analyses/{accepted['analysis_id']}").get_json()

    html = render_report(record, "http://grafana.invalid")
    narrative = html[html.index('<section id="narrative">'): html.index('<section id="timeline">')]

    assert "<pre" not in narrative and "pre-wrap" not in narrative
    assert narrative.count("<p") >= 2
    assert 'class="explore" href="http://grafana.invalid/explore?' in narrative


def test_report_of_a_queued_analysis_renders_its_empty_state(make_app) -> None:
    app = make_app()
    accepted = app.post_alerts(
        retarget(load_payload("alerting_single_firing.json"), labels={"service": "api"})
    ).get_json()

    page = app.client.get(f"/reports/{accepted['analysis_id']}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No verdict yet: the analysis is queued." in html
    assert "no errors in the window" in html and "no errors to correlate" in html


def test_narrative_text_becomes_labelled_paragraphs_lists_and_links() -> None:
    from analyzer.web.reports import narrative_blocks

    text = (
        "Troubleshooting · 08:00 to 09:00 UTC\n\n"
        "What happened: one problem.\n\n"
        "Where it started: redis failed first: `OOM` (3 lines).\n"
        "  Explore: http://g/explore?a=1\n\n"
        "How it spread:\n"
        "- api failed after redis.\n"
        "  Explore: http://g/explore?b=2\n"
        "- ... and 2 more findings.\n\n"
        "What to do:\n"
        "1. Raise the memory limit.\n"
    )

    blocks = narrative_blocks(text)

    assert [b["kind"] for b in blocks] == ["title", "p", "p", "heading", "ul", "heading", "ol"]
    origin = blocks[2]
    assert origin["label"] == "Where it started" and origin["link"] == "http://g/explore?a=1"
    assert {"code": True, "text": "OOM"} in origin["text"]
    assert [item["link"] for item in blocks[4]["entries"]] == ["http://g/explore?b=2", None]
