"""MCP resources (an alert analysis's report, the named pattern catalog) and prompts
("investigate this alert", "what changed in the last hour").

Resources are read with the caller's tenant like every API read: another tenant's analysis is
"not found". A failure is a JSON-RPC error whose `data` is our `{code, message, suggestion}`.
"""

from __future__ import annotations

import json
import re

import mcp_types as types
from mcp.shared.exceptions import MCPError

from analyzer.errors import AnalyzerError, InvalidParameter, NotFound
from analyzer.model import DURATION_PATTERN, NS_PER_SECOND, format_timestamp, parse_duration
from analyzer.services import Services

CATALOG_URI = "ai-logs://patterns/catalog"
REPORT_TEMPLATE = "ai-logs://analyses/{analysis_id}/report"
_REPORT_URI = re.compile(r"ai-logs://analyses/([^/]{1,64})/report")
LISTED_REPORTS = 20
REPORT_INSIGHTS = 10


def protocol_error(exc: AnalyzerError) -> MCPError:
    return MCPError(
        code=types.INVALID_PARAMS,
        message=f"{exc.code}: {exc.message}",
        data=exc.to_dict()["error"],
    )


def resources(services: Services, tenant: str) -> list[types.Resource]:
    """The catalog, and the reports of the tenant's newest finished analyses."""
    from analyzer.web.analyses_api import AnalysesParams, analyses_answer

    found = [
        types.Resource(
            uri=CATALOG_URI,
            name="pattern-catalog",
            title="Named failure patterns",
            description="The catalog of named failure patterns: regex, severity, blame, suggestion.",
            mime_type="application/json",
        )
    ]
    listed = analyses_answer(services, AnalysesParams(status="done", limit=LISTED_REPORTS), tenant)
    for item in listed["analyses"]:
        name = (item.get("alert") or {}).get("name", "alert")
        found.append(
            types.Resource(
                uri=REPORT_TEMPLATE.format(analysis_id=item["id"]),
                name=f"report-{item['id']}",
                title=f"Alert analysis: {name}",
                description=(item.get("narrative") or "").strip().split("\n")[0][:200] or None,
                mime_type="text/markdown",
            )
        )
    return found


def resource_templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=REPORT_TEMPLATE,
            name="alert-analysis-report",
            title="Report of an alert analysis",
            description="The alert, the verdict, the narrative, ranked insights and affected"
            " services of one alert analysis (ids from list_alert_analyses).",
            mime_type="text/markdown",
        )
    ]


def read(services: Services, tenant: str, uri: str) -> types.TextResourceContents:
    try:
        if uri == CATALOG_URI:
            return types.TextResourceContents(
                uri=uri, mime_type="application/json", text=catalog_json(services)
            )
        match = _REPORT_URI.fullmatch(uri)
        if match is None:
            raise NotFound(
                f"no resource at {uri[:200]!r}",
                code="RESOURCE_NOT_FOUND",
                suggestion=f"List resources; reports are {REPORT_TEMPLATE}, the catalog {CATALOG_URI}.",
            )
        return types.TextResourceContents(
            uri=uri, mime_type="text/markdown", text=report(services, tenant, match.group(1))
        )
    except AnalyzerError as exc:
        raise protocol_error(exc) from None


def catalog_json(services: Services) -> str:
    from analyzer.analysis.catalog import load_catalog

    rows = [p.to_dict() for p in load_catalog(services.settings.patterns_file)]
    return json.dumps(rows, indent=1, ensure_ascii=False)


def report(services: Services, tenant: str, analysis_id: str) -> str:
    """The report page's content as Markdown: alert, verdict, narrative, insights, services."""
    from analyzer import narrate
    from analyzer.infra.privacy import mask_text
    from analyzer.web.analyses_api import analysis_answer
    from analyzer.web.reports import span_text, verdict

    record = analysis_answer(services, analysis_id, tenant)
    alert = record.get("alert") or {}
    result = record.get("result") or {}
    window = record.get("window") or {}
    state = "resolved" if record.get("resolved") else "firing"
    lines = [
        f"# Alert {alert.get('name', '?')} ({state})",
        "",
        f"Analysis `{record.get('id')}` is {record.get('status')}; the alert started"
        f" {alert.get('starts_at', '?')}" + (f" and ended {record['ends_at']}" if record.get("ends_at") else "")
        + f". Window analysed: {span_text(window.get('start'), window.get('end'))}.",
    ]
    if record.get("error"):
        lines += ["", f"The analysis failed: {record['error']}"]
    top = verdict(result.get("insights") or [])
    if top:
        lines += ["", f"**Verdict:** {top['text']} (confidence {top.get('confidence')})"]
    if result:
        text = narrate.render("query", result, fmt="narrative", verbosity="standard",
                              grafana_url=services.settings.grafana_url,
                              loki_uid=services.settings.grafana_loki_uid)
        lines += ["", "## Narrative", "", text.strip()]
    elif record.get("narrative"):
        lines += ["", "## Narrative", "", str(record["narrative"]).strip()]
    insights = (result.get("insights") or [])[:REPORT_INSIGHTS]
    if insights:
        lines += ["", "## Insights", ""]
        for n, insight in enumerate(insights, 1):
            ev = insight.get("evidence") or {}
            lines.append(
                f"{n}. [{insight.get('severity')}] {insight.get('title')}: {ev.get('count')} lines,"
                f" {ev.get('first_seen')} to {ev.get('last_seen')},"
                f" in {', '.join(ev.get('services') or [])}. {insight.get('suggestion') or ''}".rstrip()
            )
    affected = (result.get("summary") or {}).get("affected_services") or []
    if affected:
        lines += ["", "## Services with errors, in order of their first error", ""]
        lines += [f"- {a['service']}: {a['errors']} errors from {a['first_error']}" for a in affected]
    if record.get("report_url"):
        lines += ["", f"Report page: {record['report_url']}"]
    return mask_text("\n".join(lines) + "\n")


