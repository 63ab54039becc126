"""`ai-logs query` flags as documented: the limit's range, the user id, and a header that says
when the bundled sample was read."""

from __future__ import annotations

import json

import pytest

from analyzer.cli import main


@pytest.mark.parametrize("limit", ["0", "10001"])
def test_a_limit_outside_1_to_10000_is_refused(limit: str, capsys) -> None:
    assert main(["query", "--limit", limit]) == 2
    err = capsys.readouterr().err
    assert "INVALID_PARAMETER" in err and "'limit'" in err


def test_the_limit_caps_the_lines_returned(capsys) -> None:
    assert main(["query", "--limit", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["logs"]) == 3


def test_user_id_is_a_flag_that_keeps_that_users_lines(capsys) -> None:
    args = ["query", "--mode", "audit", "--time-range", "2h", "--json"]
    assert main([*args, "--user-id", "u-1003"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert main([*args, "--user-id", "nobody-has-this-id"]) == 0
    nobody = json.loads(capsys.readouterr().out)
    assert mine["metadata"]["total_logs"] > 0 and nobody["metadata"]["total_logs"] == 0
    assert all(line.get("user_id") == "u-1003" for line in mine["logs"])


def test_the_header_says_the_bundled_sample_was_read(capsys) -> None:
    assert main(["query"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert header.startswith("source: the bundled sample logs")
    assert "LOKI_ADDR" in header


def test_json_output_stays_json_and_the_note_goes_to_stderr(capsys) -> None:
    assert main(["query", "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert "bundled sample" in captured.err


def test_a_source_given_is_named_in_the_header(tmp_path, capsys) -> None:
    (tmp_path / "api.jsonl").write_text(
        '{"timestamp": "2026-11-24T08:00:00Z", "level": "error", "service": "api", '
        '"message": "boom"}\n'
    )
    assert main(["query", "--source", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"source: files {tmp_path}" in out and "bundled" not in out


def test_an_empty_window_says_it_read_no_lines_without_naming_services(tmp_path, capsys) -> None:
    (tmp_path / "api.jsonl").write_text(
        '{"timestamp": "2026-11-24T08:00:00Z", "level": "error", "service": "api", '
        '"message": "boom"}\n'
    )
    window = ["--from", "2026-11-25T00:00:00Z", "--to", "2026-11-25T01:00:00Z"]
    assert main(["query", "--source", str(tmp_path), *window]) == 0
    counts = capsys.readouterr().out.splitlines()[2]
    assert counts == "0 lines · 0 errors · 0 warnings"
