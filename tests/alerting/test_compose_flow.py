"""The shipped alert flow, end to end without Docker.

The analyzer and the worker start as provisioning/docker-compose.yml starts them: the image's
command (the Dockerfile's gunicorn CMD, the worker service's `ai-logs worker`) with the image's
environment and the service's, `${VAR}` filled in from a test `.env`, bind mounts pointing at
the repository's files and named volumes at one directory per volume. The other services are
stand-ins on loopback: a real redis-server, the recorded Loki 3.5 (tests/loki), and an HTTP
server answering Grafana's annotations API. Grafana's side of the flow is the provisioned contact
point (provisioning/grafana/alerting/contact-points.yaml): its URL path and credentials.

The alert is Grafana's notifier test message (tests/fixtures/grafana_webhook/, see its README)
for the shipped dashboard's panel 2, aimed at the recorded Loki's error lines; metric queries get
recorded metric answers of the right kind (the wiring is under test here, not the analysis).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import yaml
from alert_helpers import GrafanaStub, load_payload, recorded_loki_server, retarget, start_grafana

from bench.gunicorn_process import start_gunicorn

REPO = Path(__file__).resolve().parents[2]
PROVISIONING = REPO / "provisioning"
DOT_ENV = {  # what an operator puts in provisioning/.env
    "AI_LOGS_GRAFANA_API_KEY": "ailk_compose-datasource-key",
    "AI_LOGS_WEBHOOK_TOKEN": "compose-webhook-token",
    "GRAFANA_TOKEN": "glsa_compose-service-account",
    "AI_LOGS_PUBLIC_URL": "http://192.0.2.10:8080",
    "GF_ADMIN_PASSWORD": "admin",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def substitute(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise AssertionError(f"compose needs {name}: {rest}")
        return rest or ""

    return _VARIABLE.sub(one, value)


def image_env() -> dict[str, str]:
    """The Dockerfile's ENV instruction(s): `KEY=value` pairs, continued lines joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(dict(item.split("=", 1) for item in line[4:].split()))
    return pairs


def image_cmd() -> list[str]:
    line = next(x for x in (REPO / "Dockerfile").read_text().splitlines() if x.startswith("CMD "))
    return json.loads(line[4:])


@dataclass
class ComposeStack:
    compose: dict[str, Any]
    analyzer_url: str
    grafana: GrafanaStub
    loki: Any
    env: dict[str, str]

    def send_alert(self, payload: dict[str, Any]) -> httpx.Response:
        """As the provisioned contact point sends it."""
        points = yaml.safe_load((PROVISIONING / "grafana" / "alerting" / "contact-points.yaml").read_text())
        settings = points["contactPoints"][0]["receivers"][0]["settings"]
        credential = substitute(settings["authorization_credentials"], DOT_ENV)
        return httpx.post(self.analyzer_url + urlparse(settings["url"]).path, json=payload,
                          headers={"Authorization": f"{settings['authorization_scheme']} {credential}"},
                          timeout=30)

    def analysis(self, analysis_id: str) -> dict[str, Any]:
        """As Grafana's datasource key reads it (provisioning/analyzer/keys.yaml)."""
        return httpx.get(f"{self.analyzer_url}/api/v1/ai_logs/analyses/{analysis_id}",
                         headers={"X-API-Key": DOT_ENV["AI_LOGS_GRAFANA_API_KEY"]}, timeout=30).json()


