"""A corpus of secrets and personal data, written into logs in every position a log can hold
them: the message, a field's value, a field's name, a JSON number, and the regex-escaped form.

The logs are JSON lines for a files source, shaped like the demo's services (api, worker,
anythingllm) so every analysis has something to say: repeated errors to mine and name, a burst,
one request followed across services, one AI conversation with its session and workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SECRETS = {
    "email": "alice.qzsecret@zqmail-corp.net",
    "email in a field": "bob.qzprivate@vault-mail.org",
    "provider key": "sk-live-NpUmkVO4xQ9rT2bWzY7aLc",
    "bearer token": "abcDEF123ghiJKL456mnoPQR",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJxemFsaWNlIn0.c2lnbmF0dXJlLXF6dmFsdWU",
    "card": "4539578763621486",
    "card printed": "4539 5787 6362 1486",
    "github token": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "aws key": "AKIAQZ7EXAMPLEKEY123",
    "password": "Hunter2Secret!x",
    "phone": "+1 415 555 0199",
    "ip": "203.0.113.77",
    "escaped email": "carol.qzhidden@mx-escaped.io",
}
FRAGMENT = 8  # no run of this many characters of a secret may appear in an answer

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CORRELATION_ID = "req-corpus-0001"
CONVERSATION_ID = "conv-corpus-0001"
SESSION_ID = "sess-corpus-0001"
WORKSPACE_ID = "ws-corpus"


def _at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _lines() -> dict[str, list[dict[str, Any]]]:
    s = SECRETS
    api: list[dict[str, Any]] = []
    worker: list[dict[str, Any]] = []
    llm: list[dict[str, Any]] = []
    for i in range(120):  # steady traffic: the baseline templates and rates
        api.append({
            "timestamp": _at(i * 15), "level": "info", "service": "api",
            "message": f"handled request for workspace {WORKSPACE_ID} in {100 + i}ms",
            "workspace_id": WORKSPACE_ID, "correlation_id": f"req-ok-{i:04d}",
            "duration": 0.1 + i / 1000,
        })  # fmt: skip
    for i in range(40):  # the incident, first half hour: secrets in every position
        t = 900 + i * 10
        api.append({
            "timestamp": _at(t), "level": "error", "service": "api",
            "message": f"login failed for {s['email']} from {s['ip']} (attempt {i})",
            "error_type": f"AuthError for {s['email in a field']}",
            "user_email": s["email in a field"],
            s["email in a field"]: "seen",
            "card_number": int(s["card"]),
            "phone": s["phone"],
            "correlation_id": f"req-bad-{i:04d}",
        })  # fmt: skip
        worker.append({
            "timestamp": _at(t + 1), "level": "error", "service": "worker",
            "message": f"upstream call failed: Authorization: Bearer {s['bearer token']} "
                       f"retry {i} with api_key={s['provider key']}",
            "error_type": "UpstreamAuthError",
            "headers": {"Authorization": f"Bearer {s['bearer token']}",
                        "X-Api-Key": s["aws key"]},
        })  # fmt: skip
        worker.append({
            "timestamp": _at(t + 2), "level": "warn", "service": "worker",
            "message": f"session token {s['jwt']} rejected; password={s['password']}",
        })  # fmt: skip
        escaped = s["escaped email"].replace(".", "\\.")
        api.append({
            "timestamp": _at(t + 3), "level": "error", "service": "api",
            "message": f"filter rejected: ^{escaped}$ matched card {s['card printed']}",
            "error_type": "FilterError",
        })  # fmt: skip
    for i in range(30):  # a burst inside one minute
        api.append({
            "timestamp": _at(1500 + i), "level": "error", "service": "api",
            "message": f"payment declined for card {s['card printed']} user {s['email']}",
            "error_type": "PaymentError",
        })  # fmt: skip
    hops = [("api", "request received"), ("worker", "job started"),
            ("anythingllm", "completion failed")]  # fmt: skip
    for n, (service, what) in enumerate(hops):
        target = llm if service == "anythingllm" else worker if service == "worker" else api
        target.append({
            "timestamp": _at(1200 + n), "level": "error" if n == 2 else "info",
            "service": service, "message": f"{what} for {s['email']} token {s['github token']}",
            "correlation_id": CORRELATION_ID, "session_id": SESSION_ID,
            "duration": 0.5 + n,
        })  # fmt: skip
    for turn in range(3):
        llm.append({
            "timestamp": _at(1300 + turn * 20), "level": "error" if turn == 2 else "info",
            "service": "anythingllm",
            "message": f"chat completion for {s['email']} turn {turn}",
            "conversation_id": CONVERSATION_ID, "session_id": SESSION_ID,
            "workspace_id": WORKSPACE_ID, "correlation_id": CORRELATION_ID,
            "model": "gpt-4o-mini", "tokens_used": 500 + turn, "duration": 1.5,
            "request_type": "chat", "success": turn != 2,
            "prompt": f"my card is {s['card printed']} and my phone {s['phone']}, mail "
                      f"{s['email']}",
            "response": f"use key {s['aws key']} with {s['provider key']}",
            "error_type": "ModelError" if turn == 2 else None,
            s["email"]: True,
        })  # fmt: skip
    return {"api": api, "worker": worker, "anythingllm": llm}


@dataclass
class Corpus:
    path: Path
    secrets: dict[str, str]

    def leaks(self, text: str) -> list[str]:
        """Secrets found whole or as a fragment of FRAGMENT characters, in any escaping."""
        plain = text.replace("\\", "")
        found = []
        for name, value in self.secrets.items():
            windows = {value[i : i + FRAGMENT] for i in range(len(value) - FRAGMENT + 1)}
            hits = sorted(w for w in windows if w in plain)
            if hits:
                found.append(f"{name}: {hits[0]!r}")
        return found


def write_corpus(out: Path) -> Corpus:
    """The corpus logs as JSON-lines files in `out`, one per service."""
    for service, lines in _lines().items():
        lines.sort(key=lambda line: line["timestamp"])
        text = "\n".join(json.dumps({k: v for k, v in line.items() if v is not None})
                         for line in lines)  # fmt: skip
        (out / f"{service}.jsonl").write_text(text + "\n", encoding="utf-8")
    return Corpus(out, dict(SECRETS))
