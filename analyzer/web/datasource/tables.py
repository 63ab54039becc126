"""The table, node-graph and text targets: `top_patterns`, `insights`, `conversations`,
`workspace_costs`, `correlation_graph` and `narrative`.

Times in tables are `time` fields (epoch milliseconds), so Grafana formats them in the viewer's
time zone and sorts them as times, not as text.
"""

from __future__ import annotations

from analyzer.analysis import correlate
from analyzer.analysis.conversations import AIRequest
from analyzer.analysis.workspace import workspace_summary
from analyzer.model import LogRecord, instant_ns
from analyzer.web import frames
from analyzer.web.datasource.panel import TargetContext

TOP_ROWS = 50
NS_PER_MS = 1_000_000

Columns = list[tuple[str, frames.FieldType]]


def epoch_ms(moment: int | str | None) -> int | None:
    """Epoch milliseconds of a nanosecond epoch or an RFC 3339 time (a `time` field's value)."""
    if moment is None or moment == "":
        return None
    ns = moment if isinstance(moment, int) else instant_ns(moment)
    return ns // NS_PER_MS


def top_patterns(ctx: TargetContext) -> list[frames.Frame]:
    from analyzer.analysis.templates import group_by_template

    records = ctx.records
    groups = group_by_template(records)[:TOP_ROWS]
    suggestions = _pattern_suggestions(records, ctx)
    rows = [
        {
            "template": g_["template"],
            "count": g_["count"],
            "services": ", ".join(g_["services"]),
            "first_seen": epoch_ms(g_["first_seen"]),
            "last_seen": epoch_ms(g_["last_seen"]),
            "sample": g_["sample"],
            "suggestion": suggestions.get(g_["template_id"], ""),
        }
        for g_ in groups
    ]
    columns: Columns = [
        ("template", "string"), ("count", "number"), ("services", "string"),
        ("first_seen", "time"), ("last_seen", "time"), ("sample", "string"),
        ("suggestion", "string"),
    ]  # fmt: skip
    return [frames.table_frame(ctx.ref_id, "top_patterns", columns, rows)]


def _pattern_suggestions(records: list[LogRecord], ctx: TargetContext) -> dict[str, str]:
    """Template id -> the suggestion of the highest-ranked insight whose samples it matches."""
    from analyzer.analysis.pipeline import analyze_records
    from analyzer.analysis.templates import mine

    insights = analyze_records(records, ctx.query, ctx.data.window).insights
    if not insights or not records:
        return {}
    matches = mine(r.message for r in records)
    template_of = {r.message: m.template_id for r, m in zip(records, matches, strict=True)}
    out: dict[str, str] = {}
    for insight in sorted(insights, key=lambda i: -i.score):
        for sample in insight.evidence.samples:
            template_id = template_of.get(sample)
            if template_id and template_id not in out:
                out[template_id] = insight.suggestion
    return out


def insights(ctx: TargetContext) -> list[frames.Frame]:
    analysis = ctx.data.analysis(ctx.query)
    rows = []
    for position, insight in enumerate(analysis.insights[:TOP_ROWS], start=1):
        rows.append(
            {
                "rank": position,
                "severity": insight.severity.label,
                "kind": insight.kind,
                "title": insight.title,
                "service": insight.service or "",
                "count": insight.evidence.count,
                "confidence": round(insight.confidence, 3),
                "first_seen": epoch_ms(insight.evidence.first_seen_ns),
                "last_seen": epoch_ms(insight.evidence.last_seen_ns),
                "suggestion": insight.suggestion,
                "logql": insight.evidence.logql or "",
            }
        )
    columns: Columns = [
        ("rank", "number"), ("severity", "string"), ("kind", "string"), ("title", "string"),
        ("service", "string"), ("count", "number"), ("confidence", "number"),
        ("first_seen", "time"), ("last_seen", "time"), ("suggestion", "string"),
        ("logql", "string"),
    ]  # fmt: skip
    units = {"confidence": "percentunit"}
    return [frames.table_frame(ctx.ref_id, "insights", columns, rows, units=units)]


