"""The token budget: a documented counting rule, evidence cut before the conclusion, truncation
metadata that says what was cut, and a cursor that pages through the rest without repeats."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.mcp.answers import Outcome, truncation
from analyzer.mcp.budget import Cuttable, Draft, compact_json, count_tokens, fit
from analyzer.mcp.server import CALLER, Caller, build_server
from analyzer.services import build_services
from tests.conftest import Demo


def test_the_token_rule_counts_word_pieces() -> None:
    assert count_tokens("hello world") == 2
    assert count_tokens("internationalization") == 3  # letters in runs of up to 8
    assert count_tokens("1234567") == 3  # digits in runs of up to 3
    assert count_tokens('{"a":1}') == 5  # {" a ": 1 }
    assert count_tokens("") == 0


def _finish(text: str, structured: dict[str, Any], kept: dict[str, int], short: bool) -> Any:
    return text, structured


def test_evidence_is_cut_before_the_conclusion() -> None:
    draft = Draft(
        text="conclusion " * 50,
        core={"summary": {"errors": 3}},
        cuttable=[Cuttable("logs", ("logs",), [f"line {i} " * 10 for i in range(100)])],
    )
    fitted = fit(draft, 300, _finish)
    assert fitted.text == draft.text
    assert fitted.structured["summary"] == {"errors": 3}
    assert 0 < fitted.kept["logs"] < 100
    assert fitted.tokens <= 300
    assert fitted.structured["logs"] == draft.cuttable[0].items[: fitted.kept["logs"]]


def test_the_minimal_conclusion_replaces_one_that_does_not_fit() -> None:
    draft = Draft(text="long " * 500, core={}, short_text=lambda: "short")
    fitted = fit(draft, 100, _finish)
    assert fitted.text == "short" and fitted.short and not fitted.over_budget


def test_a_conclusion_larger_than_the_budget_is_kept_and_flagged() -> None:
    draft = Draft(text="long " * 500, core={}, cuttable=[Cuttable("logs", ("logs",), ["x"] * 9)])
    fitted = fit(draft, 100, _finish)
    assert fitted.text == draft.text
    assert fitted.over_budget and fitted.kept["logs"] == 0


def test_coverage_of_the_source_is_passed_through() -> None:
    coverage = {"lines_in_window": 1000000, "lines_read": 40000, "exact": False}
    outcome = Outcome(
        draft=Draft(text="", core={}),
        metadata={"total_logs": 1000000, "returned_logs": 5, "truncated": True, "coverage": coverage},
    )
    block = truncation(outcome, {"logs": 5}, {"logs": 40}, offset=0, short=False,
                       max_tokens=1800, next_cursor="c")
    assert block["coverage"] == {"lines_read": 40000, "exact": False}
    assert block["lines_in_window"] == 1000000
    assert block["source_truncated"] is True
    assert block["cut"] == {"logs": 35}


def in_process(source: Path, tmp: Path, calls: Any) -> Any:
    """The SDK's own client connected to the server in this process."""
    settings = Settings(source_path=str(source), data_dir=str(tmp / "var"))
    server = build_server(build_services(settings))

    async def main() -> Any:
        CALLER.set(Caller("fake"))
        async with Client(server) as client:
            return await calls(client)

    return anyio.run(main)


@pytest.mark.parametrize("logs", ["sample", "demo"])
def test_the_default_troubleshoot_answer_stays_under_2000_tokens(
    logs: str, demo: Demo, tmp_path: Path
) -> None:
    source = SAMPLE_LOGS_DIR if logs == "sample" else demo.path

    async def calls(client: Any) -> Any:
        return await client.call_tool("troubleshoot", {"time_range": "6h"})

    answer = in_process(source, tmp_path, calls)
    size = count_tokens(answer.content[0].text) + count_tokens(
        compact_json(answer.structured_content)
    )
    assert size < 2000
    assert answer.structured_content["truncation"]["lines_in_window"] > 1000


def test_a_cursor_pages_through_all_the_evidence_once(tmp_path: Path) -> None:
    async def calls(client: Any) -> Any:
        first = await client.call_tool("errors", {"time_range": "2h"})
        pages = [first]
        cursor = first.structured_content["truncation"].get("next_cursor")
        while cursor:
            page = await client.call_tool("errors", {"cursor": cursor, "max_tokens": 20000})
            pages.append(page)
            cursor = page.structured_content["truncation"].get("next_cursor")
            assert len(pages) < 20
        return pages

    pages = in_process(SAMPLE_LOGS_DIR, tmp_path, calls)
    seen = [line for page in pages for line in page.structured_content["logs"]]
    window = pages[0].structured_content["truncation"]
    from analyzer.model import Query
    from analyzer.querying import respond

    settings = Settings(source_path=str(SAMPLE_LOGS_DIR), data_dir=str(tmp_path / "var"))
    api = respond(build_services(settings),
                  Query(mode="errors", start=window["window"]["start"], end=window["window"]["end"]),
                  tenant="fake")  # fmt: skip
    assert seen == api["logs"]
    assert len(pages) > 2
    for before, after in pairwise(pages):
        shown = before.structured_content["truncation"]
        assert after.structured_content["truncation"]["offset"] == (
            shown["offset"] + shown["returned"]["logs"]
        )


def test_a_page_carries_only_evidence(tmp_path: Path) -> None:
    async def calls(client: Any) -> Any:
        first = await client.call_tool("troubleshoot", {"time_range": "2h"})
        cursor = first.structured_content["truncation"]["next_cursor"]
        return await client.call_tool("troubleshoot", {"cursor": cursor, "max_tokens": 600})

    page = in_process(SAMPLE_LOGS_DIR, tmp_path, calls)
    assert set(page.structured_content) == {"metadata", "logs", "truncation"}
    assert page.structured_content["logs"]
    assert page.structured_content["truncation"]["answer_tokens"] <= 600


def test_a_cursor_refuses_other_arguments(tmp_path: Path) -> None:
    async def calls(client: Any) -> Any:
        first = await client.call_tool("errors", {"time_range": "2h"})
        cursor = first.structured_content["truncation"]["next_cursor"]
        return (
            await client.call_tool("errors", {"cursor": cursor, "time_range": "1h"}),
            await client.call_tool("troubleshoot", {"cursor": cursor}),
        )

    mixed, other_tool = in_process(SAMPLE_LOGS_DIR, tmp_path, calls)
    assert mixed.structured_content["error"]["code"] == "INVALID_CURSOR"
    assert other_tool.structured_content["error"]["code"] == "INVALID_CURSOR"
