"""The demo generator: deterministic output whose ground truth agrees with the lines written."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main
from analyzer.config import SAMPLE_LOGS_DIR
from analyzer.demo import GROUND_TRUTH_FILE, generate, incident_kinds
from analyzer.errors import InvalidParameter


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _json_lines(directory: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(directory.glob("*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text().splitlines())
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=11)


def test_same_seed_and_options_give_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, duration="30m")
    generate(tmp_path / "b", seed=3, duration="30m")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_different_seeds_give_different_logs(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, duration="30m")
    generate(tmp_path / "b", seed=4, duration="30m")
    assert _files(tmp_path / "a")["api.jsonl"] != _files(tmp_path / "b")["api.jsonl"]


def test_bundled_sample_logs_regenerate_byte_for_byte(tmp_path: Path) -> None:
    generate(tmp_path)
    assert _files(tmp_path) == _files(SAMPLE_LOGS_DIR)


def test_bundled_sample_is_small_and_has_every_incident_kind() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_LOGS_DIR.iterdir())
    truth = json.loads((SAMPLE_LOGS_DIR / GROUND_TRUTH_FILE).read_text())
    assert total < 1_500_000
    assert sorted(i["kind"] for i in truth["incidents"]) == sorted(incident_kinds())


def test_every_service_writes_its_own_file(demo: tuple[Path, dict[str, Any]]) -> None:
    out, truth = demo
    names = {p.name for p in out.iterdir()}
    expected = {f"{s}.jsonl" for s in truth["services"] if s != "redis"} | {"redis.log"}
    assert expected <= names


def test_json_lines_carry_nanosecond_utc_timestamps_and_service(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = demo
    for line in _json_lines(out)[:500]:
        assert line["timestamp"].endswith("Z") and len(line["timestamp"].split(".")[1]) == 10
        assert line["service"] and line["level"] and line["message"]


def test_redis_writes_its_own_format_without_correlation_ids(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = demo
    lines = (out / "redis.log").read_text().splitlines()
    assert lines[0].startswith("1:C ") and " Nov 2026 " in lines[0]
    assert any(line.endswith("* Ready to accept connections tcp") for line in lines)
    assert not any("req-" in line for line in lines)


def test_incident_windows_do_not_overlap(demo: tuple[Path, dict[str, Any]]) -> None:
    _, truth = demo
    windows = sorted((i["start"], i["end"]) for i in truth["incidents"])
    for (_, end), (next_start, _) in itertools.pairwise(windows):
        assert end < next_start


def test_there_are_at_least_six_incident_kinds() -> None:
    assert len(incident_kinds()) >= 6


def test_failed_correlation_ids_appear_in_the_logs_as_errors(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = demo
    errors = {
        line["correlation_id"]
        for line in _json_lines(out)
        if line["level"] == "error" and "correlation_id" in line
    }
    for incident in truth["incidents"]:
        assert incident["failed_correlation_ids"], incident["kind"]
        assert set(incident["failed_correlation_ids"]) <= errors, incident["kind"]


def test_root_cause_service_logs_the_signature(demo: tuple[Path, dict[str, Any]]) -> None:
    out, truth = demo
    json_lines = _json_lines(out)
    redis_text = (out / "redis.log").read_text()
    for incident in truth["incidents"]:
        root = incident["root_cause_service"]
        if root == "redis":
            assert incident["signature"] in redis_text
        else:
            assert any(
                line["service"] == root and incident["signature"] in line["message"]
                for line in json_lines
            ), incident["kind"]


def test_the_loudest_service_is_not_the_root_cause(demo: tuple[Path, dict[str, Any]]) -> None:
    _, truth = demo
    for incident in truth["incidents"]:
        counts = incident["error_lines"]
        loudest = max(counts, key=lambda s: counts[s])
        assert loudest != incident["root_cause_service"], incident["kind"]


def test_some_cause_logs_far_fewer_errors_than_its_dependents(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _, truth = demo
    ratios = []
    for incident in truth["incidents"]:
        counts = dict(incident["error_lines"])
        root = counts.pop(incident["root_cause_service"], 0)
        ratios.append(sum(counts.values()) / max(root, 1))
    assert max(ratios) >= 10


def test_root_cause_logs_first_in_most_kinds_but_not_all(demo: tuple[Path, dict[str, Any]]) -> None:
    _, truth = demo
    firsts = [i["root_logs_first"] for i in truth["incidents"]]
    assert sum(firsts) > len(firsts) / 2
    assert not all(firsts)


def test_traced_requests_include_a_slow_hop_and_a_failed_hop(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = demo
    requests = truth["requests"]
    assert any(r["slow_hop"] for r in requests)
    assert any(r["failed_hop"] for r in requests)
    logged = {line.get("correlation_id") for line in _json_lines(out)}
    assert {r["correlation_id"] for r in requests} <= logged


def test_slow_hop_dominates_its_request(demo: tuple[Path, dict[str, Any]]) -> None:
    out, truth = demo
    lines = _json_lines(out)
    for request in (r for r in truth["requests"] if r["slow_hop"]):
        hop = [
            line
            for line in lines
            if line.get("correlation_id") == request["correlation_id"]
            and line["service"] == request["slow_hop"]
            and line.get("duration")
        ]
        assert max(line["duration"] for line in hop) * 1000 > request["total_duration_ms"] / 2


def test_calls_name_their_callee(demo: tuple[Path, dict[str, Any]]) -> None:
    out, _ = demo
    messages = {line["message"] for line in _json_lines(out) if line["service"] == "api"}
    assert any(m.startswith("request to redis:6379") for m in messages)
    assert any(m.startswith("calling anythingllm") for m in messages)


def test_conversation_totals_match_the_lines(demo: tuple[Path, dict[str, Any]]) -> None:
    out, truth = demo
    lines = _json_lines(out)
    for conv in truth["conversations"][:20]:
        mine = [line for line in lines if line.get("conversation_id") == conv["conversation_id"]]
        assert conv["tokens_used"] == sum(line.get("tokens_used", 0) for line in mine)
        assert conv["tokens_used"] == conv["prompt_tokens"] + conv["completion_tokens"]
        assert conv["errors"] == sum(line["level"] == "error" for line in mine)
        assert conv["turns"] >= 1


def test_every_listed_secret_appears_in_the_logs(demo: tuple[Path, dict[str, Any]]) -> None:
    out, truth = demo
    text = "".join(p.read_text() for p in sorted(out.glob("*.jsonl")))
    assert {"email", "phone", "card", "ip", "api_key", "bearer"} <= set(truth["secrets_by_kind"])
    for secret in truth["secrets"]:
        assert secret in text


def test_ai_requests_log_a_short_prompt_hash(demo: tuple[Path, dict[str, Any]]) -> None:
    out, _ = demo
    hashes = [line["prompt_hash"] for line in _json_lines(out) if "prompt_hash" in line]
    assert hashes and all(len(h) == 16 and int(h, 16) >= 0 for h in hashes)


def test_incidents_can_be_chosen(tmp_path: Path) -> None:
    truth = generate(tmp_path, duration="1h", incidents="llm_timeout,cache_outage")
    assert [i["kind"] for i in truth["incidents"]] == ["cache_outage", "llm_timeout"]


def test_unknown_incident_kind_is_rejected_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter) as caught:
        generate(tmp_path, incidents="volcano")
    assert "cache_outage" in caught.value.suggestion


def test_cli_writes_the_files_and_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["demo", "generate", str(tmp_path / "out"), "--seed", "5", "--duration", "30m"]) == 0
    )
    printed = capsys.readouterr().out
    assert "api.jsonl" in printed and "ground_truth.json" in printed
    assert json.loads((tmp_path / "out" / GROUND_TRUTH_FILE).read_text())["seed"] == 5
