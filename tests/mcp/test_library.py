"""Resources (an alert analysis's report, the pattern catalog) and prompts, read through the
SDK's client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from analyzer.analysis.catalog import load_catalog
from analyzer.mcp.server import CALLER, Caller, build_server
from tests.mcp.conftest import SAMPLE, analyse_alert, make_stack


def session(tmp_path: Path, calls: Any) -> tuple[Any, str]:
    stack = make_stack(tmp_path, SAMPLE, with_keys=False)
    analysis_id = analyse_alert(stack)
    server = build_server(stack.app.extensions["ai_logs"])

    async def main() -> Any:
        CALLER.set(Caller(stack.settings.default_tenant))
        async with Client(server) as client:
            return await calls(client, analysis_id)

    return anyio.run(main), analysis_id


def test_the_catalog_resource_is_the_named_pattern_catalog(tmp_path: Path) -> None:
    async def calls(client: Any, _: str) -> Any:
        return await client.read_resource("ai-logs://patterns/catalog")

    answer, _ = session(tmp_path, calls)
    assert json.loads(answer.contents[0].text) == [p.to_dict() for p in load_catalog()]


def test_the_report_resource_tells_the_alert_and_its_verdict(tmp_path: Path) -> None:
    async def calls(client: Any, analysis_id: str) -> Any:
        listed = await client.list_resource_templates()
        report = await client.read_resource(f"ai-logs://analyses/{analysis_id}/report")
        return listed, report

    (listed, report), _ = session(tmp_path, calls)
    assert listed.resource_templates[0].uri_template == "ai-logs://analyses/{analysis_id}/report"
    text = report.contents[0].text
    assert text.startswith("# Alert ")
    assert "**Verdict:** redis is the likely root cause" in text
    assert "## Narrative" in text and "## Insights" in text


def test_investigate_alert_prompt_embeds_the_report(tmp_path: Path) -> None:
    async def calls(client: Any, analysis_id: str) -> Any:
        return await client.get_prompt("investigate_alert", {"analysis_id": analysis_id})

    prompt, analysis_id = session(tmp_path, calls)
    steps, report = prompt.messages
    assert f"get_alert_analysis with analysis_id={analysis_id}" in steps.content.text
    assert report.content.resource.text.startswith("# Alert ")


def test_what_changed_prompt_names_both_windows(tmp_path: Path) -> None:
    async def calls(client: Any, _: str) -> Any:
        return await client.get_prompt("what_changed", {"time_range": "30m", "services": "api"})

    prompt, _ = session(tmp_path, calls)
    text = prompt.messages[0].content.text
    assert "start=2026-11-24T09:29:57.045739Z end=2026-11-24T09:59:57.045739Z" in text
    assert "start=2026-11-24T08:59:57.045739Z end=2026-11-24T09:29:57.045739Z" in text
    assert 'services="api"' in text
