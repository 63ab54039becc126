"""The compose job that gives the analyzer a Grafana service-account token
(provisioning/grafana/service-account/grafana_token.py), run as compose runs it, against a
stand-in Grafana that answers the service-account API with the shapes of Grafana's docs
(docs/sources/developers/http_api/serviceaccount.md: search returns `serviceAccounts` with
`id`/`name`/`role`, creating a token returns `{id, name, key}`); and the analyzer reading the
token the way compose passes it (GRAFANA_TOKEN_FILE)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from analyzer.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "provisioning/grafana/service-account/grafana_token.py"
COMPOSE = yaml.safe_load((ROOT / "provisioning/docker-compose.yml").read_text())["services"]
ADMIN = "Basic " + base64.b64encode(b"admin:s3cret").decode()


@dataclass
class StandInGrafana:
    """The service-account endpoints of Grafana's HTTP API, admin basic auth required."""

    accounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)  # key -> service account id
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, urlsplit(path).path))
        parts = urlsplit(path)
        if parts.path == "/api/health":
            return 200, {"database": "ok", "version": "12.0.2"}
        if parts.path == "/api/search":
            valid = auth.removeprefix("Bearer ") in self.tokens
            return (200, []) if valid else (401, {"message": "invalid API key"})
        if auth != ADMIN:
            return 401, {"message": "Invalid username or password"}
        if parts.path == "/api/serviceaccounts/search" and method == "GET":
            query = parse_qs(parts.query).get("query", [""])[0]
            found = [a for a in self.accounts.values() if query in a["name"]]
            return 200, {"totalCount": len(found), "serviceAccounts": found, "page": 1,
                         "perPage": 100}  # fmt: skip
        if parts.path == "/api/serviceaccounts" and method == "POST":
            account_id = len(self.accounts) + 1
            self.accounts[account_id] = {
                "id": account_id, "name": body["name"], "login": f"sa-{body['name']}",
                "orgId": 1, "isDisabled": body.get("isDisabled", False), "role": body["role"],
                "tokens": 0, "avatarUrl": "",
            }  # fmt: skip
            return 201, self.accounts[account_id]
        if parts.path.startswith("/api/serviceaccounts/") and parts.path.endswith("/tokens"):
            account_id = int(parts.path.split("/")[3])
            key = f"glsa_{account_id}_{len(self.tokens) + 1}"
            self.tokens[key] = account_id
            self.accounts[account_id]["tokens"] += 1
            return 200, {"id": len(self.tokens), "name": body["name"], "key": key}
        return 404, {"message": "Not found"}


@pytest.fixture
def grafana() -> Iterator[StandInGrafana]:
    stand_in = StandInGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = stand_in.answer(self.command, self.path,
                                             self.headers.get("Authorization", ""), body)  # fmt: skip
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()
    server.server_close()


def run_job(grafana: StandInGrafana, token_file: Path, password: str = "s3cret") -> subprocess.CompletedProcess[str]:
    """The job with compose's environment, pointed at the stand-in and a scratch token file."""
    env = {k: str(v) for k, v in COMPOSE["grafana-token"]["environment"].items()}
    env.update(GRAFANA_URL=grafana.url, GRAFANA_ADMIN_PASSWORD=password,
               GRAFANA_TOKEN_FILE=str(token_file), GRAFANA_WAIT_SECONDS="5",
               PATH=os.environ.get("PATH", ""))  # fmt: skip
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def test_the_job_creates_an_editor_service_account_and_writes_its_token(
    grafana: StandInGrafana, tmp_path: Path
) -> None:
    token_file = tmp_path / "run/ai-logs/grafana-token"
    done = run_job(grafana, token_file)
    assert done.returncode == 0, done.stderr
    [account] = grafana.accounts.values()
    assert (account["name"], account["role"]) == ("ai-logs-analyzer", "Editor")
    assert token_file.read_text().strip() in grafana.tokens
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_rerun_keeps_a_token_grafana_still_accepts(grafana: StandInGrafana, tmp_path: Path) -> None:
    token_file = tmp_path / "grafana-token"
    run_job(grafana, token_file)
    first = token_file.read_text()
    assert run_job(grafana, token_file).returncode == 0
    assert token_file.read_text() == first
    assert len(grafana.tokens) == 1


