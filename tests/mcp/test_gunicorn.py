"""POST /mcp under gunicorn as deployed (gthread, several workers): a session's requests land
on different workers and every one is answered, because nothing is kept between requests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.config import SAMPLE_LOGS_DIR
from analyzer.infra.keys import KeyStore
from analyzer.model import Query
from analyzer.sources.files import FileSource
from tests.conftest import ROOT
from tests.mcp.conftest import http_session, run_session

sys.path.insert(0, str(ROOT / "bench"))
from gunicorn_process import start_gunicorn


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, str]]:
    key = KeyStore(str(tmp_path / "keys.yaml")).add("agent", ["team-a"], ["query"])
    url, proc = start_gunicorn(
        {
            "AI_LOGS_SOURCE": str(SAMPLE_LOGS_DIR),
            "AI_LOGS_DATA_DIR": str(tmp_path / "var"),
            "AI_LOGS_API_KEYS_FILE": str(tmp_path / "keys.yaml"),
        },
        workers=2,
        threads=2,
    )
    yield url, key
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_session_is_served_across_gunicorn_workers(gunicorn: tuple[str, str], mode: str) -> None:
    url, key = gunicorn

    async def scenario(client: Any) -> list[Any]:
        answers = [await client.list_tools()]
        for _ in range(3):
            answers.append(await client.call_tool("troubleshoot", {"time_range": "2h"}))
        answers.append(await client.call_tool("services", {}))
        return answers

    tools, *calls, services = run_session(http_session(url, key, mode=mode), scenario)
    in_window = len(FileSource(str(SAMPLE_LOGS_DIR)).fetch(Query(time_range="2h")).records)
    assert len(tools.tools) == 13
    for answer in calls:
        assert not answer.is_error
        assert answer.structured_content["truncation"]["lines_in_window"] == in_window
    assert services.structured_content["count"] == 6
