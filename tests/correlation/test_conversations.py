"""Conversation accounting checked against sums done by hand on the generated lines."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from analyzer.analysis.conversations import conversation_report, usage_series
from analyzer.analysis.pricing import cost, load_prices
from analyzer.analysis.statistics import percentile
from analyzer.analysis.workspace import workspace_summary
from analyzer.infra.privacy import mask
from analyzer.model import NS_PER_SECOND, instant_ns

# list prices typed from the providers' pages, USD per 1k tokens (input, output)
RATES = {
    "gpt-4o": (0.0025, 0.01),
    "gpt-4o-mini": (0.00015, 0.0006),
    "claude-3-5-sonnet": (0.003, 0.015),
}


def by_hand(demo: Any, conversation_id: str) -> dict[str, Any]:
    """Per request (correlation id): tokens from the line reporting them, the longest reported
    duration, failed if any line is an error or says success=false."""
    requests: dict[str, list[dict[str, Any]]] = {}
    for line in demo.lines:
        if line.get("conversation_id") == conversation_id:
            requests.setdefault(line["correlation_id"], []).append(line)
    tokens = prompt = completion = failed = 0
    money = 0.0
    durations = []
    for lines in requests.values():
        usage = [x for x in lines if "tokens_used" in x]
        if usage:
            best = max(usage, key=lambda x: x["tokens_used"])
            tokens += best["tokens_used"]
            prompt += best["prompt_tokens"]
            completion += best["completion_tokens"]
            rate_in, rate_out = RATES[best["model"]]
            money += (
                best["prompt_tokens"] / 1000 * rate_in + best["completion_tokens"] / 1000 * rate_out
            )
        failed += any(x["level"] == "error" or x.get("success") is False for x in lines)
        reported = [x["duration"] for x in lines if "duration" in x]
        if reported:
            durations.append(max(reported))
    durations.sort()
    return {
        "requests": len(requests),
        "tokens": tokens,
        "prompt": prompt,
        "completion": completion,
        "failed": failed,
        "cost": money,
        "durations": durations,
        "p95": durations[math.ceil(0.95 * len(durations)) - 1],
    }


def priced_conversations_with_failures(demo: Any) -> list[dict[str, Any]]:
    return [
        c
        for c in demo.truth["conversations"]
        if c["failed_turns"] and set(c["models"]) <= set(RATES)
    ][:4]


def test_metrics_equal_hand_computed_values(demo: Any) -> None:
    prices = load_prices()
    cases = priced_conversations_with_failures(demo)
    assert cases
    for truth in cases:
        expected = by_hand(demo, truth["conversation_id"])
        metrics = conversation_report(demo.records, truth["conversation_id"], prices=prices)[
            "metrics"
        ]
        assert metrics["total_requests"] == expected["requests"] == truth["turns"]
        assert metrics["total_tokens"] == expected["tokens"] == truth["tokens_used"]
        assert metrics["error_rate"] == round(expected["failed"] / expected["requests"], 4)
        assert expected["failed"] == truth["failed_turns"]
        assert metrics["total_cost"] == pytest.approx(expected["cost"], abs=1e-6)
        assert metrics["p95_response_time"] == expected["p95"]
        assert metrics["average_response_time"] == round(
            sum(expected["durations"]) / len(expected["durations"]), 3
        )


def test_response_names_the_prices_it_used(demo: Any) -> None:
    truth = priced_conversations_with_failures(demo)[0]
    metrics = conversation_report(demo.records, truth["conversation_id"], prices=load_prices())[
        "metrics"
    ]
    model = truth["models"][0]
    assert metrics["prices_used"]["models"][model]["input_per_1k"] == RATES[model][0]
    assert metrics["price_sources"] == ["prices.yaml"]


def test_an_unpriced_model_is_reported_not_costed_at_zero(demo: Any) -> None:
    truth = next(c for c in demo.truth["conversations"] if c["models"] == ["llama3.1:8b"])
    metrics = conversation_report(demo.records, truth["conversation_id"], prices=load_prices())[
        "metrics"
    ]
    assert metrics["cost_complete"] is False
    assert metrics["unpriced_models"] == [
        {
            "model": "llama3.1:8b",
            "tokens": truth["tokens_used"],
            "reason": "no price in the price table",
        }
    ]


def test_an_override_file_prices_a_new_model_and_says_so(demo: Any, tmp_path: Path) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text("models:\n  llama3.1: {input: 0.0001, output: 0.0002}\n")
    prices = load_prices(override)
    assert cost("llama3.1:8b", 1000, 1000, prices) == pytest.approx(0.0003)
    truth = next(c for c in demo.truth["conversations"] if c["models"] == ["llama3.1:8b"])
    metrics = conversation_report(demo.records, truth["conversation_id"], prices=prices)["metrics"]
    assert metrics["cost_complete"] is True
    assert metrics["prices_used"]["models"]["llama3.1:8b"]["overridden"] is True


def test_no_seeded_secret_appears_in_any_conversation_report(demo: Any) -> None:
    prices = load_prices()
    bodies = [
        mask(
            conversation_report(
                demo.records, c["conversation_id"], prices=prices, include_related_logs=True
            )
        )
        for c in demo.truth["conversations"]
    ]
    text = json.dumps(bodies)
    assert '"prompt":' in text  # verbose conversations log their prompts
    secrets = demo.truth["secrets"]
    assert len(secrets) > 10
    leaked = [s for s in secrets if s in text]
    assert leaked == []


def test_prompts_logged_only_as_hashes_come_back_as_hashes(demo: Any) -> None:
    prices = load_prices()
    truth = priced_conversations_with_failures(demo)[0]
    report = conversation_report(demo.records, truth["conversation_id"], prices=prices)
    hashed_only = [p for p in report["prompts"] if "prompt" not in p]
    assert all(len(p["prompt_hash"]) == 16 for p in hashed_only)


def test_related_logs_are_other_lines_of_the_session_within_the_buffer(demo: Any) -> None:
    truth = demo.truth["conversations"][0]
    report = conversation_report(
        demo.records,
        truth["conversation_id"],
        prices=load_prices(),
        include_related_logs=True,
        time_buffer_s=300,
    )
    first = instant_ns(report["metadata"]["first_activity"]) - 300 * NS_PER_SECOND
    last = instant_ns(report["metadata"]["last_activity"]) + 300 * NS_PER_SECOND
    for event in report["related_logs"]:
        assert first <= instant_ns(event["timestamp"]) <= last


def test_nearest_rank_percentile() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
    assert percentile([], 0.95) is None


def test_workspace_summary_counts_conversations_tokens_and_cost(demo: Any) -> None:
    workspace = "ws-research"
    convs = [c for c in demo.truth["conversations"] if c["workspace_id"] == workspace]
    summary = workspace_summary(demo.records, workspace, prices=load_prices())
    chat_conversations = {c["conversation_id"] for c in convs}
    assert chat_conversations <= {
        r.conversation_id for r in demo.records if r.workspace_id == workspace
    }
    assert summary["total_conversations"] == len(chat_conversations)
    ws_tokens = sum(
        max((x["tokens_used"] for x in group), default=0)
        for group in _requests_of(demo, workspace).values()
    )
    assert summary["total_tokens"] == ws_tokens
    assert summary["error_count"] == sum(
        1 for x in demo.lines if x.get("workspace_id") == workspace and x["level"] == "error"
    )
    assert summary["top_error_patterns"][0]["count"] >= summary["top_error_patterns"][-1]["count"]
    hours = summary["peak_usage_times"]
    assert hours == sorted(hours, key=lambda h: -h["requests"])
    assert set(summary["cost_breakdown"]["by_model"]) <= set(summary["models_used"])


def _requests_of(demo: Any, workspace: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in demo.lines:
        if line.get("workspace_id") == workspace and "tokens_used" in line:
            out.setdefault(line["correlation_id"], []).append(line)
    return out


def test_usage_series_buckets_tokens_by_model(demo: Any) -> None:
    series = usage_series(demo.records, 3600 * NS_PER_SECOND, by="model", prices=load_prices())
    total = sum(point["tokens"] for points in series.values() for point in points)
    assert total == sum(max(x["tokens_used"] for x in group) for group in _all_usage(demo).values())
    for points in series.values():
        assert [p["time_ns"] for p in points] == sorted(p["time_ns"] for p in points)
        assert all(p["time_ns"] % (3600 * NS_PER_SECOND) == 0 for p in points)


def _all_usage(demo: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in demo.lines:
        if "tokens_used" in line:
            out.setdefault(line["correlation_id"], []).append(line)
    return out