def test_a_token_grafana_no_longer_accepts_is_replaced_on_the_same_account(
    grafana: StandInGrafana, tmp_path: Path
) -> None:
    token_file = tmp_path / "grafana-token"
    run_job(grafana, token_file)
    token_file.write_text("glsa_revoked\n")
    assert run_job(grafana, token_file).returncode == 0
    assert token_file.read_text().strip() in grafana.tokens
    assert len(grafana.accounts) == 1 and len(grafana.tokens) == 2


def test_wrong_admin_credentials_fail_the_job_with_the_reason(
    grafana: StandInGrafana, tmp_path: Path
) -> None:
    done = run_job(grafana, tmp_path / "grafana-token", password="wrong")
    assert done.returncode == 1
    assert "answered 401" in done.stderr
    assert not (tmp_path / "grafana-token").exists()


def test_the_analyzer_reads_the_token_the_job_wrote(grafana: StandInGrafana, tmp_path: Path) -> None:
    token_file = tmp_path / "grafana-token"
    run_job(grafana, token_file)
    for service in ("analyzer", "worker"):
        # as compose interpolates them with nothing set in the shell: `${X:-d}` becomes d
        env = {
            k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v))
            for k, v in COMPOSE[service]["environment"].items()
        }
        env["GRAFANA_TOKEN_FILE"] = str(token_file)
        assert load_settings(env).grafana_token == token_file.read_text().strip()


def test_a_grafana_token_set_directly_wins_over_the_file(tmp_path: Path) -> None:
    token_file = tmp_path / "grafana-token"
    token_file.write_text("from-file\n")
    env = {"GRAFANA_TOKEN": "from-env", "GRAFANA_TOKEN_FILE": str(token_file)}
    assert load_settings(env).grafana_token == "from-env"


def test_an_unreadable_token_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"GRAFANA_TOKEN_FILE=.* cannot be read"):
        load_settings({"GRAFANA_TOKEN_FILE": str(tmp_path / "missing")})


# ---- how compose wires it ----


def test_compose_passes_the_token_file_to_analyzer_and_worker() -> None:
    job = COMPOSE["grafana-token"]
    path = job["environment"]["GRAFANA_TOKEN_FILE"]
    [volume] = [v for v in job["volumes"] if v.startswith("grafana-token:")]
    mount = volume.split(":")[1]
    assert path.startswith(mount + "/")
    for service in ("analyzer", "worker"):
        assert COMPOSE[service]["environment"]["GRAFANA_TOKEN_FILE"] == path
        assert f"grafana-token:{mount}:ro" in COMPOSE[service]["volumes"]
    assert COMPOSE["analyzer"]["depends_on"]["grafana-token"]["condition"] == (
        "service_completed_successfully"
    )
    assert job["depends_on"]["grafana"]["condition"] == "service_healthy"


def test_the_job_runs_the_script_compose_mounts() -> None:
    job = COMPOSE["grafana-token"]
    [mount] = [v for v in job["volumes"] if v.endswith(":ro") and v.startswith("./")]
    source, target = mount.split(":")[:2]
    assert (ROOT / "provisioning" / source).resolve() == SCRIPT
    assert job["command"] == ["python", target]
    assert job["image"] == COMPOSE["analyzer"]["image"]


def test_the_image_lets_its_user_write_the_token_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    mount = COMPOSE["grafana-token"]["environment"]["GRAFANA_TOKEN_FILE"].rsplit("/", 1)[0]
    assert re.search(rf"mkdir -p [^\n]*{re.escape(mount)}", dockerfile)
    assert re.search(rf"chown ailogs:ailogs [^\n]*{re.escape(mount)}", dockerfile)
    assert re.findall(r"^USER (\S+)", dockerfile, re.M)[-1] == "ailogs"
