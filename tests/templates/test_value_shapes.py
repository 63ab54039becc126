"""How the miner tells values from names once digits are masked."""

from __future__ import annotations

from analyzer.analysis.template_tokens import masked
from analyzer.analysis.templates import mine


def test_a_quantity_in_plain_bytes_is_one_value() -> None:
    assert masked("estimated size 93.0 B, free 317.1 KB") == "estimated size <*>, free <*>"


def test_a_name_keeps_its_letters_when_only_its_number_is_masked() -> None:
    assert masked("Link Up on awdl0 via SOCKS5") == "Link Up on awdl<*> via SOCKS<*>"


def test_a_single_letter_before_a_digit_is_no_name() -> None:
    assert masked("bssid E9:F2 on node-D4") == "bssid <*>:<*> on <*>"


def test_numbered_names_that_differ_are_different_events() -> None:
    lines = ["Link Up on en0"] * 3 + ["Link Up on awdl0"] * 2
    ids = [m.template_id for m in mine(lines)]
    assert ids[0] == ids[2] and ids[3] == ids[4] and ids[0] != ids[3]


def test_a_word_beside_an_empty_value_in_the_same_slot_is_a_value() -> None:
    lines = [f"connection from 10.0.0.{i} () at noon" for i in range(8)]
    lines += ["connection from 10.0.0.9 (host8.example.net) at noon"]
    assert len({m.template_id for m in mine(lines)}) == 1


def test_a_key_left_empty_and_the_same_key_with_a_value_are_one_event() -> None:
    lines = [f"auth failure uid={i} rhost=10.1.1.{i}" for i in range(6)]
    lines += ["auth failure uid=7 rhost=", "auth failure uid=8 rhost=zummit.com"]
    assert len({m.template_id for m in mine(lines)}) == 1
