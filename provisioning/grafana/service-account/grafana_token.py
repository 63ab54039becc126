"""Give the analyzer a Grafana service-account token, written where it reads it.

Grafana provisions datasources, dashboards and alerting from files, but not service accounts, so
compose runs this once Grafana is healthy (the `grafana-token` service). Through Grafana's HTTP
API, as the admin: find or create the service account (role Editor, the basic role that may
write annotations), add a token, and write its key to `GRAFANA_TOKEN_FILE` (mode 0600), which
the analyzer and its worker read at start. A token already in the file that Grafana still
accepts is kept, so a restart does not pile up tokens.

Standard library only: it runs on any Python 3.9+ (the analyzer's image in compose).

Environment: GRAFANA_URL, GRAFANA_ADMIN_USER (admin), GRAFANA_ADMIN_PASSWORD, GRAFANA_TOKEN_FILE,
GRAFANA_SERVICE_ACCOUNT (ai-logs-analyzer), GRAFANA_WAIT_SECONDS (120).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROLE = "Editor"  # Grafana OSS has basic roles only; Viewer cannot write annotations


class GrafanaRefused(RuntimeError):
    pass


def call(base: str, method: str, path: str, auth: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base.rstrip("/") + path, data=data, method=method,
        headers={"Authorization": auth, "Content-Type": "application/json",
                 "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode() or "null"
            return response.status, json.loads(text)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:300]


def wait_for(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/api/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise GrafanaRefused(f"Grafana at {base} did not answer /api/health in {seconds:g}s")
        time.sleep(1)


def still_valid(base: str, token_file: Path) -> bool:
    if not token_file.is_file():
        return False
    token = token_file.read_text().strip()
    if not token:
        return False
    status, _ = call(base, "GET", "/api/search?limit=1", f"Bearer {token}")
    return status == 200


def service_account_id(base: str, admin: str, name: str) -> int:
    query = urllib.parse.urlencode({"query": name, "perpage": 100, "page": 1})
    status, found = call(base, "GET", f"/api/serviceaccounts/search?{query}", admin)
    if status != 200:
        raise GrafanaRefused(f"searching service accounts answered {status}: {found}")
    for account in found.get("serviceAccounts") or []:
        if account.get("name") == name:
            return int(account["id"])
    status, created = call(base, "POST", "/api/serviceaccounts", admin,
                           {"name": name, "role": ROLE, "isDisabled": False})
    if status not in (200, 201):
        raise GrafanaRefused(f"creating service account {name} answered {status}: {created}")
    return int(created["id"])


def new_token(base: str, admin: str, account: int, name: str) -> str:
    token_name = f"{name}-{int(time.time())}"
    status, token = call(base, "POST", f"/api/serviceaccounts/{account}/tokens", admin,
                         {"name": token_name})
    if status not in (200, 201) or not isinstance(token, dict) or not token.get("key"):
        raise GrafanaRefused(f"creating token {token_name} answered {status}: {token}")
    return str(token["key"])


def write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    os.replace(scratch, path)


def main() -> int:
    base = os.environ.get("GRAFANA_URL", "http://grafana:3000")
    user = os.environ.get("GRAFANA_ADMIN_USER", "admin")
    password = os.environ.get("GRAFANA_ADMIN_PASSWORD", "admin")
    token_file = Path(os.environ.get("GRAFANA_TOKEN_FILE", "/run/ai-logs/grafana-token"))
    name = os.environ.get("GRAFANA_SERVICE_ACCOUNT", "ai-logs-analyzer")
    admin = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        wait_for(base, float(os.environ.get("GRAFANA_WAIT_SECONDS", "120")))
        if still_valid(base, token_file):
            print(f"grafana-token: the token in {token_file} is still valid", file=sys.stderr)
            return 0
        account = service_account_id(base, admin, name)
        write_secret(token_file, new_token(base, admin, account, name))
    except GrafanaRefused as exc:
        print(f"grafana-token: {exc}", file=sys.stderr)
        return 1
    print(f"grafana-token: wrote a token of service account {name} to {token_file}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