def service_env(compose: dict[str, Any], name: str, stand_ins: dict[str, str], volumes: Path) -> dict[str, str]:
    """The container's environment with addresses and paths of this machine."""
    service = compose["services"][name]
    mounts: dict[str, str] = {}
    for volume in service.get("volumes") or []:
        source, target = volume.split(":")[:2]
        on_host = PROVISIONING / source if source.startswith(".") else volumes / source
        mounts[target] = str(on_host.resolve())
    env = {**image_env(), **{k: substitute(str(v), DOT_ENV) for k, v in service["environment"].items()}}
    for key, value in env.items():
        host = urlparse(value).netloc
        if host in stand_ins:
            env[key] = value.replace(host, stand_ins[host], 1)
        elif value.startswith("/"):
            mounted = next((m for m in mounts if value == m or value.startswith(m + "/")), None)
            env[key] = mounts[mounted] + value[len(mounted):] if mounted else str(volumes / name / value.strip("/"))
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[ComposeStack]:
    import redis

    compose = yaml.safe_load((PROVISIONING / "docker-compose.yml").read_text())
    grafana = start_grafana()
    server_module = recorded_loki_server()
    loki = server_module.RecordedLoki(
        [json.loads(p.read_text()) for p in sorted(server_module.LOKI_FIXTURES.glob("*.json"))],
        pages_from=server_module.load_exchange("query_range_json_level_error"),
    )
    loki.answer_metrics_by_kind()
    loki_server = server_module._QuietServer(("127.0.0.1", 0), server_module._handler(loki))
    threading.Thread(target=loki_server.serve_forever, args=(0.02,), daemon=True).start()
    if redis_server.proc is None:
        redis_server.start()
    redis.Redis.from_url(redis_server.url).flushdb()
    stand_ins = {
        "loki:3100": f"127.0.0.1:{loki_server.server_address[1]}",
        "redis:6379": f"127.0.0.1:{redis_server.port}",
        "grafana:3000": f"127.0.0.1:{grafana.port}",
    }
    volumes = tmp_path_factory.mktemp("compose-volumes")
    analyzer_env = service_env(compose, "analyzer", stand_ins, volumes)
    worker_env = service_env(compose, "worker", stand_ins, volumes)
    for env in (analyzer_env, worker_env):
        for path_var in ("AI_LOGS_DATA_DIR", "PROMETHEUS_MULTIPROC_DIR"):
            Path(env[path_var]).mkdir(parents=True, exist_ok=True)
    assert image_cmd()[:3] == ["gunicorn", "-c", "python:analyzer.gunicorn_conf"]
    url, gunicorn = start_gunicorn(analyzer_env)
    command = compose["services"]["worker"]["command"]
    assert command == ["ai-logs", "worker"]
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name(command[0])), *command[1:]],
        cwd=volumes, env={**{k: v for k, v in os.environ.items() if k not in DOT_ENV}, **worker_env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield ComposeStack(compose, url, grafana, loki, analyzer_env)
    worker.terminate()
    gunicorn.terminate()
    worker.wait(timeout=10)
    gunicorn.wait(timeout=10)
    loki_server.shutdown()
    assert grafana.server is not None
    grafana.server.shutdown()


def shipped_dashboard_uid() -> str:
    return json.loads((PROVISIONING / "grafana" / "dashboards" / "ai-logs-analysis.json").read_text())["uid"]


def alert_on_panel(panel_id: int, fingerprint: str) -> dict[str, Any]:
    payload = retarget(load_payload("alerting_single_firing.json"), starts_at="2026-11-24T05:20:00Z",
                       labels={"service": "api"})
    alert = payload["alerts"][0]
    alert["fingerprint"] = fingerprint
    alert["dashboardURL"] = f"http://localhost:3000/d/{shipped_dashboard_uid()}?orgId=1"
    alert["panelURL"] = f"{alert['dashboardURL']}&viewPanel=panel-{panel_id}"
    payload["externalURL"] = "http://localhost:3000/"
    return payload


def wait_for_status(stack: ComposeStack, analysis_id: str, seconds: float = 60) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record = stack.analysis(analysis_id)
        if record.get("status") in ("done", "failed") and record["annotation"]["status"] not in ("pending", "retrying"):
            return record
        time.sleep(1.0)  # within the key's rate limit however long the analysis takes
    raise AssertionError(f"analysis {analysis_id} did not finish: {record}")


def test_the_annotation_carries_the_token_the_panel_and_a_public_report_link(stack: ComposeStack) -> None:
    accepted = stack.send_alert(alert_on_panel(2, "c0ffee0000000001"))
    assert accepted.status_code == 202, accepted.text
    analysis_id = accepted.json()["analysis_id"]

    record = wait_for_status(stack, analysis_id)

    assert record["status"] == "done" and record["annotation"]["status"] == "done"
    [posted] = [r for r in stack.grafana.annotations("POST") if analysis_id in r["json"]["text"]]
    assert posted["headers"]["Authorization"] == f"Bearer {DOT_ENV['GRAFANA_TOKEN']}"
    assert posted["json"]["dashboardUID"] == shipped_dashboard_uid()
    assert posted["json"]["panelId"] == 2
    public = stack.env["AI_LOGS_PUBLIC_URL"]
    assert f'href="{public}/reports/{analysis_id}"' in posted["json"]["text"]
    assert record["report_url"] == f"{public}/reports/{analysis_id}"
    assert {r.headers.get("x-scope-orgid") for r in stack.loki.requests} == {"fake"}  # the key's tenant


def test_the_analysis_is_done_when_grafana_refuses_the_annotation(stack: ComposeStack) -> None:
    stack.grafana.fail_with = 401
    try:
        accepted = stack.send_alert(alert_on_panel(2, "c0ffee0000000002"))
        record = wait_for_status(stack, accepted.json()["analysis_id"])
    finally:
        stack.grafana.fail_with = None

    assert record["status"] == "done" and record["result"]["summary"]["total_records"] > 0
    assert record["annotation"]["status"] == "failed"
    assert "Grafana answered 401" in record["annotation"]["error"]
