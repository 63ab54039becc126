"""`GET /reports/<analysis id>`: one HTML page per alert analysis, readable without Grafana.

An on-call engineer arrives here from a Grafana annotation, so the page answers in reading
order: which alert, is it still firing, the verdict (top insight) and the window; then the
narrative with each piece of evidence linked to Grafana Explore (when a Grafana URL is
configured); the ranked insights; the errors of every service over the window with the alert's
start and end marked; the request flow of the first failing request. Charts are inline SVG drawn
from positions computed here: no JavaScript and no external assets, so the page renders under
its strict CSP, in an incident channel's link preview or in an air-gapped browser.

What the worker stores for the page is built in `analyzer.alerting.report`; this module draws it.
Links that leave the page are built here, after masking: the report link on the public URL
(`public_url`), Explore links on the Grafana the alert came from (the notification's
`externalURL`, else `grafana_url`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, g
from jinja2 import Environment, FileSystemLoader, select_autoescape

from analyzer.alerting.records import annotation_of
from analyzer.alerting.report import alert_narrative, nice_step
from analyzer.errors import AnalyzerError, NotFound
from analyzer.model import NS_PER_SECOND, instant_ns
from analyzer.services import Services
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.flow_layout import RADIUS, layout

log = logging.getLogger(__name__)
bp = Blueprint("reports", __name__)

OPENAPI = [("GET", "/reports/{analysis_id}", None, "HTML report of an alert analysis.")]

TIMELINE_TICKS = 8  # at most, on the time axis
ROOT_CAUSE_COLOUR = "#d62728"
ALERTING_COLOUR = "#1f77b4"
OTHER_COLOUR = "#9e9e9e"
PALETTE = ("#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f")
# Node fill by hop status (analysis.correlate.Hop.status), and what the legend calls it.
HEALTH = {
    "ok": ("#2e7d32", "healthy"),
    "error": ("#c62828", "logged errors"),
    "unreachable": ("#6d1010", "unreachable (no line of its own)"),
    "failed_per_caller": ("#ef6c00", "failing per its callers"),
    "rejected": ("#f9a825", "rejected the request"),
}

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- drawing --------------------------------------------------------------------------------


def service_colours(services_: Sequence[str], root_cause: str | None, alerting: Sequence[str]) -> dict[str, str]:
    """The root cause red, the alerting services blue, the rest from the palette in order."""
    colours: dict[str, str] = {}
    spare = iter(PALETTE * (1 + len(services_) // len(PALETTE)))
    for name in services_:
        if name == root_cause:
            colours[name] = ROOT_CAUSE_COLOUR
        elif name in alerting:
            colours[name] = ALERTING_COLOUR
        elif name == "other":
            colours[name] = OTHER_COLOUR
        else:
            colours[name] = next(spare)
    return colours


def timeline_svg(
    timeline: dict[str, Any],
    *,
    alert_start: str | None = None,
    alert_end: str | None = None,
    width: int = 760,
) -> dict[str, Any]:
    """One lane per service on a shared time axis, bars scaled to the lane's own peak (the
    order and timing of the failures is the question, not the sizes), the alert's active span
    shaded and its start and end marked."""
    left, right, top, bottom, lane_h, gap = 118, 84, 40, 40, 30, 8
    plot_w = width - left - right
    series: dict[str, list[int]] = timeline.get("series") or {}
    names: list[str] = [s for s in (timeline.get("services") or list(series)) if s in series]
    root_cause = timeline.get("root_cause")
    alerting = timeline.get("alert_services") or []
    colours = service_colours(names, root_cause, alerting)
    buckets = int(timeline.get("buckets") or (len(next(iter(series.values()))) if series else 1))
    step_ns = int(timeline.get("bucket_seconds") or 60) * NS_PER_SECOND
    t0 = _ns(timeline.get("bucket_start") or timeline.get("start"))
    if t0 is None:
        return {"width": width, "height": 80, "empty": True, "lanes": [], "legend": [], "ticks": [],
                "markers": [], "band": None, "left": left, "top": 20, "plot_w": plot_w, "plot_h": 20}
    t1 = t0 + buckets * step_ns
    plot_h = max(1, len(names)) * (lane_h + gap) - gap
    height = top + plot_h + bottom

    def x_of(ns: int) -> float:
        return round(left + (ns - t0) / (t1 - t0) * plot_w, 1)

    bar_w = plot_w / buckets
    warned: dict[str, list[int]] = timeline.get("warnings") or {}
    lanes = []
    for row, name in enumerate(names):
        errors = series[name]
        warns = warned.get(name) or [0] * len(errors)
        y = top + row * (lane_h + gap)
        peak = max(e + w for e, w in zip(errors, warns, strict=False)) or 1
        bars = []
        for i, (count, warn) in enumerate(zip(errors, warns, strict=False)):
            start = t0 + i * step_ns
            when = f"{name} {_clock_ns(start)} to {_clock_ns(start + step_ns)} UTC"
            base = y + lane_h
            for value, kind, opacity in ((count, "error", 1.0), (warn, "warning", 0.4)):
                if not value:
                    continue
                h = max(2.0, value / peak * (lane_h - 4))
                base -= h
                bars.append({
                    "x": round(left + i * bar_w + 0.5, 1), "y": round(base, 1),
                    "w": round(max(bar_w - 1, 1), 1), "h": round(h, 1), "kind": kind,
                    "opacity": opacity, "title": f"{when}: {value} {kind}{'' if value == 1 else 's'}",
                })
        lanes.append({
            "name": name, "y": y, "h": lane_h, "color": colours[name], "bars": bars,
            "errors": sum(errors), "warnings": sum(warns), "peak": peak if any(errors) or any(warns) else 0,
            "role": _role(name, root_cause, timeline.get("suspects") or [], alerting),
        })

    span_s = (t1 - t0) / NS_PER_SECOND
    tick_s = nice_step(span_s, TIMELINE_TICKS)
    tick_ns = tick_s * NS_PER_SECOND
    first_tick = t0 + (-t0) % tick_ns
    ticks = [
        {"x": x_of(ns), "label": _clock_ns(ns, seconds=tick_s < 60)}
        for ns in range(first_tick, t1 + 1, tick_ns)
    ]

    markers = []
    start_ns, end_ns = _ns(alert_start), _ns(alert_end)
    for label, ns, css, row in (("alert fired", start_ns, "fired", 0), ("resolved", end_ns, "resolved", 1)):
        if ns is None or not t0 <= ns <= t1:
            continue
        x = x_of(ns)
        right_half = x > left + plot_w * 0.6
        markers.append({
            "x": x, "css": css, "text": f"{label} {_clock_ns(ns)}",
            "anchor": "end" if right_half else "start", "tx": x - 4 if right_half else x + 4,
            "ty": top - 22 + row * 13,
        })
    band = None
    if start_ns is not None and start_ns <= t1:
        lo = x_of(max(start_ns, t0))
        hi = x_of(min(end_ns, t1)) if end_ns is not None else left + plot_w
        if hi > lo:
            band = {"x": lo, "w": round(hi - lo, 1)}

    legend = [
        {"name": lane["name"], "color": lane["color"], "errors": lane["errors"],
         "warnings": lane["warnings"], "role": lane["role"],
         "first": _clock((timeline.get("first_line") or {}).get(lane["name"]))}
        for lane in lanes
    ]
    silent_root = bool(root_cause) and root_cause not in series
    return {
        "width": width, "height": height, "left": left, "top": top, "plot_w": plot_w,
        "plot_h": plot_h, "lanes": lanes, "ticks": ticks, "markers": markers, "band": band,
        "legend": legend, "empty": not lanes, "bucket": _duration(step_ns),
        "date": _day(t0), "total": timeline.get("total_errors", 0),
        "truncated": bool(timeline.get("truncated")),
        "silent_root_cause": root_cause if silent_root else None,
        "warning_only": timeline.get("warning_only") or [],
    }


def graph_svg(graph: dict[str, Any], width: int = 760) -> dict[str, Any]:
    """Callers before callees (see `flow_layout`: no node or label overlaps another), nodes
    filled by health, the failing hop ringed, every edge labelled with its call count."""
    nodes = graph.get("nodes") or []
    edges = graph.get("edges") or []
    failing = graph.get("failing_hop")
    noun = "call" if graph.get("kind") == "request_flow" else "minute"
    details = {n["id"]: _node_detail(n) for n in nodes}
    labels = {(e["source"], e["target"]): _edge_label(e, noun) for e in edges}
    placed = layout(
        [(n["id"], details[n["id"]], n["id"] == failing) for n in nodes],
        [(e["source"], e["target"], labels[(e["source"], e["target"])]) for e in edges],
        width=width,
    )
    radius = RADIUS
    drawn_nodes = []
    for n in nodes:
        shape = placed.nodes[n["id"]]
        status = n.get("status") or ("error" if n.get("errors") else "ok")
        colour, health = HEALTH.get(status, HEALTH["error"])
        drawn_nodes.append({
            "id": n["id"], "x": round(shape.x, 1), "y": round(shape.y, 1), "r": radius, "color": colour,
            "status": status, "health": health, "errors": n.get("errors", 0), "detail": details[n["id"]],
            "detail_lines": shape.detail, "failing": n["id"] == failing, "dashed": bool(n.get("inferred")),
        })
    drawn_edges = []
    for e in edges:
        a, b = placed.nodes[e["source"]], placed.nodes[e["target"]]
        # top to bottom, an edge leaves below its source's labels rather than through them
        below = placed.direction == "down" and b.y - b.above > a.y + a.below
        ax, ay = (a.x, a.y + a.below - 4 - radius) if below else (a.x, a.y)
        length = math.hypot(b.x - ax, b.y - ay) or 1
        ux, uy = (b.x - ax) / length, (b.y - ay) / length
        calls = int(e.get("weight") or 1)
        label = labels[(e["source"], e["target"])]
        lx, ly = placed.edge_labels[(e["source"], e["target"])]
        drawn_edges.append({
            "x1": round(ax + ux * (radius + 2), 1), "y1": round(ay + uy * (radius + 2), 1),
            "x2": round(b.x - ux * (radius + 8), 1), "y2": round(b.y - uy * (radius + 8), 1),
            "failed": bool(e.get("failed")),
            "width": round(min(5, 1.5 + math.log2(calls)), 1),
            "label": label, "lx": round(lx, 1), "ly": round(ly + 4, 1),
            "title": f"{e['source']} → {e['target']}: {label}"
                     + (f" (from {e['inferred_from']})" if e.get("inferred_from") else ""),
        })
    shown = list(dict.fromkeys(n["status"] for n in drawn_nodes))
    legend = [{"color": HEALTH[s][0], "label": HEALTH[s][1]} for s in HEALTH if s in shown]
    return {"width": round(placed.width), "height": round(max(200, placed.height)), "nodes": drawn_nodes,
            "edges": drawn_edges, "legend": legend, "empty": not drawn_nodes,
            "failing_label": "failing hop" if graph.get("kind") == "request_flow" else "first to fail"}


def _node_detail(node: dict[str, Any]) -> str:
    if node.get("silent"):
        named = int(node.get("named_by_errors") or 0)
        if not named:
            return "no logs of its own"
        return f"no logs of its own; named by {named:,} error{'' if named == 1 else 's'}"
    if node.get("inferred"):
        return "no line for this request"
    errors, lines = int(node.get("errors") or 0), int(node.get("lines") or 0)
    return f"{errors:,} error{'' if errors == 1 else 's'} / {lines:,} line{'' if lines == 1 else 's'}"


def _edge_label(edge: dict[str, Any], noun: str) -> str:
    calls = int(edge.get("weight") or 1)
    return f"{calls} {noun}{'' if calls == 1 else 's'}"


def _role(name: str, root_cause: str | None, suspects: Sequence[str], alerting: Sequence[str]) -> str | None:
    if name == root_cause:
        return "root cause"
    if name in alerting:
        return "alerting"
    return "suspect" if name in suspects else None


def _ns(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return instant_ns(text)
    except ValueError:
        return None


def _clock_ns(ns: int, *, seconds: bool = True) -> str:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%H:%M:%S" if seconds else "%H:%M")


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%d %b %Y")


def _clock(text: str | None) -> str:
    ns = _ns(text)
    return _clock_ns(ns) if ns is not None else (text or "")


def _duration(ns: int) -> str:
    seconds = round(ns / NS_PER_SECOND)
    if seconds < 120:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def span_text(start: str | None, end: str | None) -> str:
    """`24 Nov 2026, 07:56:45 → 08:34:45 UTC (38 min)`, the day repeated only when it changes."""
    lo, hi = _ns(start), _ns(end)
    if lo is None:
        return ""
    if hi is None:
        return f"{_day(lo)}, {_clock_ns(lo)} UTC"
    end_text = _clock_ns(hi) if _day(hi) == _day(lo) else f"{_day(hi)}, {_clock_ns(hi)}"
    return f"{_day(lo)}, {_clock_ns(lo)} → {end_text} UTC ({_duration(hi - lo)})"


_TEMPLATES.filters["clock"] = _clock


# -- the page -------------------------------------------------------------------------------


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


def narrative_view(record: dict[str, Any], grafana_url: str | None, loki_uid: str) -> list[dict[str, Any]]:
    """The narrative as blocks (paragraphs, headings, lists), each piece of evidence carrying
    its Explore link. Told afresh from the stored answer so the links use the alert's Grafana;
    the stored annotation text when that is all there is."""
    text = record.get("narrative") or ""
    result = record.get("result")
    if result:
        try:
            text = alert_narrative(result, verbosity="standard", grafana_url=grafana_url, loki_uid=loki_uid)
        except Exception:  # the page still shows the stored narrative
            log.warning("narrative could not be rendered", exc_info=True)
    return narrative_blocks(text)


_ITEM = re.compile(r"^(-|\d+\.)\s+(.*)$")
_EXPLORE = re.compile(r"^Explore:\s*(\S+)$")
_HEADING = re.compile(r"^([A-Z][^:]{1,40}):$")
_LABELLED = re.compile(r"^([A-Z][A-Za-z ]{1,30}):\s+(.+)$")


def narrative_blocks(text: str) -> list[dict[str, Any]]:
    """Plain narrative text (see narrate's templates) to blocks: the first line is the title,
    `Label: text` a labelled paragraph, `Label:` alone a heading, `- ` and `1. ` list items with
    their indented lines, `Explore: <url>` the link of the line before it."""
    blocks: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None  # what an Explore line attaches to
    gap = False
    for number, raw in enumerate(text.strip().splitlines()):
        line = raw.strip()
        current = blocks[-1] if blocks else None
        if not line:
            gap = True
            continue
        if (explore := _EXPLORE.match(line)) and last is not None:
            last["link"] = explore[1]
            continue
        item = _ITEM.match(line) if raw == raw.lstrip() else None
        if item:
            kind = "ul" if item[1] == "-" else "ol"
            if current is None or current["kind"] != kind:
                current = {"kind": kind, "entries": []}
                blocks.append(current)
            last = {"text": _segments(item[2]), "lines": [], "link": None}
            current["entries"].append(last)
        elif raw != raw.lstrip() and current is not None and current["kind"] in ("ul", "ol"):
            last = {"text": _segments(line), "link": None}
            current["entries"][-1]["lines"].append(last)
        elif number == 0:
            last = {"kind": "title", "label": None, "text": _segments(line), "link": None}
            blocks.append(last)
        elif heading := _HEADING.match(line):
            blocks.append({"kind": "heading", "text": heading[1]})
            last = None
        elif current is not None and current["kind"] == "p" and not gap:
            current["text"].extend(_segments(" " + line))
        else:
            labelled = _LABELLED.match(line)
            last = {"kind": "p", "label": labelled[1] if labelled else None,
                    "text": _segments(labelled[2] if labelled else line), "link": None}
            blocks.append(last)
        gap = False
    return blocks


def _segments(text: str) -> list[dict[str, Any]]:
    """`code` spans apart from prose, so the template escapes both and styles the code."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unmatched backquote is prose
        return [{"code": False, "text": text}]
    return [{"code": i % 2 == 1, "text": part} for i, part in enumerate(parts) if part]


def verdict(insights: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The top insight as one sentence, with how sure the engine is; never one that began after
    the alert fired."""
    told = [i for i in insights if not i.get("after_alert")]
    if not told:
        return None
    top = told[0]
    title = str(top.get("title") or top.get("kind") or "").strip()
    sentence = title if title.endswith((".", "!", "?")) else f"{title}."
    return {"text": sentence, "confidence": top.get("confidence"), "service": top.get("service"),
            "severity": top.get("severity")}


def render_report(
    record: dict[str, Any], grafana_url: str | None, loki_uid: str = "loki-ai-logs"
) -> str:
    """`record` masked already; `grafana_url` the Grafana a browser reaches (unmasked)."""
    report = record.get("report") or {}
    result = record.get("result") or {}
    alert = record.get("alert") or {}
    insights = [
        {**insight, "explore": evidence_link(insight.get("evidence") or {}, grafana_url, loki_uid)}
        for insight in result.get("insights", [])
    ]
    window = record.get("window") or {}
    return _TEMPLATES.get_template("report.html.j2").render(
        record=record,
        alert=alert,
        state="resolved" if record.get("resolved") else "firing",
        verdict=verdict(insights),
        window_text=span_text(window.get("start"), window.get("end")),
        alert_text=span_text(alert.get("starts_at"), record.get("ends_at")),
        narrative=narrative_view(record, grafana_url, loki_uid),
        insights=insights,
        summary=result.get("summary") or {},
        alert_services=(record.get("query") or {}).get("services") or [],
        also_read=_also_read(result, (record.get("query") or {}).get("services") or []),
        timeline=timeline_svg(
            report.get("timeline") or {}, alert_start=alert.get("starts_at"), alert_end=record.get("ends_at")
        ),
        graph=graph_svg(report.get("graph") or {}),
        graph_info=report.get("graph") or {},
        grafana_url=grafana_url,
        annotation=annotation_of(record),
        window_note=window_note((result.get("metadata") or {}).get("alert_window") or {}),
    )


def _also_read(result: dict[str, Any], asked: list[str]) -> dict[str, Any] | None:
    """The services read beyond the alert's to find the cause (their lanes are drawn too)."""
    meta = result.get("metadata") or {}
    coverage = meta.get("coverage") or {}
    others = [s for s in coverage.get("services_read") or [] if s not in asked]
    if not asked or not others:
        return None
    lines = int(coverage.get("lines_in_window") or 0) - int(meta.get("total_logs") or 0)
    return {"services": others, "lines": max(0, lines)}


def window_note(window: dict[str, Any]) -> str | None:
    """Why the window ends before the alert did, when it was cut to the longest allowed."""
    end = _ns(window.get("uncapped_end"))
    if not window.get("capped") or end is None:
        return None
    return f"cut to {window.get('max_window')}; the alert fired until {_day(end)}, {_clock_ns(end)} UTC"


class ResultsUnreachable(AnalyzerError):
    status = 503
    code = "RESULTS_UNAVAILABLE"
    suggestion = "Redis, where this analysis may be stored, cannot be reached; retry once it is back."


def stored_analysis(
    analysis_id: str, svc: Services | None = None, tenant: str | None = None
) -> dict[str, Any]:
    """The tenant's record (the caller's by default), 404 when there is none, 503 when it may
    be out of reach."""
    from analyzer.alerting.stores import alert_stores
    from analyzer.infra.results import ResultsUnavailable

    _, results = alert_stores(svc or services())
    try:
        record = results.get(analysis_id) if len(analysis_id) <= 64 else None
    except ResultsUnavailable as exc:
        raise ResultsUnreachable(str(exc)) from None
    if record is None or record.get("tenant") != (tenant if tenant is not None else g.tenant):
        raise NotFound(
            f"no analysis '{analysis_id[:64]}'",
            suggestion="List analyses at /api/v1/ai_logs/analyses; ids come from the webhook's answer.",
        )
    return record


@bp.get("/reports/<analysis_id>")
@require("query")
def report_page(analysis_id: str) -> Response:
    from analyzer.infra.privacy import mask

    record = stored_analysis(analysis_id)
    settings = services().settings
    grafana_url = record.get("grafana_url") or settings.grafana_url
    html = render_report(mask(record), grafana_url, settings.grafana_loki_uid)
    response = Response(html, mimetype="text/html")
    # the page needs nothing from anywhere: no script, no fetch, styles inline
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return response


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
