"""`ai-logs correlate|conversation|workspace` over the generated files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analyzer.cli import main


def test_correlate_prints_hops_in_order_with_the_failing_hop_marked(
    demo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    request = next(r for r in demo.truth["requests"] if r["failed_hop"] == "redis")
    code = main(["correlate", request["correlation_id"], "--source", str(demo.path)])
    out = capsys.readouterr().out
    assert code == 1
    hop_lines = [line for line in out.splitlines() if " ms  (" in line]
    assert [line.split()[4] for line in hop_lines] == request["hops"]
    marked = [line for line in hop_lines if line.strip().startswith("✗")]
    assert len(marked) == 1 and "redis" in marked[0]
    assert "critical path: browser" in out


def test_correlate_json_is_the_api_body(demo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    request = next(r for r in demo.truth["requests"] if r["slow_hop"] == "anythingllm")
    assert main(["correlate", request["correlation_id"], "--source", str(demo.path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert "anythingllm" in [p["service"] for p in body["critical_path"]]


def test_unknown_id_exits_with_an_error(demo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["correlate", "req-nothing", "--source", str(demo.path)]) == 2
    assert "NOT_FOUND" in capsys.readouterr().err


def test_conversation_and_workspace_commands(demo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    truth = demo.truth["conversations"][0]
    assert (
        main(["conversation", truth["conversation_id"], "--source", str(demo.path), "--json"]) == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert body["metrics"]["total_tokens"] == truth["tokens_used"]
    assert main(["workspace", truth["workspace_id"], "--source", str(demo.path)]) == 0
    assert f"Workspace {truth['workspace_id']}" in capsys.readouterr().out
