"""The MCP tools: each a thin layer over the code that answers the same HTTP API question.

A tool takes the API's own parameters (the same pydantic models, so the same validation and
the same error codes), asks the same function the HTTP view asks, and splits the answer into
its conclusion (narrative text and structured summary, never cut) and its evidence (lists,
cut to the caller's token budget in the order named here). Path parameters of the HTTP API
(`/conversations/<id>`) become ordinary arguments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from analyzer.errors import InvalidParameter
from analyzer.mcp.answers import (
    SAMPLE_CHARS,
    Outcome,
    compact_insight,
    compact_line,
    narrower_window,
)
from analyzer.mcp.budget import Cuttable, Draft
from analyzer.model import IdText, Mode, OutputFormat, Query, Verbosity
from analyzer.services import Services
from analyzer.web.analyses_api import AnalysesParams
from analyzer.web.conversation_api import ConversationParams, WorkspaceParams
from analyzer.web.correlation_api import CorrelateParams
from analyzer.web.params import validate
from analyzer.web.patterns_api import PatternListParams, RuleParams

TEMPLATE_LINES_MAX = 20_000  # lines one `templates` call mines
TEMPLATE_TEXT_MAX = 2_000_000  # characters of pasted text


# ---- parameters: the API's models, with the HTTP path parameters as fields ----


class ConversationToolParams(ConversationParams):
    conversation_id: IdText = Field(description="The conversation to account for.")


class WorkspaceToolParams(WorkspaceParams):
    workspace_id: IdText = Field(description="The workspace to summarise.")


class AnalysisParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analysis_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="An id from list_alert_analyses or from the webhook's answer."
    )


class RuleToolParams(RuleParams):
    pattern_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="A pattern id from the patterns tool (16 hex characters)."
    )


class TemplatesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: Annotated[str, Field(min_length=1, max_length=TEMPLATE_TEXT_MAX)] = Field(
        description=f"Raw log messages, one per line (at most {TEMPLATE_LINES_MAX} lines)."
    )


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelValuesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="service, level, workspace_id or model (the Grafana ad-hoc filter keys)."
    )


# ---- the registry ----

Run = Callable[[Services, str, Any], Outcome]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    params: type[BaseModel]
    run: Run  # (services, tenant, validated parameters) -> outcome
    mode: Mode | None = None  # the query tools: the API's `mode`, fixed by the tool

    def input_schema(self) -> dict[str, Any]:
        schema = self.params.model_json_schema(by_alias=True)
        properties = schema.setdefault("properties", {})
        properties.pop("mode", None)
        properties["max_tokens"] = {
            "type": "integer",
            "minimum": MAX_TOKENS_MIN,
            "maximum": MAX_TOKENS_MAX,
            "default": MAX_TOKENS_DEFAULT,
            "description": "Most tokens in the answer; evidence is cut first, never the conclusion.",
        }
        properties["cursor"] = {
            "type": "string",
            "description": "`truncation.next_cursor` of a previous answer: the next evidence.",
        }
        schema["additionalProperties"] = False
        return schema

    def parse(self, arguments: dict[str, Any]) -> Any:
        """The API's validation; a query tool's mode is its own."""
        if self.mode is None:
            return validate(self.params, arguments)
        if "mode" in arguments:
            raise InvalidParameter(
                "unknown parameter 'mode'",
                code="UNKNOWN_PARAMETER",
                suggestion=f"This tool always answers in {self.mode.value} mode; "
                "use the troubleshoot, errors or performance tool for another.",
                details={"parameter": "mode"},
            )
        return validate(Query, {**arguments, "mode": self.mode.value})


MAX_TOKENS_DEFAULT = 1800  # the default answer stays under 2,000 tokens
# metadata of the API that says how the answer was computed, not what it found; kept at
# verbosity=detailed (the window is in `truncation.window`)
FIRST_LINES = 5
TOP_INSIGHTS = 5
# `coverage` rides in `truncation.coverage`, once
OPERATIONAL = frozenset({"time_range", "query_time", "analysis_ms", "execution_ms", "coverage"})
MAX_TOKENS_MIN = 200
MAX_TOKENS_MAX = 100_000


# ---- the query tools: GET /api/v1/ai_logs/query ----


def query_outcome(svc: Services, tenant: str, query: Query) -> Outcome:
    from analyzer.querying import respond

    if query.format is OutputFormat.STRUCTURED:  # the structured result rides beside the text
        query = query.model_copy(update={"format": OutputFormat.NARRATIVE})
    body = respond(svc, query, tenant=tenant)
    fmt = query.format.value
    text = body.pop(fmt)
    rest = dict(body)
    summary = dict(rest.pop("summary"))
    logs = rest.pop("logs")
    insights = rest.pop("insights")
    meta = rest.pop("metadata")
    detailed = query.verbosity is Verbosity.DETAILED
    shown_meta = meta if detailed else {k: v for k, v in meta.items() if k not in OPERATIONAL}
    cuttable = [Cuttable("logs", ("logs",), [compact_line(line) for line in logs])]
    for key, value in list(summary.items()):
        if isinstance(value, list):
            cuttable.append(Cuttable(f"summary.{key}", ("summary", key), summary.pop(key)))
    for key, value in list(summary.items()):  # tables (latency by service, ...): rows cut last
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            cuttable.append(Cuttable(f"summary.{key}", ("summary", key), summary.pop(key), 3))
    for key, value in list(rest.items()):
        if isinstance(value, list):
            cuttable.append(Cuttable(key, (key,), rest.pop(key), 1))
    compact = [compact_insight(i, detailed=detailed) for i in insights]
    cuttable.append(Cuttable("insights", ("insights",), compact, 1))
    # raw lines go first, but the first few (the onset) outlast the supporting lists and the
    # weaker insights
    order = [("logs", FIRST_LINES)]
    order += [(c.name, c.keep_min) for c in cuttable if c.name.startswith("summary.")]
    order += [("insights", TOP_INSIGHTS), ("logs", 0), ("insights", 1)]

    def short_text() -> str:
        return _render("query", body, fmt, svc)

    window = meta.get("time_range")
    first_error = (body["summary"].get("first_error") or {}).get("timestamp")
    return Outcome(
        draft=Draft(
            text=text,
            core={"summary": summary, **rest, "metadata": shown_meta},
            cuttable=cuttable,
            short_text=short_text if query.verbosity is not Verbosity.MINIMAL else None,
            order=order,
        ),
        metadata=meta,
        window=window,
        narrower=narrower_window(window, first_error),
        pin=dict(window) if window else {},
    )


def _render(kind: str, body: dict[str, Any], fmt: str, svc: Services) -> str:
    from analyzer import narrate
    from analyzer.infra.privacy import mask_text

    text = narrate.render(
        kind,
        body,
        fmt=fmt,
        verbosity="minimal",
        grafana_url=svc.settings.grafana_url,
        loki_uid=svc.settings.grafana_loki_uid,
    )
    return mask_text(text)


def _query_tool(mode: Mode, title: str, description: str) -> ToolSpec:
    return ToolSpec(
        name=mode.value,
        title=title,
        description=description,
        params=Query,
        run=query_outcome,
        mode=mode,
    )


# ---- answers with a narrative: correlation, conversation, workspace ----


def _with_narrative(params: Any) -> Any:
    if params.format is OutputFormat.STRUCTURED:
        return params.model_copy(update={"format": OutputFormat.NARRATIVE})
    return params


def narrated_outcome(
    body: dict[str, Any], kind: str, params: Any, svc: Services, evidence: tuple[str, ...]
) -> Outcome:
    """Text = the narrative; lists = evidence, those named in `evidence` cut first."""
    fmt = params.format.value
    text = body.pop(fmt)
    body.pop("format", None)
    lists = {k: v for k, v in body.items() if isinstance(v, list)}
    core = {k: v for k, v in body.items() if k not in lists}
    order = [k for k in evidence if k in lists] + [k for k in lists if k not in evidence]
    cuttable = [
        Cuttable(key, (key,), [compact_line(i) if isinstance(i, dict) else i for i in lists[key]],
                 0 if key in evidence else 1)
        for key in order
    ]
    full = {**core, **lists}
    short = None
    if params.verbosity is not Verbosity.MINIMAL:
        def short() -> str:
            return _render(kind, full, fmt, svc)
    window = body.get("window") or (body.get("metadata") or {}).get("window")
    return Outcome(
        draft=Draft(text=text, core=core, cuttable=cuttable, short_text=short),
        window=window if isinstance(window, dict) else None,
    )


def correlate_outcome(svc: Services, tenant: str, params: CorrelateParams) -> Outcome:
    from analyzer.web.correlation_api import correlation_answer

    params = _with_narrative(params)
    body = correlation_answer(svc, params, tenant)
    return narrated_outcome(body, "correlation", params, svc, ("errors", "service_timeline"))


def conversation_outcome(svc: Services, tenant: str, params: ConversationToolParams) -> Outcome:
    from analyzer.web.conversation_api import conversation_answer

    params = _with_narrative(params)
    api_params = ConversationParams(**params.model_dump(exclude={"conversation_id"}))
    body = conversation_answer(svc, params.conversation_id, api_params, tenant)
    return narrated_outcome(
        body, "conversation", params, svc, ("related_logs", "timeline", "prompts", "responses")
    )


def workspace_outcome(svc: Services, tenant: str, params: WorkspaceToolParams) -> Outcome:
    from analyzer.web.conversation_api import workspace_answer

    params = _with_narrative(params)
    api_params = WorkspaceParams(**params.model_dump(exclude={"workspace_id"}))
    body = workspace_answer(svc, params.workspace_id, api_params, tenant)
    return narrated_outcome(body, "workspace", params, svc, ("top_error_patterns",))


# ---- patterns, templates, rules ----


def patterns_outcome(svc: Services, tenant: str, params: PatternListParams) -> Outcome:
    from analyzer.web.patterns_api import patterns_answer

    body = patterns_answer(svc, params, tenant)
    patterns = body.pop("patterns")
    lines = [f"{body['total']} patterns recorded for this tenant"
             + (f" (registry refreshed from the last {params.time_range})." if params.refresh
                else "; pass refresh=true to analyse a window first.")]
    for entry in patterns[:10]:
        lines.append(
            f"- [{entry['severity']}] {entry['pattern_type']}: {entry['occurrence_count']} lines in "
            f"{', '.join(entry['affected_services']) or 'no service'}, last {entry['last_seen']}"
            f" (id {entry['id']})" + (" resolved" if entry.get("resolved") else "")
        )
    if len(patterns) > 10:
        lines.append(f"- ... and {len(patterns) - 10} more on this page.")
    compact = [{**e, "sample_logs": [s[:SAMPLE_CHARS] for s in e.get("sample_logs", [])[:1]]}
               for e in patterns]
    return Outcome(
        draft=Draft(text="\n".join(lines), core=body,
                    cuttable=[Cuttable("patterns", ("patterns",), compact, 1)]),
    )



def templates_outcome(svc: Services, tenant: str, params: TemplatesParams) -> Outcome:
    """The pasted lines mined as `ai-logs templates` mines stdin: templates with counts."""
    from analyzer.analysis.templates import TemplateMiner

    lines = [line.removesuffix("\r") for line in params.lines.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > TEMPLATE_LINES_MAX:
        raise InvalidParameter(
            f"{len(lines)} lines is more than the {TEMPLATE_LINES_MAX} one call mines",
            code="INVALID_PARAMETER",
            suggestion="Send the lines in several calls, or run `ai-logs templates` on a file.",
            details={"parameter": "lines"},
        )
    mined = TemplateMiner().add_batch_lines(lines).splitlines()
    counts: Counter[str] = Counter()
    text_of: dict[str, str] = {}
    first_line: dict[str, str] = {}
    for line, row in zip(lines, mined, strict=True):
        template_id, _, template = row.partition("\t")
        counts[template_id] += 1
        text_of.setdefault(template_id, template)
        first_line.setdefault(template_id, line)
    templates = [
        {"id": tid, "template": text_of[tid], "count": n, "sample": first_line[tid][:SAMPLE_CHARS]}
        for tid, n in counts.most_common()
    ]
    text = [f"{len(lines)} lines, {len(templates)} templates, most frequent first:"]
    text += [f"- {t['count']}x {t['template'][:160]}" for t in templates[:10]]
    if len(templates) > 10:
        text.append(f"- ... and {len(templates) - 10} more.")
    return Outcome(
        draft=Draft(
            text="\n".join(text),
            core={"lines": len(lines), "template_count": len(templates)},
            cuttable=[Cuttable("templates", ("templates",), templates, 1)],
        )
    )


def rule_outcome(svc: Services, tenant: str, params: RuleToolParams) -> Outcome:
    from analyzer.web.patterns_api import pattern_entry, pattern_rule_yaml

    entry = pattern_entry(svc, params.pattern_id, tenant)
    api_params = RuleParams.model_validate(params.model_dump(by_alias=True, exclude={"pattern_id"}))
    text = pattern_rule_yaml(entry, api_params)
    return Outcome(
        draft=Draft(
            text=text,
            core={"pattern_id": entry.id, "pattern_type": entry.pattern_type, "yaml": text,
                  "path": f"ruler_rules/{tenant}/"},
        )
    )


# ---- alert analyses ----


def analysis_outcome(svc: Services, tenant: str, params: AnalysisParams) -> Outcome:
    from analyzer.web.analyses_api import analysis_answer

    record = analysis_answer(svc, params.analysis_id, tenant)
    return record_outcome(record)


def record_outcome(record: dict[str, Any]) -> Outcome:
    """A stored analysis: its narrative and summary kept, its lines and insights cut first.
    The report's chart data stays in the report (the `report` resource and /reports/<id>)."""
    result = dict(record.get("result") or {})
    alert = record.get("alert") or {}
    head = (
        f"Alert {alert.get('name', '?')} ({'resolved' if record.get('resolved') else 'firing'}"
        f" since {alert.get('starts_at', '?')}); analysis {record.get('id')} is {record.get('status')}."
    )
    if record.get("error"):
        head += f" Error: {record['error']}"
    text = head + ("\n\n" + record["narrative"] if record.get("narrative") else "")
    core = {k: v for k, v in record.items() if k not in ("result", "report", "narrative")}
    logs = [compact_line(line) for line in result.pop("logs", [])]
    insights = [compact_insight(i) for i in result.pop("insights", [])]
    core["result"] = {k: v for k, v in result.items() if k == "summary"}
    meta = result.get("metadata") or {}
    core["result"]["metadata"] = {k: v for k, v in meta.items() if k not in OPERATIONAL}
    core["report"] = f"ai-logs://analyses/{record.get('id')}/report"
    meta = result.get("metadata")
    narrative = str(record.get("narrative") or "")
    first_paragraph = narrative.split("\n\n")[0] if narrative else ""
    return Outcome(
        draft=Draft(
            text=text,
            core=core,
            cuttable=[
                Cuttable("logs", ("result", "logs"), logs),
                Cuttable("insights", ("result", "insights"), insights, 1),
            ],
            short_text=lambda: head + ("\n\n" + first_paragraph if first_paragraph else ""),
        ),
        metadata=meta,
        window=record.get("window"),
    )


