"""The CLI for people who use logcli: its flags and environment variables reach Loki as logcli
sends them (address, tenant, basic auth, bearer tokens, TLS), and its time flags mean the same
window. Each test runs `ai-logs query` against the recorded Loki server."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main

PAGED = "query_range_streams_forward_paged"
ROOT = Path(__file__).resolve().parents[2]


def recorded_window(recorded_loki: Any) -> tuple[str, str]:
    """The recorded window as RFC 3339, with the server slicing recorded entries by window."""
    recorded_loki.pages_from = recorded_loki.exchange(PAGED)
    recorded_loki.answer_metrics_by_kind()
    params = recorded_loki.exchange(PAGED)["request"]["params"]
    return tuple(  # type: ignore[return-value]
        datetime.fromtimestamp(int(params[k]) / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")
        for k in ("start", "end")
    )


def query(recorded_loki: Any, *args: str) -> int:
    start, end = recorded_window(recorded_loki)
    return main(["query", "--from", start, "--to", end, *args])


def reads(recorded_loki: Any) -> list[Any]:
    return recorded_loki.requests_to("/loki/api/v1/query_range")


# ---- address and tenant ----


def test_loki_addr_is_where_logs_are_read(recorded_loki, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LOKI_ADDR", recorded_loki.url)
    assert query(recorded_loki) == 0
    assert reads(recorded_loki)
    assert f"source: Loki {recorded_loki.url}" in capsys.readouterr().out


def test_addr_flag_wins_over_loki_addr(recorded_loki, monkeypatch) -> None:
    monkeypatch.setenv("LOKI_ADDR", "http://127.0.0.1:1")
    assert query(recorded_loki, "--addr", recorded_loki.url) == 0
    assert reads(recorded_loki)


def test_loki_url_wins_over_loki_addr(recorded_loki, monkeypatch) -> None:
    monkeypatch.setenv("LOKI_ADDR", "http://127.0.0.1:1")
    monkeypatch.setenv("LOKI_URL", recorded_loki.url)
    assert query(recorded_loki) == 0


def test_loki_org_id_is_the_tenant(recorded_loki, monkeypatch) -> None:
    monkeypatch.setenv("LOKI_ORG_ID", "team-a")
    assert query(recorded_loki, "--addr", recorded_loki.url) == 0
    assert {r.headers["x-scope-orgid"] for r in recorded_loki.requests} == {"team-a"}


def test_org_id_flag_wins_over_loki_org_id(recorded_loki, monkeypatch) -> None:
    monkeypatch.setenv("LOKI_ORG_ID", "team-a")
    assert query(recorded_loki, "--addr", recorded_loki.url, "--org-id", "team-b") == 0
    assert {r.headers["x-scope-orgid"] for r in recorded_loki.requests} == {"team-b"}


def test_an_unreachable_loki_addr_is_loki_unavailable_never_the_sample() -> None:
    env = {"LOKI_ADDR": "http://127.0.0.1:1", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())",
         "query"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3  # upstream unavailable (README: exit codes)
    assert "LOKI_UNAVAILABLE" in done.stderr and "127.0.0.1:1" in done.stderr
    assert done.stdout == "" and "sample" not in done.stderr


# ---- auth ----


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("how", ["env", "flags"])
def test_username_and_password_are_basic_auth(recorded_loki, monkeypatch, how: str) -> None:
    args: list[str] = ["--addr", recorded_loki.url]
    if how == "env":
        monkeypatch.setenv("LOKI_USERNAME", "tenant-a")
        monkeypatch.setenv("LOKI_PASSWORD", "s3cret:x")
    else:
        args += ["--username", "tenant-a", "--password", "s3cret:x"]
    assert query(recorded_loki, *args) == 0
    assert {r.headers["authorization"] for r in recorded_loki.requests} == {
        basic("tenant-a", "s3cret:x")
    }


@pytest.mark.parametrize("how", ["env", "flags"])
def test_a_bearer_token_goes_in_authorization(recorded_loki, monkeypatch, how: str) -> None:
    args: list[str] = ["--addr", recorded_loki.url]
    if how == "env":
        monkeypatch.setenv("LOKI_BEARER_TOKEN", "glc_token")
    else:
        args += ["--bearer-token", "glc_token"]
    assert query(recorded_loki, *args) == 0
    assert {r.headers["authorization"] for r in recorded_loki.requests} == {"Bearer glc_token"}


@pytest.mark.parametrize("how", ["env", "flags"])
def test_a_bearer_token_file_is_read(recorded_loki, monkeypatch, tmp_path, how: str) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    args: list[str] = ["--addr", recorded_loki.url]
    if how == "env":
        monkeypatch.setenv("LOKI_BEARER_TOKEN_FILE", str(token))
    else:
        args += ["--bearer-token-file", str(token)]
    assert query(recorded_loki, *args) == 0
    assert {r.headers["authorization"] for r in recorded_loki.requests} == {"Bearer from-file"}


@pytest.mark.parametrize("how", ["env", "flag"])
def test_the_auth_header_names_the_header_the_token_goes_in(recorded_loki, monkeypatch,
                                                            how: str) -> None:
    args = ["--addr", recorded_loki.url, "--bearer-token", "t"]
    if how == "env":
        monkeypatch.setenv("LOKI_AUTH_HEADER", "X-Gateway-Auth")
    else:
        args += ["--auth-header", "X-Gateway-Auth"]
    assert query(recorded_loki, *args) == 0
    assert {r.headers["x-gateway-auth"] for r in recorded_loki.requests} == {"Bearer t"}
    assert all("authorization" not in r.headers for r in recorded_loki.requests)


def test_basic_auth_and_a_bearer_token_together_are_refused(recorded_loki, capsys) -> None:
    code = query(recorded_loki, "--addr", recorded_loki.url, "--username", "u",
                 "--bearer-token", "t")  # fmt: skip
    assert code == 2
    assert "INVALID_LOKI_AUTH" in capsys.readouterr().err
    assert recorded_loki.requests == []


# ---- time window ----


def sent_window_seconds(recorded_loki: Any) -> float:
    first = reads(recorded_loki)[0].params
    return (int(first["end"]) - int(first["start"])) / 1e9


def test_since_is_a_go_duration_lookback(recorded_loki) -> None:
    recorded_loki.pages_from = recorded_loki.exchange(PAGED)
    recorded_loki.answer_metrics_by_kind()
    assert main(["query", "--addr", recorded_loki.url, "--since", "1h30m"]) == 0
    assert sent_window_seconds(recorded_loki) == 5400


def test_a_since_go_does_not_read_is_refused(capsys) -> None:
    assert main(["query", "--since", "1 hour"]) == 2
    assert "--since" in capsys.readouterr().err


def test_from_and_to_are_the_window_sent(recorded_loki) -> None:
    start, end = recorded_window(recorded_loki)
    assert main(["query", "--addr", recorded_loki.url, "--from", start, "--to", end]) == 0
    params = recorded_loki.exchange(PAGED)["request"]["params"]
    first = reads(recorded_loki)[0].params
    # microseconds survive RFC 3339; Loki's nanoseconds below that are not in the text
    assert abs(int(first["start"]) - int(params["start"])) < 1000
    assert abs(int(first["end"]) - int(params["end"])) < 1000


def test_grafana_relative_from_is_accepted(recorded_loki) -> None:
    recorded_loki.pages_from = recorded_loki.exchange(PAGED)
    recorded_loki.answer_metrics_by_kind()
    assert main(["query", "--addr", recorded_loki.url, "--from", "now-45m"]) == 0
    assert sent_window_seconds(recorded_loki) == 2700


# ---- TLS ----


def test_ca_cert_verifies_a_private_server_certificate(https_loki, tls_files) -> None:
    loki = https_loki()
    assert query(loki, "--addr", loki.url, "--ca-cert", str(tls_files.ca)) == 0
    assert reads(loki)


def test_loki_ca_cert_path_is_read(https_loki, tls_files, monkeypatch) -> None:
    loki = https_loki()
    monkeypatch.setenv("LOKI_CA_CERT_PATH", str(tls_files.ca))
    assert query(loki, "--addr", loki.url) == 0


def test_a_server_certificate_nobody_vouches_for_is_refused(https_loki, capsys) -> None:
    loki = https_loki()
    assert query(loki, "--addr", loki.url) == 3  # Loki unavailable: an upstream fault
    assert "LOKI_UNAVAILABLE" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["env", "flag"])
def test_tls_skip_verify_accepts_any_certificate(https_loki, monkeypatch, how: str) -> None:
    loki = https_loki()
    args = ["--addr", loki.url]
    if how == "env":
        monkeypatch.setenv("LOKI_TLS_SKIP_VERIFY", "true")
    else:
        args.append("--tls-skip-verify")
    assert query(loki, *args) == 0


@pytest.mark.parametrize("how", ["env", "flags"])
def test_a_client_certificate_is_presented(https_loki, tls_files, monkeypatch, how: str) -> None:
    loki = https_loki(client_certs=True)
    args = ["--addr", loki.url, "--ca-cert", str(tls_files.ca)]
    if how == "env":
        monkeypatch.setenv("LOKI_CLIENT_CERT_PATH", str(tls_files.client_cert))
        monkeypatch.setenv("LOKI_CLIENT_KEY_PATH", str(tls_files.client_key))
    else:
        args += ["--cert", str(tls_files.client_cert), "--key", str(tls_files.client_key)]
    assert query(loki, *args) == 0
    assert reads(loki)


def test_without_a_client_certificate_an_mtls_gateway_refuses(https_loki, tls_files) -> None:
    loki = https_loki(client_certs=True)
    assert query(loki, "--addr", loki.url, "--ca-cert", str(tls_files.ca)) == 3  # Loki unavailable: an upstream fault
    assert reads(loki) == []
