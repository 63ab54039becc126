"""PII masking: every kind of secret is replaced, and the evidence around it survives."""

from __future__ import annotations

import pytest

from analyzer.infra.privacy import mask, mask_text

SECRETS = {
    "email": ("contact jane.doe+ai@example.co.uk today", "<email>"),
    "phone_us": ("call 555-867-5309 now", "<phone>"),
    "phone_paren": ("call (415) 555-2671", "<phone>"),
    "phone_intl": ("call +44 20 7946 0958", "<phone>"),
    "phone_e164": ("sms +14155552671 sent", "<phone>"),
    "card_plain": ("card 4111111111111111 charged", "<card>"),
    "card_grouped": ("card 5555-5555-5555-4444 charged", "<card>"),
    "card_amex": ("amex 3782 822463 10005", "<card>"),
    "openai_key": ("key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl", "<token>"),
    "bearer": ("Authorization: Bearer abc123.def456-ghi789", "<token>"),
    "jwt": (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "<token>",
    ),
    "jwt_truncated": ("session eyJhbGciOiJIUzI1NiJ9.q8Xk2LmPz0aB7cD9eF1gH3iJ5kL", "<token>"),
    "api_key_assignment": ('{"api_key": "9f8e7d6c5b4a"}', "<token>"),
    "password": ("password=hunter2!x", "<token>"),
    "ipv4": ("from 192.168.10.24:5432", "<ip>"),
    "ipv6": ("peer 2001:db8::8a2e:370:7334 closed", "<ip>"),
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_each_kind_of_secret_is_replaced_by_its_placeholder(name: str) -> None:
    text, placeholder = SECRETS[name]
    masked = mask_text(text)
    assert placeholder in masked


def test_secret_values_never_survive_masking() -> None:
    secret_parts = [
        "jane.doe",
        "867-5309",
        "7946 0958",
        "4111111111111111",
        "5555-5555",
        "Ab12Cd34",
        "abc123.def456",
        "dozjgNryP4J3",
        "9f8e7d6c5b4a",
        "hunter2",
        "192.168.10.24",
        "8a2e:370",
    ]
    masked = mask_text(" | ".join(text for text, _ in SECRETS.values()))
    for part in secret_parts:
        assert part not in masked


KEEP = [
    "2024-01-15T10:30:00.123456Z request done",
    "2024-01-15 10:30:00,123 INFO started",
    "ts=1705312200123456789 took 1500ms",
    "epoch_ms=1705312200123 duration=2.5s",
    "version 1.2.3 and v2.10.0 and v1.2.3.4",
    "correlation_id=corr-27209bdf1c11 workspace ws-4401",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "tokens_used=523 max_tokens=4096 prompt_tokens: 200",
    "retry 3/5 after 250 ms; p95=1234.5ms; 99.9% ok",
    "took 10:30:00 in Foo::bar",
    "bearer token missing, basic authentication failed",
    "prompt_hash=sha256:9f86d081884c7d65",
    "HTTP 503 from anythingllm:3001 after 30000ms",
]


@pytest.mark.parametrize("text", KEEP)
def test_timestamps_ids_versions_and_durations_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_mask_walks_nested_structures_and_keeps_keys() -> None:
    data = {"user_email": "a@b.io", "items": [{"ip": "10.0.0.7"}, ("x", 3)], "n": 5, "ok": True}
    assert mask(data) == {
        "user_email": "<email>",
        "items": [{"ip": "<ip>"}, ("x", 3)],
        "n": 5,
        "ok": True,
    }


def test_masking_is_idempotent() -> None:
    once = mask_text(" ".join(text for text, _ in SECRETS.values()))
    assert mask_text(once) == once