def analyses_outcome(svc: Services, tenant: str, params: AnalysesParams) -> Outcome:
    from analyzer.web.analyses_api import analyses_answer

    body = analyses_answer(svc, params, tenant)
    items = body.pop("analyses")
    lines = [f"{body['count']} alert analyses, newest first:" if items else "No alert analyses."]
    for item in items[:20]:
        name = (item.get("alert") or {}).get("name", "?")
        first = (item.get("narrative") or item.get("error") or "").strip().splitlines()
        lines.append(f"- {item['id']} [{item['status']}] {name}: {first[0][:160] if first else ''}")
    return Outcome(
        draft=Draft(text="\n".join(lines), core=body,
                    cuttable=[Cuttable("analyses", ("analyses",), items, 1)]),
    )


# ---- what exists ----


def services_outcome(svc: Services, tenant: str, params: NoParams) -> Outcome:
    names = svc.source.services(tenant=tenant)
    return _values_outcome("services", names, f"{len(names)} services")


def label_values_outcome(svc: Services, tenant: str, params: LabelValuesParams) -> Outcome:
    from analyzer.web.datasource import tag_values_for

    values = tag_values_for(svc, params.key, tenant)
    return _values_outcome("values", values, f"{len(values)} values of {params.key}", key=params.key)


def _values_outcome(name: str, values: list[str], head: str, **core: Any) -> Outcome:
    shown = ", ".join(values[:50]) + (f", ... ({len(values) - 50} more)" if len(values) > 50 else "")
    return Outcome(
        draft=Draft(
            text=f"{head}: {shown}" if values else f"{head}.",
            core={**core, "count": len(values)},
            cuttable=[Cuttable(name, (name,), values, min(len(values), 20))],
        )
    )


