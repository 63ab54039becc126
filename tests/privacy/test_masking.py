"""The masker's positions: keys, numbers, regex-escaped text, mining, and the analyzer's own URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.templates import mine
from analyzer.infra.privacy import keep_url_prefixes, mask, mask_text


@pytest.fixture(autouse=True)
def no_kept_urls() -> Iterator[None]:
    keep_url_prefixes(None)
    yield
    keep_url_prefixes(None)


def test_dict_keys_are_masked_and_merged() -> None:
    masked = mask({"errors_by_type": {"denied alice@example.com": 3, "denied bob@example.org": 2}})
    assert masked == {"errors_by_type": {"denied <email>": 5}}


def test_a_card_number_logged_as_a_json_number_is_masked() -> None:
    assert mask({"card_number": 4111111111111111}) == {"card_number": "<card>"}
    assert mask({"duration_ns": 1795496505694277189, "count": 3}) == {
        "duration_ns": 1795496505694277189, "count": 3,
    }  # fmt: skip


def test_regex_escaped_addresses_are_masked() -> None:
    assert mask_text('|~ "alice\\\\.secret@example\\\\.com"') == '|~ "<email>"'
    assert mask_text("(?i)^alice\\.secret@example\\.com$") == "(?i)^<email>$"


def test_mined_templates_keep_no_fragment_of_a_secret() -> None:
    lines = [f"retry {n} with api_key=sk-live-NpUmkVO{n}xQ9rT2bWzY7aLc{n}" for n in range(20)]
    lines += [f"call failed: Authorization: Bearer abcDEF{n}ghiJKL{n}mnoPQR" for n in range(20)]
    templates = {m.template for m in mine(lines)}
    assert not any("NpUmkVO" in t or "abcDEF" in t or "ghiJKL" in t for t in templates)
    assert all("<token>" in t for t in templates)


def test_fingerprints_keep_no_fragment_of_a_secret() -> None:
    printed = fingerprint("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl1 refused")
    assert printed == "token <token> refused"


def test_the_analyzers_own_url_keeps_its_host() -> None:
    keep_url_prefixes("http://10.0.0.5:8080")
    text = "report http://10.0.0.5:8080/reports/an_12 for 10.0.0.7 via http://10.0.0.5:9090/x"
    assert mask_text(text) == "report http://10.0.0.5:8080/reports/an_12 for <ip> via http://<ip>:9090/x"


def test_without_a_public_url_every_ip_is_masked() -> None:
    assert mask_text("http://10.0.0.5:8080/reports/an_12") == "http://<ip>:8080/reports/an_12"
