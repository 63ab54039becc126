"""The Promtail pipeline and its Alloy twin: what they label, what they keep as structured
metadata, what they mask and which metrics they expose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer.lint.pipelines import Stage, alloy_pipelines, check_pipeline, promtail_pipelines
from analyzer.lint.problems import Problem
from analyzer.lint.sourcemap import load_yaml_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "ascode" / "promtail"
IDS = {"correlation_id", "conversation_id", "session_id", "workspace_id"}


def _ai_stages(stages: list[Stage]) -> list[Stage]:
    """The AI-agent stages: the pipeline itself, or the non-redis `match` branch."""
    for stage in stages:
        if stage.kind == "match" and "!=" in stage.config["selector"]:
            return stage.stages
    return stages


def _promtail() -> list[list[Stage]]:
    config = load_yaml_text((ROOT / "promtail/promtail-config.yaml").read_text())
    return [_ai_stages(p.stages) for p in promtail_pipelines(config, "p", [])]


def _alloy() -> list[Stage]:
    [pipeline] = alloy_pipelines((ROOT / "promtail/config.alloy").read_text(), "a")
    return _ai_stages(pipeline.stages)


def _of(stages: list[Stage], kind: str) -> list[Stage]:
    return [s for s in stages if s.kind == kind]


@pytest.fixture(params=["promtail-file-job", "promtail-docker-job", "alloy"])
def ai_stages(request: pytest.FixtureRequest) -> list[Stage]:
    return {"promtail-file-job": _promtail()[0], "promtail-docker-job": _promtail()[1],
            "alloy": _alloy()}[request.param]


def test_labels_are_the_low_cardinality_fields_only(ai_stages) -> None:
    [labels] = _of(ai_stages, "labels")
    assert set(labels.config) == {"service", "level", "request_type", "model"}


def test_ids_are_structured_metadata(ai_stages) -> None:
    [metadata] = _of(ai_stages, "structured_metadata")
    assert set(metadata.config) == IDS


def test_json_extracts_the_agent_fields(ai_stages) -> None:
    [json_stage] = _of(ai_stages, "json")
    assert set(json_stage.config["expressions"]) == IDS | {
        "timestamp", "level", "service", "message", "model", "tokens_used", "duration",
        "request_type"}


def test_timestamp_comes_from_the_record(ai_stages) -> None:
    [timestamp] = _of(ai_stages, "timestamp")
    assert (timestamp.config["source"], timestamp.config["format"]) == ("timestamp", "RFC3339Nano")


def test_metrics_count_tokens_and_time_requests(ai_stages) -> None:
    [metrics] = _of(ai_stages, "metrics")
    tokens, duration = metrics.config["token_usage"], metrics.config["ai_request_duration"]
    assert (tokens["type"].lower(), tokens["source"], tokens["config"]["action"]) == (
        "counter", "tokens_used", "add")
    buckets = duration["config"]["buckets"]
    assert (duration["type"].lower(), duration["source"]) == ("histogram", "duration")
    assert (buckets[0], buckets[-1]) == (0.1, 10)


def test_masking_runs_before_anything_reads_the_line(ai_stages) -> None:
    kinds = [s.kind for s in ai_stages]
    assert kinds.index("json") > max(i for i, k in enumerate(kinds) if k == "replace")


def _mask(stages: list[Stage], line: str) -> str:
    """Promtail's replace semantics: each capture group's text is replaced."""
    for stage in _of(stages, "replace"):
        pattern = re.compile(stage.config["expression"])

        def swap(match: re.Match[str], replacement: str = stage.config["replace"]) -> str:
            text, start = match.group(0), match.start(0)
            for group in range(len(match.groups()), 0, -1):
                if match.group(group) is not None:
                    a, b = match.start(group) - start, match.end(group) - start
                    text = text[:a] + replacement + text[b:]
            return text

        line = pattern.sub(swap, line)
    return line


@pytest.mark.parametrize("secret, mask", [
    ("jane.doe@example.com", "<redacted-email>"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "Bearer <redacted-token>"),
    ("sk-proj-AbCdEfGh1234567890xyz", "<redacted-key>"),
    ('api_key="a1b2c3d4e5f6g7h8"', 'api_key="<redacted-key>"'),
])
def test_secrets_are_masked(ai_stages, secret: str, mask: str) -> None:
    line = f'{{"level":"warn","message":"call with {secret} failed","service":"api"}}'
    masked = _mask(ai_stages, line)
    assert mask in masked and secret not in masked


def test_the_recorded_sample_email_is_masked_as_promtail_masked_it(ai_stages) -> None:
    line = (FIXTURES / "sample.log").read_text().splitlines()[2]
    assert "jane.doe@example.com" in line
    assert "jane.doe@example.com" not in _mask(ai_stages, line)
    assert "password reset requested by <redacted-email>" in _mask(ai_stages, line)


def test_alloy_masks_with_the_same_expressions_as_promtail() -> None:
    promtail = [(s.config["expression"], s.config["replace"]) for s in _of(_promtail()[0], "replace")]
    alloy = [(s.config["expression"], s.config["replace"]) for s in _of(_alloy(), "replace")]
    assert promtail == alloy


def _problems(config_name: str) -> list[Problem]:
    problems: list[Problem] = []
    config = load_yaml_text((FIXTURES / config_name).read_text())
    for pipeline in promtail_pipelines(config, config_name, problems):
        check_pipeline(pipeline, problems)
    return problems


def test_a_misspelled_top_level_key_is_caught_at_promtails_line() -> None:
    recorded = (FIXTURES / "check_syntax_unknown_field.txt").read_text()
    line = int(re.search(r"line (\d+): field scrape_config not found", recorded).group(1))
    assert [(p.line, p.message) for p in _problems("promtail-config-unknown-field.yaml")] == [
        (line, "unknown top-level key `scrape_config`")]


def test_a_bad_stage_value_that_passes_check_syntax_is_caught() -> None:
    assert "fallback_formats" in (FIXTURES / "bad_stage_check_vs_dry_run.txt").read_text()
    messages = [p.message for p in _problems("promtail-config-bad-stage.yaml")]
    assert "fallback_formats must be a list" in messages
