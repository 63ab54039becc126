"""`GET /reports/<analysis id>`: one HTML page per alert analysis, readable without Grafana.

The narrative, the ranked insights with their evidence (each linking to Grafana Explore when a
Grafana URL is configured), a timeline of errors by service and the correlation graph, both
inline SVG drawn from positions computed here. No JavaScript and no external assets: the page
must render inside an incident channel's link preview or an air-gapped browser.

`report_data(analysis)` is what the worker stores for the page: small, already aggregated,
because the records themselves are not kept.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
from flask import Blueprint, Flask, Response, g
from jinja2 import Environment, FileSystemLoader, select_autoescape

from analyzer.analysis.pipeline import Analysis
from analyzer.errors import NotFound
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, format_timestamp, instant_ns
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services

bp = Blueprint("reports", __name__)

OPENAPI = [("GET", "/reports/{analysis_id}", None, "HTML report of an alert analysis.")]

TIMELINE_BUCKETS = 40
TIMELINE_SERVICES = 6  # the rest are summed as "other"
# The Loki datasource uid that provisioning/grafana/datasources gives Grafana.
PALETTE = ("#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f")

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- what the worker stores -----------------------------------------------------------------


def report_data(
    analysis: Analysis,
    flow_records: list[LogRecord] | None = None,
    *,
    known_services: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """`flow_records`: every service's lines of the first failing request (the analysis itself
    may be limited to the alerting services); `known_services` lets a peer that logged nothing
    for the request (a crashed cache) appear when a caller names it."""
    return {
        "timeline": error_timeline(analysis.records, analysis.window.start_ns, analysis.window.end_ns),
        "graph": correlation_graph(analysis, flow_records, known_services=known_services),
    }


def error_timeline(records: list[LogRecord], start_ns: int, end_ns: int) -> dict[str, Any]:
    """Error counts per service in equal buckets over the window."""
    span = max(1, end_ns - start_ns)
    width = span / TIMELINE_BUCKETS
    errors = [r for r in records if r.level >= Severity.ERROR and start_ns <= r.timestamp_ns <= end_ns]
    totals = Counter(r.service for r in errors)
    shown = [s for s, _ in totals.most_common(TIMELINE_SERVICES)]
    series: dict[str, list[int]] = {s: [0] * TIMELINE_BUCKETS for s in shown}
    for r in errors:
        name = r.service if r.service in series else "other"
        if name not in series:
            series[name] = [0] * TIMELINE_BUCKETS
        index = min(TIMELINE_BUCKETS - 1, int((r.timestamp_ns - start_ns) / width))
        series[name][index] += 1
    return {
        "start": format_timestamp(start_ns),
        "end": format_timestamp(end_ns),
        "bucket_seconds": round(width / NS_PER_SECOND, 3),
        "series": series,
        "total_errors": len(errors),
    }


def correlation_graph(
    analysis: Analysis,
    flow_records: list[LogRecord] | None = None,
    *,
    known_services: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """The request flow of the first failing request when one carries a correlation id, else
    which services' errors co-occur (same minute), directed from the one that failed first."""
    from analyzer.analysis.correlate import request_flow

    failing = first_failing_request(analysis)
    if failing:
        records = flow_records if flow_records else analysis.records
        flow = request_flow(records, failing, known_services=known_services).to_dict()["request_flow"]
        if len(flow["nodes"]) > 1:
            return {
                "kind": "request_flow",
                "correlation_id": failing,
                "nodes": [
                    {"id": n["id"], "errors": n["errors"], "lines": n["lines"], "status": n["status"]}
                    for n in flow["nodes"]
                ],
                "edges": [
                    {"source": e["source"], "target": e["target"], "failed": e["failed"],
                     "weight": e["calls"]}
                    for e in flow["edges"]
                ],
            }
    return co_occurrence_graph(analysis.records)


def first_failing_request(analysis: Analysis) -> str | None:
    top_service = analysis.insights[0].service if analysis.insights else None
    errors = [r for r in analysis.records if r.is_error and r.correlation_id]
    preferred = [r for r in errors if r.service == top_service] or errors
    return preferred[0].correlation_id if preferred else None