# ---- prompts ----


def prompts() -> list[types.Prompt]:
    return [
        types.Prompt(
            name="investigate_alert",
            title="Investigate this alert",
            description="Read an alert analysis's report and follow its evidence to a root cause.",
            arguments=[types.PromptArgument(name="analysis_id", required=True,
                                            description="From list_alert_analyses.")],
        ),
        types.Prompt(
            name="what_changed",
            title="What changed in the last hour",
            description="Compare the last window with the one before it: new incidents, new"
            " messages, bursts, services whose errors grew.",
            arguments=[
                types.PromptArgument(name="time_range", required=False,
                                     description="The window to compare, e.g. 1h (default)."),
                types.PromptArgument(name="services", required=False,
                                     description="Comma-separated services; all when empty."),
            ],
        ),
    ]


def prompt(services: Services, tenant: str, name: str, arguments: dict[str, str]) -> types.GetPromptResult:
    try:
        if name == "investigate_alert":
            return _investigate(services, tenant, arguments)
        if name == "what_changed":
            return _what_changed(services, arguments)
        raise NotFound(
            f"no prompt named {name!r}",
            code="PROMPT_NOT_FOUND",
            suggestion="List the prompts: investigate_alert, what_changed.",
        )
    except AnalyzerError as exc:
        raise protocol_error(exc) from None


def _investigate(services: Services, tenant: str, arguments: dict[str, str]) -> types.GetPromptResult:
    analysis_id = str(arguments.get("analysis_id") or "").strip()
    if not analysis_id:
        raise InvalidParameter(
            "the prompt needs an analysis_id",
            suggestion="Pick one with list_alert_analyses.",
            details={"parameter": "analysis_id"},
        )
    text = report(services, tenant, analysis_id)
    uri = REPORT_TEMPLATE.format(analysis_id=analysis_id)
    steps = (
        f"Investigate the alert analysed in {uri} (its report follows).\n"
        "1. Read the verdict and the narrative: which service failed first, and how it spread.\n"
        f"2. Call get_alert_analysis with analysis_id={analysis_id} for the evidence lines.\n"
        "3. Call troubleshoot with the report's window as start and end (all services) to see"
        " what else happened then; errors or performance if the verdict points there.\n"
        "4. If a failing request's correlation id appears, call correlate_request with it.\n"
        "5. Answer with the root cause, the evidence (counts, times, sample lines) and the next"
        " step; say what the analysis could not see (truncation metadata)."
    )
    return types.GetPromptResult(
        description="Investigate this alert",
        messages=[
            types.PromptMessage(role="user", content=types.TextContent(type="text", text=steps)),
            types.PromptMessage(
                role="user",
                content=types.EmbeddedResource(
                    type="resource",
                    resource=types.TextResourceContents(uri=uri, mime_type="text/markdown", text=text),
                ),
            ),
        ],
    )


def _what_changed(services: Services, arguments: dict[str, str]) -> types.GetPromptResult:
    time_range = str(arguments.get("time_range") or "1h").strip()
    if not re.fullmatch(DURATION_PATTERN, time_range):
        raise InvalidParameter(
            f"invalid value for 'time_range': {time_range!r}",
            suggestion="A duration like 30m, 1h or 6h.",
            details={"parameter": "time_range"},
        )
    chosen = ",".join(s.strip() for s in str(arguments.get("services") or "").split(",") if s.strip())
    span = parse_duration(time_range) * NS_PER_SECOND
    end = services.source.now_ns()
    now_start, before_start = format_timestamp(end - span), format_timestamp(end - 2 * span)
    now_end, before_end = format_timestamp(end), format_timestamp(end - span)
    scope = f' with services="{chosen}"' if chosen else ""
    text = (
        f"What changed in the last {time_range} ({now_start} to {now_end}) compared with the"
        f" {time_range} before it ({before_start} to {before_end})?\n"
        f"1. Call troubleshoot with start={now_start} end={now_end}{scope}.\n"
        f"2. Call troubleshoot with start={before_start} end={before_end}{scope}.\n"
        f"3. Call patterns with refresh=true time_range={time_range}: novel messages (new since"
        " the first half of the window) and bursts are changes by definition.\n"
        "4. Compare: incidents that are new, errors by service that grew or stopped, new"
        " templates, the root-cause service if one is named.\n"
        "5. Answer with each change, its count and time, and what to look at first; say when a"
        " window was truncated (truncation metadata)."
    )
    return types.GetPromptResult(
        description="What changed",
        messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))],
    )
