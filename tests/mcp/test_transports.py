"""Every tool, through the SDK's client over stdio and over HTTP, on the bundled sample and on
a demo window, answers what the HTTP API answers to the same question."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from analyzer.mcp.budget import compact_json, count_tokens
from analyzer.mcp.tools import TOOLS
from tests.conftest import Demo
from tests.mcp.conftest import (
    AI_LOGS,
    SAMPLE,
    SAMPLE_QUESTIONS,
    analyse_alert,
    demo_questions,
    http_session,
    make_stack,
    run_session,
    stdio_session,
    transcript_of,
)

Transcript = tuple[dict[str, Any], Any, dict[str, dict[str, Any]]]


@pytest.fixture(scope="module", params=["stdio-sample", "http-sample", "stdio-demo", "http-demo"])
def transcript(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo: Demo, serve: Any
) -> Transcript:
    """(answers, stack, questions): one MCP session, and the analyzer that serves its HTTP API."""
    transport, logs = request.param.split("-")
    tmp = tmp_path_factory.mktemp(request.param)
    source = SAMPLE if logs == "sample" else demo.path
    questions = SAMPLE_QUESTIONS if logs == "sample" else demo_questions(demo)
    stack = make_stack(tmp, source, with_keys=transport == "http")
    analyse_alert(stack, stack.keys.get("hook-a"))
    if transport == "stdio":
        answers = run_session(stdio_session(source, tmp / "var"), transcript_of(questions))
    else:
        url = serve(stack).url
        answers = run_session(http_session(url, stack.keys["a"]), transcript_of(questions))
    return answers, stack, questions


def text_of(result: Any) -> str:
    return result.content[0].text


def conclusion_of(result: Any) -> str:
    """The text without the truncation note the MCP answer adds."""
    text = text_of(result)
    return text.split("\n\n[Shown", 1)[0].split("\n\n[The ", 1)[0].split("\n\n[More:", 1)[0]


def is_prefix(shown: Any, full: Any) -> bool:
    """The MCP answer's value is the API's, or its first items (rows) when the budget cut it."""
    if isinstance(full, list):
        return shown == full[: len(shown)]
    if isinstance(full, dict) and isinstance(shown, dict) and shown != full:
        return list(shown) == list(full)[: len(shown)] and all(full[k] == v for k, v in shown.items())
    return shown == full


def rules_of(text: str) -> list[tuple[str, str, dict[str, str]]]:
    group = yaml.safe_load(text)
    return [(r["alert"], r["for"], r["labels"]) for r in group["rules"]]


def api_key(stack: Any) -> str | None:
    return stack.keys.get("a")


def test_every_tool_is_listed_with_the_api_parameters(transcript: Transcript) -> None:
    answers, _, _ = transcript
    listed = {tool.name: tool for tool in answers["tools"].tools}
    assert set(listed) == {spec.name for spec in TOOLS}
    schema = listed["troubleshoot"].input_schema["properties"]
    assert {"time_range", "services", "severity_threshold", "max_tokens", "cursor"} <= set(schema)
    assert "mode" not in schema
    assert "conversation_id" in listed["conversation"].input_schema["required"]


def test_every_tool_answers_without_error(transcript: Transcript) -> None:
    answers, _, questions = transcript
    for name in [*questions, "export_rule", "get_alert_analysis"]:
        assert not answers[name].is_error, (name, text_of(answers[name]))
        assert answers[name].structured_content["truncation"]["answer_tokens"] <= 1800, name


@pytest.mark.parametrize("mode", ["troubleshoot", "errors", "performance"])
def test_query_tools_answer_as_the_query_endpoint(transcript: Transcript, mode: str) -> None:
    answers, stack, questions = transcript
    answer = answers[mode]
    shown = answer.structured_content
    verbosity = "minimal" if shown["truncation"].get("conclusion") == "minimal" else "standard"
    api = stack.api("/api/v1/ai_logs/query", api_key(stack), mode=mode, format="narrative",
                    verbosity=verbosity, **questions[mode])
    assert conclusion_of(answer) == api["narrative"]
    for key, value in shown["summary"].items():
        assert is_prefix(value, api["summary"][key]), key
    assert shown["logs"] == api["logs"][: len(shown["logs"])]
    titles = [i["title"] for i in api["insights"]]
    assert [i["title"] for i in shown["insights"]] == titles[: len(shown["insights"])]
    truncation = shown["truncation"]
    assert truncation["lines_in_window"] == api["metadata"]["total_logs"]
    assert truncation["lines_answered"] == api["metadata"]["returned_logs"]
    assert truncation["returned"]["logs"] + truncation["cut"].get("logs", 0) == len(api["logs"])
    assert truncation["window"] == api["metadata"]["time_range"]


def test_correlation_answers_as_the_correlate_endpoint(transcript: Transcript) -> None:
    answers, stack, questions = transcript
    shown = answers["correlate_request"].structured_content
    api = stack.api("/api/v1/ai_logs/correlate", api_key(stack), format="narrative",
                    **questions["correlate_request"])
    assert conclusion_of(answers["correlate_request"]) == api["narrative"]
    for key in ("correlation_id", "failing_hop", "request_flow", "total_duration_ms"):
        assert shown[key] == api[key]
    assert shown["errors"] == api["errors"][: len(shown["errors"])]


def test_conversation_answers_as_the_conversation_endpoint(transcript: Transcript) -> None:
    answers, stack, questions = transcript
    question = dict(questions["conversation"])
    conversation_id = question.pop("conversation_id")
    shown = answers["conversation"].structured_content
    api = stack.api(f"/api/v1/ai_logs/conversations/{conversation_id}", api_key(stack),
                    format="narrative", **question)
    assert conclusion_of(answers["conversation"]) == api["narrative"]
    assert shown["metadata"] == api["metadata"]
    assert shown["metrics"] == api["metrics"]
    assert shown["timeline"] == api["timeline"][: len(shown["timeline"])]


def test_workspace_answers_as_the_workspace_endpoint(transcript: Transcript) -> None:
    answers, stack, questions = transcript
    workspace_id = questions["workspace_summary"]["workspace_id"]
    shown = answers["workspace_summary"].structured_content
    api = stack.api(f"/api/v1/ai_logs/workspace/{workspace_id}/summary", api_key(stack),
                    format="narrative")
    assert conclusion_of(answers["workspace_summary"]) == api["narrative"]
    for key in ("total_requests", "total_tokens", "error_count", "models_used", "cost_breakdown"):
        assert shown[key] == api[key]


def test_patterns_and_rule_answer_as_the_registry_endpoints(transcript: Transcript) -> None:
    answers, stack, _ = transcript
    shown = answers["patterns"].structured_content
    api = stack.api("/api/v1/ai_logs/patterns", api_key(stack))  # the MCP call refreshed it
    assert shown["total"] == api["total"] > 0
    assert [p["id"] for p in shown["patterns"]] == [p["id"] for p in api["patterns"]][
        : len(shown["patterns"])
    ]
    rule = stack.api(f"/api/v1/ai_logs/patterns/{answers['export_rule_id']}/rule", api_key(stack))
    assert text_of(answers["export_rule"]) == answers["export_rule"].structured_content["yaml"]
    # the entry's counts and services grow with every analysis since (the API's calls here too)
    assert rules_of(text_of(answers["export_rule"])) == rules_of(rule)


def test_alert_analyses_answer_as_the_analyses_endpoints(transcript: Transcript) -> None:
    answers, stack, _ = transcript
    listed = answers["list_alert_analyses"].structured_content
    api = stack.api("/api/v1/ai_logs/analyses", api_key(stack))
    assert listed["count"] == api["count"] == 1
    assert listed["analyses"] == api["analyses"]
    one = answers["get_alert_analysis"].structured_content
    record = stack.api(f"/api/v1/ai_logs/analyses/{one['id']}", api_key(stack))
    assert one["status"] == record["status"] == "done"
    assert one["alert"] == record["alert"]
    assert one["result"]["summary"] == record["result"]["summary"]
    shown = text_of(answers["get_alert_analysis"])
    if one["truncation"].get("conclusion") == "minimal":  # the budget kept its first paragraph
        assert record["narrative"].split("\n\n")[0] in shown
    else:
        assert record["narrative"] in shown


def test_templates_mine_as_the_templates_command(transcript: Transcript) -> None:
    answers, _, questions = transcript
    lines = questions["templates"]["lines"]
    mined = subprocess.run([str(AI_LOGS), "templates"], input=lines, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    expected = Counter(row.split("\t", 1)[1] for row in mined)
    shown = answers["templates"].structured_content
    assert shown["lines"] == len(mined)
    assert {t["template"]: t["count"] for t in shown["templates"]} == dict(expected)


def test_what_exists_answers_as_the_datasource(transcript: Transcript) -> None:
    answers, stack, _ = transcript
    headers = {"X-API-Key": stack.keys["a"]} if stack.keys else {}
    client = stack.app.test_client()
    services = client.post("/grafana/variable", json={"payload": {"target": "services"}},
                           headers=headers).get_json()
    assert answers["services"].structured_content["services"] == [s["__value"] for s in services]
    models = client.post("/grafana/tag-values", json={"key": "model"}, headers=headers).get_json()
    assert answers["label_values"].structured_content["values"] == [m["text"] for m in models]


def test_answers_carry_their_token_count(transcript: Transcript) -> None:
    answers, _, _ = transcript
    answer = answers["troubleshoot"]
    size = count_tokens(text_of(answer)) + count_tokens(compact_json(answer.structured_content))
    assert abs(size - answer.structured_content["truncation"]["answer_tokens"]) <= 4


def test_bad_arguments_are_tool_errors_with_our_code(tmp_path: Path, serve: Any) -> None:
    stack = make_stack(tmp_path, SAMPLE, with_keys=True)
    url = serve(stack).url
    bad = {
        "troubleshoot": ({"time_range": "2 hours"}, "INVALID_PARAMETER"),
        "errors": ({"verbose": True}, "UNKNOWN_PARAMETER"),
        "performance": ({"mode": "errors"}, "UNKNOWN_PARAMETER"),
        "conversation": ({}, "INVALID_PARAMETER"),
        "correlate_request": ({"correlation_id": "req-nowhere"}, "CORRELATION_NOT_FOUND"),
        "export_rule": ({"pattern_id": "not-hex"}, "INVALID_PATTERN_ID"),
        "label_values": ({"key": "hostname"}, "UNKNOWN_FILTER_KEY"),
        "get_alert_analysis": ({"analysis_id": "an_missing"}, "NOT_FOUND"),
        "templates": ({"lines": "x", "max_tokens": 10}, "INVALID_PARAMETER"),
        "list_alert_analyses": ({"cursor": "not-a-cursor"}, "INVALID_CURSOR"),
    }

    async def scenario(client: Any) -> dict[str, Any]:
        out = {name: await client.call_tool(name, args) for name, (args, _) in bad.items()}
        out["missing"] = await client.call_tool("no_such_tool", {})
        return out

    answers = run_session(http_session(url, stack.keys["a"]), scenario)
    for name, (_, code) in bad.items():
        assert answers[name].is_error, name
        error = answers[name].structured_content["error"]
        assert error["code"] == code, (name, error)
        assert error["suggestion"]
        assert text_of(answers[name]).startswith(f"error [{code}]")
    assert answers["missing"].structured_content["error"]["code"] == "UNKNOWN_TOOL"