TOOLS: tuple[ToolSpec, ...] = (
    _query_tool(
        Mode.TROUBLESHOOT,
        "Troubleshoot a window",
        "What went wrong in a window: incidents in time order, where each started, the root-cause"
        " service, evidence lines and next steps. Parameters as GET /api/v1/ai_logs/query.",
    ),
    _query_tool(
        Mode.ERRORS,
        "Errors in a window",
        "Error and fatal lines of a window: by service, by error type, the top errors, with"
        " evidence. Parameters as GET /api/v1/ai_logs/query.",
    ),
    _query_tool(
        Mode.PERFORMANCE,
        "Latency in a window",
        "p50/p95/p99/max by service and request type and the slowest operations of a window."
        " Parameters as GET /api/v1/ai_logs/query.",
    ),
    ToolSpec(
        "correlate_request",
        "Follow one request",
        "One correlation id across services: call graph, failing hop, critical path,"
        " bottlenecks. Parameters as GET /api/v1/ai_logs/correlate.",
        CorrelateParams,
        correlate_outcome,
    ),
    ToolSpec(
        "conversation",
        "One AI conversation",
        "One AI conversation: turns, tokens, cost, latency, errors; prompts masked."
        " Parameters as GET /api/v1/ai_logs/conversations/<conversation_id>.",
        ConversationToolParams,
        conversation_outcome,
    ),
    ToolSpec(
        "workspace_summary",
        "One workspace's AI usage",
        "A workspace's AI usage: requests, tokens, models, errors, busiest hours, cost by model."
        " Parameters as GET /api/v1/ai_logs/workspace/<workspace_id>/summary.",
        WorkspaceToolParams,
        workspace_outcome,
    ),
    ToolSpec(
        "patterns",
        "Detected patterns",
        "The tenant's detected patterns (named catalog patterns and novel messages) with counts,"
        " services and ids; refresh=true analyses time_range first. As GET /api/v1/ai_logs/patterns.",
        PatternListParams,
        patterns_outcome,
    ),
    ToolSpec(
        "templates",
        "Mine templates from pasted lines",
        "Group pasted log lines into templates with counts, most frequent first"
        " (what `ai-logs templates` does on stdin).",
        TemplatesParams,
        templates_outcome,
    ),
    ToolSpec(
        "get_alert_analysis",
        "One alert analysis",
        "A stored alert analysis: the alert, its narrative, summary, insights and evidence."
        " As GET /api/v1/ai_logs/analyses/<analysis_id>.",
        AnalysisParams,
        analysis_outcome,
    ),
    ToolSpec(
        "list_alert_analyses",
        "Alert analyses",
        "The tenant's alert analyses, newest first; status=failed lists dead-lettered jobs."
        " As GET /api/v1/ai_logs/analyses.",
        AnalysesParams,
        analyses_outcome,
    ),
    ToolSpec(
        "export_rule",
        "Loki ruler rule for a pattern",
        "A Loki ruler rule group (YAML) that alerts on a detected pattern's rate."
        " As GET /api/v1/ai_logs/patterns/<pattern_id>/rule.",
        RuleToolParams,
        rule_outcome,
    ),
    ToolSpec(
        "services",
        "Services",
        "The services that have logs (Loki's `service` label values).",
        NoParams,
        services_outcome,
    ),
    ToolSpec(
        "label_values",
        "Values of a filter key",
        "The values of service, level, workspace_id or model (as POST /grafana/tag-values).",
        LabelValuesParams,
        label_values_outcome,
    ),
)
