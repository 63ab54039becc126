from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from analyzer.analysis.templates import TemplateMiner, group_by_template, mine
from analyzer.infra.template_state import load_state, redis_key, save_state
from analyzer.model import LogRecord, Severity

from scoring import grouping_accuracy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
USERS = ["admin", "oracle", "support", "guest", "test", "webmaster", "ubnt"]


def invalid_user_lines() -> list[str]:
    return [f"Invalid user {u} from 10.0.{i}.{i + 1}" for i, u in enumerate(USERS)]


def test_digit_bearing_values_become_wildcards() -> None:
    found = mine(["Received block blk_123 of size 67108864 from /10.251.43.21"])
    assert found[0].template == "Received block <*> of size <*> from <*>"


def test_words_that_vary_across_many_messages_become_wildcards() -> None:
    found = mine(invalid_user_lines())
    assert {f.template for f in found} == {"Invalid user <*> from <*>"}
    assert len({f.template_id for f in found}) == 1


def test_a_word_with_few_frequent_values_names_separate_events() -> None:
    lines = ["screen action: SCREEN_ON"] * 20 + ["screen action: SCREEN_OFF"] * 20
    found = mine(lines)
    assert len({f.template_id for f in found}) == 2


def test_values_of_varying_length_do_not_split_an_event() -> None:
    found = mine([
        "host.example.com:80 close, 0 bytes sent, 12 bytes received, lifetime 00:01",
        "host.example.com:80 close, 1190 bytes (1.16 KB) sent, 12 bytes received, lifetime 00:02",
    ])
    assert found[0].template_id == found[1].template_id


def test_match_does_not_learn() -> None:
    miner = TemplateMiner()
    assert miner.match("Invalid user admin from 10.0.0.1") is None
    assert miner.templates() == []


def test_id_stays_when_a_template_generalises_in_a_later_batch() -> None:
    miner = TemplateMiner()
    first = miner.add("session opened for user cyrus by uid 0")
    later = miner.add("session opened for user news by uid 0")
    assert later.template_id == first.template_id
    assert later.template == "session opened for user <*> by uid <*>"


def test_templates_report_counts_most_frequent_first() -> None:
    miner = TemplateMiner()
    miner.add_batch([*invalid_user_lines(), "Connection closed by 10.0.0.1 [preauth]"])
    counts = [t.count for t in miner.templates()]
    assert counts == [len(USERS), 1]


def test_ids_survive_a_round_trip_through_a_file(tmp_path) -> None:
    miner = TemplateMiner()
    before = miner.add_batch(invalid_user_lines())[0]
    save_state(miner, tmp_path / "templates.json")
    restored = load_state(tmp_path / "templates.json")
    assert restored is not None
    assert restored.add("Invalid user nobody from 10.9.9.9").template_id == before.template_id


def test_ids_survive_a_round_trip_through_redis(redis_url) -> None:
    import redis

    miner = TemplateMiner()
    before = miner.add_batch(invalid_user_lines())[0]
    save_state(miner, f"{redis_url}#sshd")
    assert redis.Redis.from_url(redis_url).exists(redis_key("sshd"))
    restored = load_state(f"{redis_url}#sshd")
    assert restored is not None
    assert restored.match("Invalid user nobody from 10.9.9.9").template_id == before.template_id


def test_loading_state_that_was_never_saved_gives_none(tmp_path, redis_url) -> None:
    assert load_state(tmp_path / "missing.json") is None
    assert load_state(f"{redis_url}#missing") is None


def test_recovers_the_labelled_groups_of_a_loghub_system() -> None:
    path = FIXTURES / "loghub2k" / "Apache" / "Apache_2k.log_structured.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    found = mine(r["Content"] for r in rows)
    assert grouping_accuracy([r["EventId"] for r in rows], [f.template_id for f in found]) == 1.0


def test_group_by_template_summarises_records_per_template() -> None:
    records = [
        LogRecord(timestamp_ns=(i + 1) * 10**9, service="sshd" if i % 2 else "auth",
                  level=Severity.WARN, message=line)
        for i, line in enumerate(invalid_user_lines())
    ]
    groups = group_by_template(records)
    assert len(groups) == 1
    group = groups[0]
    assert group["template"] == "Invalid user <*> from <*>"
    assert group["count"] == len(USERS)
    assert group["services"] == ["auth", "sshd"]
    assert group["first_seen"] < group["last_seen"]
    assert group["sample"] == records[0].message


def run_cli(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())",
         "templates", *args],
        input=stdin, capture_output=True, check=True, cwd=ROOT,
    )


def test_cli_writes_one_id_and_template_per_input_line_in_order() -> None:
    lines = [*invalid_user_lines(), "", "Connection closed by 10.0.0.1 [preauth]"]
    out = run_cli("\n".join(lines).encode() + b"\n").stdout.decode().splitlines()
    assert len(out) == len(lines)
    ids, templates = zip(*(line.split("\t") for line in out), strict=True)
    assert len(set(ids[: len(USERS)])) == 1
    assert templates[0] == "Invalid user <*> from <*>"
    assert templates[-1] == "Connection closed by <*> [preauth]"


def test_cli_keeps_ids_across_runs_with_a_state_file(tmp_path) -> None:
    state = str(tmp_path / "state.json")
    first = run_cli("\n".join(invalid_user_lines()).encode(), "--state", state).stdout
    second = run_cli(b"Invalid user nobody from 10.9.9.9\n", "--state", state).stdout
    assert second.split(b"\t")[0] == first.split(b"\t")[0]