def conversations(ctx: TargetContext) -> list[frames.Frame]:
    """One row per conversation: lines, AI requests, tokens, cost, failures and time span."""
    prices = ctx.data.prices()
    lines: dict[str, list[LogRecord]] = {}
    for r in ctx.records:
        if r.conversation_id:
            lines.setdefault(r.conversation_id, []).append(r)
    requests: dict[str, list[AIRequest]] = {}
    for q in ctx.ai_requests:
        if q.conversation_id:
            requests.setdefault(q.conversation_id, []).append(q)
    rows = []
    for conversation_id, own in lines.items():
        asked = requests.get(conversation_id, [])
        costs = [q.cost(prices) for q in asked]
        times = [q.response_time for q in asked if q.response_time is not None]
        rows.append(
            {
                "conversation_id": conversation_id,
                "workspace_id": next((r.workspace_id for r in own if r.workspace_id), ""),
                "models": ", ".join(sorted({q.model for q in asked if q.model})),
                "requests": len(asked),
                "tokens": sum(q.total_tokens for q in asked),
                "cost": round(sum(c for c in costs if c is not None), 6) if asked else None,
                "failed_requests": sum(1 for q in asked if q.failed),
                "lines": len(own),
                "first_seen": epoch_ms(own[0].timestamp_ns),
                "last_seen": epoch_ms(own[-1].timestamp_ns),
                "mean_response_ms": round(1000 * sum(times) / len(times), 1) if times else None,
            }
        )
    rows.sort(key=lambda row: (-row["failed_requests"], row["first_seen"]))
    columns: Columns = [
        ("conversation_id", "string"), ("workspace_id", "string"), ("models", "string"),
        ("requests", "number"), ("tokens", "number"), ("cost", "number"),
        ("failed_requests", "number"), ("lines", "number"), ("first_seen", "time"),
        ("last_seen", "time"), ("mean_response_ms", "number"),
    ]  # fmt: skip
    units = {"cost": "currencyUSD", "mean_response_ms": "ms"}
    return [frames.table_frame(ctx.ref_id, "conversations", columns, rows[: TOP_ROWS * 4],
                               units=units)]  # fmt: skip


def workspace_costs(ctx: TargetContext) -> list[frames.Frame]:
    """One row per workspace with AI requests, most expensive first."""
    prices = ctx.data.prices()
    records = ctx.records
    rows = []
    for workspace_id in sorted({q.workspace_id for q in ctx.ai_requests if q.workspace_id}):
        summary = workspace_summary(records, workspace_id, prices=prices)
        costs = summary["cost_breakdown"]
        rows.append(
            {
                "workspace_id": workspace_id,
                "requests": summary["total_requests"],
                "conversations": summary["total_conversations"],
                "tokens": summary["total_tokens"],
                "cost": costs["total_cost"],
                "cost_complete": costs["cost_complete"],
                "failed_requests": summary["failed_requests"],
                "error_rate": summary["error_rate"],
                "models": ", ".join(summary["models_used"]),
            }
        )
    rows.sort(key=lambda row: (-row["cost"], row["workspace_id"]))
    columns: Columns = [
        ("workspace_id", "string"), ("requests", "number"), ("conversations", "number"),
        ("tokens", "number"), ("cost", "number"), ("cost_complete", "boolean"),
        ("failed_requests", "number"), ("error_rate", "number"), ("models", "string"),
    ]  # fmt: skip
    units = {"cost": "currencyUSD", "error_rate": "percentunit"}
    return [frames.table_frame(ctx.ref_id, "workspace_costs", columns, rows, units=units)]


def correlation_graph(ctx: TargetContext) -> list[frames.Frame]:
    # no id yet (the dashboard loads before anyone types one): an empty graph, not an error
    correlation_id = ctx.query.correlation_id or ""
    records = ctx.records if correlation_id else []
    known = ctx.data.svc.source.services(tenant=ctx.data.tenant) if correlation_id else []
    result = correlate.request_flow(records, correlation_id, known_services=known)
    nodes_fields, edges_fields = correlate.node_graph_frames(result)
    return frames.node_graph_frames(ctx.ref_id, nodes_fields, edges_fields)


def narrative(ctx: TargetContext) -> list[frames.Frame]:
    from analyzer import narrate

    settings = ctx.data.svc.settings
    body = ctx.data.analysis(ctx.query).to_dict()
    text = narrate.render(
        "query",
        body,
        fmt="narrative",
        verbosity=ctx.query.verbosity.value,
        grafana_url=settings.grafana_url,
        loki_uid=settings.grafana_loki_uid,
    )
    return [frames.text_frame(ctx.ref_id, "narrative", str(text))]


TARGETS = {
    "top_patterns": top_patterns,
    "insights": insights,
    "conversations": conversations,
    "workspace_costs": workspace_costs,
    "correlation_graph": correlation_graph,
    "narrative": narrative,
}
