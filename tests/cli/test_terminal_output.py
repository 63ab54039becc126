"""What `query`, `patterns`, `correlate`, `conversation` and `workspace` print for a person:
ranked sections, short times, LogQL only when asked, a sentence when nothing is found, and the
same exit status (and HTTP status) for the same "not found"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from analyzer.cli import main
from analyzer.config import SAMPLE_LOGS_DIR

SAMPLE = ["--source", str(SAMPLE_LOGS_DIR)]
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_patterns_are_grouped_and_ranked_with_short_times(capsys) -> None:
    code, out, _ = run(capsys, "patterns", *SAMPLE, "--time-range", "2h")
    assert code == 0
    headings = re.findall(r"^(\w[\w ]+?)(?:, [\w ]+)? \(", out, re.M)
    assert headings[:2] == ["Root causes", "Named patterns"]
    causes = out.split("Root causes, in time order")[1].split("\n\n")[0]
    times = re.findall(r"^  (\d\d:\d\d:\d\d)\u2013", causes, re.M)
    assert len(times) == 5 and times == sorted(times)
    named = out.split("Named patterns, most lines first")[1].split("\n\n")[0]
    counts = [int(n.replace(",", "")) for n in re.findall(r"^  [\w ]+: ([\d,]+) lines?", named, re.M)]
    assert counts == sorted(counts, reverse=True) and len(counts) == 5
    assert "Bursts" in out and "Messages new to this window" in out
    assert out.count("2026-11-24") == 1 and not ISO.search(out)
    assert "logql" not in out and "{service=" not in out


def test_patterns_verbose_adds_the_logql_and_confidence(capsys) -> None:
    _, out, _ = run(capsys, "patterns", *SAMPLE, "--time-range", "2h", "--verbose", "--top", "1")
    assert out.count("logql: {service=") >= 5 and "confidence 0." in out


def test_patterns_with_nothing_found_say_so_in_a_sentence(capsys) -> None:
    code, out, _ = run(capsys, "patterns", *SAMPLE, "--services", "api",
                       "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-20T01:00:00Z")  # fmt: skip
    assert code == 0
    assert "No line from api in this window." in out and "{" not in out


def test_patterns_for_a_service_that_does_not_exist_name_the_known_ones(capsys) -> None:
    code, _, err = run(capsys, "patterns", *SAMPLE, "--services", "nope")
    assert code == 2
    assert "nope" in err and "api" in err


def test_query_text_shows_the_aggregation_and_the_matching_lines(capsys) -> None:
    _, out, _ = run(capsys, "query", *SAMPLE, "--time-range", "2h", "--aggregation", "by_pattern")
    rows = out.split("By pattern, most lines first")[1].split("\n\n")[0].splitlines()[1:]
    counts = [int(r.split()[0].replace(",", "")) for r in rows if r.strip()[0].isdigit()]
    assert len(counts) == 20 and counts == sorted(counts, reverse=True)
    shown = out.split("Matching lines, the newest 10 of ")[1].splitlines()[1:11]
    assert all(re.match(r"  \d\d:\d\d:\d\d  \S+ +(error|warn|fatal) ", line) for line in shown)
    assert not ISO.search(out)


def test_correlate_explains_its_marks_and_documents_its_exit_status(capsys) -> None:
    code, out, _ = run(capsys, "correlate", "req-79e080f4edd8", *SAMPLE)
    assert code == 1
    assert out.rstrip().splitlines()[-1] == (
        "(✗ failing hop, ! failed too, ✓ ok; + is the time from the request's first line; "
        "exit status 1: the request failed)"
    )
    with pytest.raises(SystemExit):
        main(["correlate", "--help"])
    assert "Exit status: 0 the request completed, 1 it failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["workspace", "ws-nope"], "WORKSPACE_NOT_FOUND"),
        (["conversation", "conv-nope"], "CONVERSATION_NOT_FOUND"),
        (["correlate", "req-nope"], "CORRELATION_NOT_FOUND"),
    ],
)
def test_an_unknown_id_exits_2_with_its_code(capsys, argv: list[str], code: str) -> None:
    status, out, err = run(capsys, *argv, *SAMPLE)
    assert status == 2 and out == ""
    assert f"error [{code}]: no log line carries" in err


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/ai_logs/workspace/ws-nope/summary", "WORKSPACE_NOT_FOUND"),
        ("/api/v1/ai_logs/conversations/conv-nope", "CONVERSATION_NOT_FOUND"),
        ("/api/v1/ai_logs/correlate?correlation_id=req-nope", "CORRELATION_NOT_FOUND"),
    ],
)
def test_an_unknown_id_is_a_404_over_http(client: FlaskClient, path: str, code: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == code


@pytest.fixture
def client(tmp_path: Any) -> FlaskClient:
    from analyzer.app import create_app
    from analyzer.config import Settings

    settings = Settings(source_path=str(SAMPLE_LOGS_DIR), data_dir=str(tmp_path))
    return create_app(settings).test_client()