def co_occurrence_graph(records: list[LogRecord], bucket_seconds: int = 60) -> dict[str, Any]:
    errors = [r for r in records if r.is_error]
    first_error: dict[str, int] = {}
    buckets: dict[int, set[str]] = defaultdict(set)
    counts = Counter()
    for r in errors:
        first_error.setdefault(r.service, r.timestamp_ns)
        buckets[r.timestamp_ns // (bucket_seconds * NS_PER_SECOND)].add(r.service)
        counts[r.service] += 1
    pairs: Counter[tuple[str, str]] = Counter()
    for names in buckets.values():
        ordered = sorted(names, key=lambda s: (first_error[s], s))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[(a, b)] += 1
    return {
        "kind": "co_occurrence",
        "correlation_id": None,
        "nodes": [
            {"id": s, "errors": counts[s], "lines": counts[s], "status": "error"}
            for s in sorted(counts, key=lambda s: (first_error[s], s))
        ],
        "edges": [
            {"source": a, "target": b, "failed": True, "weight": n} for (a, b), n in sorted(pairs.items())
        ],
    }


# -- drawing --------------------------------------------------------------------------------


def timeline_svg(timeline: dict[str, Any], width: int = 760, height: int = 240) -> dict[str, Any]:
    """Stacked bars: one column per bucket, one colour per service."""
    left, right, top, bottom = 44, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    series: dict[str, list[int]] = timeline.get("series") or {}
    n = len(next(iter(series.values()))) if series else TIMELINE_BUCKETS
    stacks = [sum(values[i] for values in series.values()) for i in range(n)]
    peak = max(stacks, default=0) or 1
    bar_w = plot_w / n
    bars = []
    for i in range(n):
        y = top + plot_h
        for k, (service, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = values[i] / peak * plot_h
            y -= h
            bars.append({
                "x": round(left + i * bar_w + 1, 1), "y": round(y, 1),
                "w": round(max(bar_w - 2, 1), 1), "h": round(h, 1),
                "color": PALETTE[k % len(PALETTE)], "title": f"{service}: {values[i]}",
            })
    legend = [
        {"name": s, "color": PALETTE[k % len(PALETTE)], "total": sum(v)}
        for k, (s, v) in enumerate(series.items())
    ]
    return {
        "width": width, "height": height, "left": left, "top": top,
        "plot_w": plot_w, "plot_h": plot_h, "bars": bars, "peak": peak, "legend": legend,
        "start": _clock(timeline.get("start")), "end": _clock(timeline.get("end")),
        "empty": not bars,
    }


def graph_svg(graph: dict[str, Any], width: int = 760, height: int = 300) -> dict[str, Any]:
    """Layered left-to-right when the graph is acyclic (callers before callees), else a ring."""
    nodes = graph.get("nodes") or []
    edges = graph.get("edges") or []
    g_ = nx.DiGraph()
    g_.add_nodes_from(n["id"] for n in nodes)
    g_.add_edges_from((e["source"], e["target"]) for e in edges)
    positions: dict[str, tuple[float, float]] = {}
    margin_x, margin_y = 90, 40
    if nodes and nx.is_directed_acyclic_graph(g_):
        layers = [sorted(layer) for layer in nx.topological_generations(g_)]
        for col, layer in enumerate(layers):
            x = margin_x + (width - 2 * margin_x) * (col / max(1, len(layers) - 1) if len(layers) > 1 else 0.5)
            for row, name in enumerate(layer):
                y = margin_y + (height - 2 * margin_y) * ((row + 1) / (len(layer) + 1))
                positions[name] = (x, y)
    else:
        cx, cy, radius = width / 2, height / 2, min(width, height) / 2 - margin_y
        for i, n in enumerate(nodes):
            angle = 2 * math.pi * i / max(1, len(nodes)) - math.pi / 2
            positions[n["id"]] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    radius = 22
    drawn_nodes = [
        {
            "id": n["id"], "x": round(positions[n["id"]][0], 1), "y": round(positions[n["id"]][1], 1),
            "r": radius, "errors": n.get("errors", 0),
            "color": "#d62728" if n.get("errors") or n.get("status") != "ok" else "#2ca02c",
        }
        for n in nodes
    ]
    drawn_edges = []
    for e in edges:
        (x1, y1), (x2, y2) = positions[e["source"]], positions[e["target"]]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        drawn_edges.append({
            "x1": round(x1 + ux * radius, 1), "y1": round(y1 + uy * radius, 1),
            "x2": round(x2 - ux * (radius + 6), 1), "y2": round(y2 - uy * (radius + 6), 1),
            "color": "#d62728" if e.get("failed") else "#888888",
            "width": round(min(6, 1 + math.log2(1 + int(e.get("weight") or 1))), 1),
            "title": f"{e['source']} → {e['target']} ({e.get('weight', 1)})",
        })
    return {"width": width, "height": height, "nodes": drawn_nodes, "edges": drawn_edges,
            "empty": not drawn_nodes}


def _clock(text: str | None) -> str:
    return text[11:19] if text and len(text) >= 19 else (text or "")


def evidence_link(evidence: dict[str, Any], grafana_url: str | None, loki_uid: str) -> str | None:
    if not grafana_url:
        return None
    from analyzer.narrate import explore_url
    from analyzer.sources import logql

    expr = evidence.get("logql") or logql.selector(evidence.get("services") or [])
    try:
        start_ns = instant_ns(evidence["first_seen"]) - 60 * NS_PER_SECOND
        end_ns = instant_ns(evidence["last_seen"]) + 60 * NS_PER_SECOND
    except (KeyError, ValueError):
        return None
    return explore_url(grafana_url, expr, start_ns, end_ns, loki_uid)


def render_report(
    record: dict[str, Any], grafana_url: str | None, loki_uid: str = "loki-ai-logs"
) -> str:
    report = record.get("report") or {}
    result = record.get("result") or {}
    insights = [
        {**insight, "explore": evidence_link(insight.get("evidence") or {}, grafana_url, loki_uid)}
        for insight in result.get("insights", [])
    ]
    return _TEMPLATES.get_template("report.html.j2").render(
        record=record,
        alert=record.get("alert") or {},
        insights=insights,
        summary=result.get("summary") or {},
        timeline=timeline_svg(report.get("timeline") or {}),
        graph=graph_svg(report.get("graph") or {}),
        graph_info=report.get("graph") or {},
        grafana_url=grafana_url,
    )


@bp.get("/reports/<analysis_id>")
@require("query")
def report_page(analysis_id: str) -> Response:
    from analyzer.infra.privacy import mask
    from analyzer.worker import alert_stores

    _, results = alert_stores(services())
    record = results.get(analysis_id) if len(analysis_id) <= 64 else None
    if record is None or record.get("tenant") not in (None, g.tenant):
        raise NotFound(f"no analysis '{analysis_id[:64]}'", suggestion="List analyses at /api/v1/ai_logs/analyses.")
    settings = services().settings
    html = render_report(mask(record), settings.grafana_url, settings.grafana_loki_uid)
    response = Response(html, mimetype="text/html")
    # the page needs nothing from anywhere: no script, no fetch, styles inline
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return response


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
