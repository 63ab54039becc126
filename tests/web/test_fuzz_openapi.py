"""Schemathesis over /openapi.json: every operation, valid and invalid requests, with and without
a key. No answer is a 5xx, and every answer agrees with the document (status, content type,
schema, valid requests accepted, invalid ones refused, auth as declared).

`AI_LOGS_FUZZ_EXAMPLES` sets the examples per operation and auth mode (default 5: about 6,000
cases, schemathesis' coverage cases included, in under a minute); `bench/fuzz_api.py` runs the
same test with more and prints the figures. Each case is counted in `CASES`.

Whether the request schemas are exactly as strict as the service (valid requests accepted,
invalid ones refused) is counted and printed rather than failed: a few rules cannot be written
in JSON Schema (an end after the start, a service or id that must exist, the alert webhook's
lenient reading of Grafana's fields). Requests with the end before the start are not generated.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from analyzer.app import create_app
from analyzer.config import Settings
from analyzer.infra.keys import KeyStore
from analyzer.model import instant_ns
from analyzer.services import build_services

WEB_LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "web_logs"
EXAMPLES = int(os.environ.get("AI_LOGS_FUZZ_EXAMPLES", "5"))
CASES: Counter[str] = Counter()


def _app(tmp: Path, *, keyed: bool) -> tuple[object, str | None]:
    values: dict[str, object] = {
        "source_path": str(WEB_LOGS),
        "data_dir": str(tmp / ("keyed" if keyed else "open")),
        "embedded_worker": False,
        "rate_limits": {"query": 10**9, "datasource": 10**9, "webhook": 10**9,
                        "admin": 10**9, "stream": 10**9},
        "open_mode_rate_limit": 0,
    }
    key = None
    if keyed:
        keys_file = tmp / "keys.yaml"
        key = KeyStore(str(keys_file)).add("fuzz", ["fake"], ["query", "stream", "admin"])
        values["api_keys_file"] = str(keys_file)
    settings = Settings(**values)  # type: ignore[arg-type]
    return create_app(settings, services=build_services(settings)), key


_TMP = Path(tempfile.mkdtemp(prefix="ai-logs-fuzz-"))  # built at collection: schemathesis needs
OPEN_APP, _ = _app(_TMP, keyed=False)
KEYED_APP, KEY = _app(_TMP, keyed=True)

open_schema = schemathesis.openapi.from_wsgi("/openapi.json", OPEN_APP)
keyed_schema = schemathesis.openapi.from_wsgi("/openapi.json", KEYED_APP)

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# Hard: a 5xx, or an answer the document does not describe (status, media type, body, headers),
# or an operation that answers without the key it declares, fails the test.
HARD = [
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance, ignored_auth,
]  # fmt: skip
# Counted: whether the document's request schemas are as strict as the service, both ways.
# Some rules cannot be written in JSON Schema (end after start, ids that must exist).
AGREEMENT = {"valid request rejected": positive_data_acceptance,
             "invalid request accepted": negative_data_rejection}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _report() -> object:
    yield
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(CASES.items()))
    print(f"\nschemathesis cases: {sum(CASES[m] for m in MODES)} ({counts})")
    for (name, operation), count in sorted(BY_OPERATION.items()):
        print(f"  {name}: {count} on {operation}: {SAMPLES[(name, operation)]}")


MODES = ("open", "with key", "without key")


def _ends_before_start(case: schemathesis.Case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    values = {**(case.query or {}), **body}
    panel = body.get("range") if isinstance(body.get("range"), dict) else {}
    for start_key, end_key, where in (("start", "end", values), ("from", "to", panel)):
        try:
            if instant_ns(where[end_key]) <= instant_ns(where[start_key]):
                return True
        except (KeyError, TypeError, ValueError):
            continue
    return False


def _check(case: schemathesis.Case, mode: str, headers: dict[str, str] | None = None) -> None:
    assume(not _ends_before_start(case))  # "end after start" is no JSON Schema rule
    CASES[mode] += 1
    response = case.call(headers=headers)
    if response.status_code >= 500:
        CASES["5xx"] += 1
    case.validate_response(response, checks=HARD, headers=headers)
    if case.operation.path == "/api/v1/ai_logs/stream":
        return  # a WebSocket: over plain HTTP its valid answer is 426 Upgrade Required
    for name, check in AGREEMENT.items():
        try:
            case.validate_response(response, checks=[check], headers=headers)
        except BaseExceptionGroup as exc:  # schemathesis raises a group of its failures
            CASES[name] += 1
            BY_OPERATION[(name, case.operation.label)] += 1
            SAMPLES.setdefault((name, case.operation.label), _sample(case, response, exc))


SAMPLES: dict[tuple[str, str], str] = {}
BY_OPERATION: Counter[tuple[str, str]] = Counter()


def _sample(case: schemathesis.Case, response: object, exc: BaseExceptionGroup) -> str:
    detail = " ".join(str(exc.exceptions[0]).split()).split("Expected:")[-1][-120:]
    answer = getattr(response, "text", "")[:200]
    sent = {"query": case.query, "body": case.body if case.body is not None else None}
    return f"{detail} | sent {str(sent)[:250]} | got {response.status_code} {answer}"  # type: ignore[attr-defined]


@open_schema.parametrize()
@FUZZ
def test_open_mode_answers_agree_with_the_document(case: schemathesis.Case) -> None:
    _check(case, "open")


@keyed_schema.parametrize()
@FUZZ
def test_keyed_answers_with_a_key_agree_with_the_document(case: schemathesis.Case) -> None:
    _check(case, "with key", {"X-API-Key": KEY})


@keyed_schema.parametrize()
@FUZZ
def test_keyed_answers_without_a_key_agree_with_the_document(case: schemathesis.Case) -> None:
    _check(case, "without key")
