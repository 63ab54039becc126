"""The provisioned stack, checked structurally (no Docker engine here): compose services,
images and healthchecks, the files they mount, Loki/Prometheus/Grafana settings, the app
bundle and the Dockerfile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "provisioning"


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


COMPOSE = _yaml("provisioning/docker-compose.yml")
SERVICES = COMPOSE["services"]


@pytest.mark.parametrize("service, image", [
    ("loki", "grafana/loki:3.5.0"), ("alloy", "grafana/alloy:v1.8.1"),
    ("grafana", "grafana/grafana:12.0.2"), ("redis", "redis:7-alpine"),
])
def test_compose_pins_the_stack_versions(service: str, image: str) -> None:
    assert SERVICES[service]["image"] == image


def test_prometheus_is_pinned_and_receives_remote_write() -> None:
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", SERVICES["prometheus"]["image"])
    assert "--web.enable-remote-write-receiver" in SERVICES["prometheus"]["command"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_a_healthcheck(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]


def test_analyzer_and_worker_come_from_the_dockerfile() -> None:
    build = SERVICES["analyzer"]["build"]
    assert (PROVISIONING / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert SERVICES["worker"]["image"] == SERVICES["analyzer"]["image"]
    assert SERVICES["worker"]["command"] == ["ai-logs", "worker"]


def test_grafana_preinstalls_a_pinned_json_datasource_plugin() -> None:
    environment = SERVICES["grafana"]["environment"]
    assert "GF_INSTALL_PLUGINS" not in environment  # deprecated and unpinned
    assert re.fullmatch(r"simpod-json-datasource@\d+\.\d+\.\d+",
                        environment["GF_PLUGINS_PREINSTALL_SYNC"])


def test_alloy_ships_the_logs_with_the_alloy_pipeline() -> None:
    alloy = SERVICES["alloy"]
    mounts = dict(v.split(":")[:2] for v in alloy["volumes"])
    config = mounts["../promtail/config.alloy"]
    assert alloy["command"][0] == "run" and alloy["command"][-1] == config
    assert mounts["ai-agent-logs"] == "/var/log/ai-agents"
    assert "promtail" not in SERVICES
    assert (ROOT / "promtail/promtail-config.yaml").is_file()  # kept for Promtail users


def test_prometheus_scrapes_alloy_where_it_listens() -> None:
    config = _yaml("provisioning/prometheus/prometheus.yml")
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "alloy"]
    listen = next(a for a in SERVICES["alloy"]["command"] if a.startswith("--server.http"))
    assert job["static_configs"][0]["targets"] == [f"alloy:{listen.rsplit(':', 1)[1]}"]


def test_grafana_mounts_the_app_bundle_allows_it_unsigned_and_enables_it() -> None:
    grafana = SERVICES["grafana"]
    plugin_id = json.loads((ROOT / "grafana_app/plugin.json").read_text())["id"]
    assert f"../grafana_app:/var/lib/grafana/plugins/{plugin_id}:ro" in grafana["volumes"]
    assert plugin_id in grafana["environment"]["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"]
    apps = _yaml("provisioning/grafana/plugins/apps.yaml")["apps"]
    assert {"type": plugin_id, "org_id": 1, "disabled": False} in apps
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert mounts["./grafana/plugins"] == "/etc/grafana/provisioning/plugins"


def _bind_mounts() -> list[tuple[str, str]]:
    mounts = []
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                mounts.append((source, target))
    return mounts


@pytest.mark.parametrize("source, target", _bind_mounts())
def test_every_mounted_file_exists(source: str, target: str) -> None:
    assert (PROVISIONING / source).exists(), f"{source} (mounted at {target})"


def test_named_volumes_are_declared() -> None:
    named = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", [])
             if not v.startswith((".", "/"))}
    assert named <= set(COMPOSE["volumes"])


def test_loki_reads_the_ruler_rules_where_compose_mounts_them() -> None:
    loki = _yaml("provisioning/loki/loki-config.yaml")
    mount = dict(_bind_mounts())["../ruler_rules"]
    assert loki["ruler"]["storage"] == {"type": "local", "local": {"directory": mount}}
    assert loki["ruler"]["remote_write"]["enabled"] is True
    url = loki["ruler"]["remote_write"]["clients"]["prometheus"]["url"]
    assert url == "http://prometheus:9090/api/v1/write"


def test_loki_config_has_the_infrastructure_figures() -> None:
    loki = _yaml("provisioning/loki/loki-config.yaml")
    [schema] = loki["schema_config"]["configs"]
    limits = loki["limits_config"]
    assert (schema["store"], schema["schema"]) == ("tsdb", "v13")
    assert (limits["retention_period"], limits["ingestion_rate_mb"]) == ("168h", 16)
    assert limits["allow_structured_metadata"] is True
    assert loki["compactor"]["retention_enabled"] is True
    assert loki["pattern_ingester"]["enabled"] is True


def test_prometheus_scrapes_the_analyzer_metrics() -> None:
    config = _yaml("provisioning/prometheus/prometheus.yml")
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "ai-logs-analyzer"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["analyzer:8080"]


def test_prometheus_rules_include_the_seed_alerts() -> None:
    rules = _yaml("provisioning/prometheus/rules/ai-logs-analyzer.yml")
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"HighAILogQueryLatency", "AILogPatternDetectionSpike", "AILogsAnalyzerErrorRate"} \
        <= alerts


def test_the_json_datasource_points_at_the_analyzer_with_a_key_from_the_environment() -> None:
    sources = {s["uid"]: s for s in
               _yaml("provisioning/grafana/datasources/datasources.yaml")["datasources"]}
    analyzer = sources["ai-logs-analyzer"]
    assert analyzer["type"] == "simpod-json-datasource"
    assert analyzer["url"] == "http://analyzer:8080/grafana"
    header = analyzer["jsonData"]["httpHeaderName1"]
    value = analyzer["secureJsonData"]["httpHeaderValue1"]
    assert header == "X-API-Key" and value.startswith("$")
    assert value.strip("${}") in SERVICES["grafana"]["environment"]


def test_the_webhook_contact_point_posts_to_the_analyzer_with_a_token_from_the_env() -> None:
    points = _yaml("provisioning/grafana/alerting/contact-points.yaml")["contactPoints"]
    [receiver] = points[0]["receivers"]
    assert receiver["settings"]["url"] == "http://analyzer:8080/webhooks/grafana"
    token = receiver["settings"]["authorization_credentials"]
    assert token.strip("${}") in SERVICES["grafana"]["environment"]


def _dashboard() -> dict:
    return json.loads((PROVISIONING / "grafana/dashboards/ai-logs-analysis.json").read_text())


def test_dashboard_has_the_seed_panels_and_the_analyzer_panels() -> None:
    titles = {p["title"] for p in _dashboard()["panels"]}
    assert {"Query volume by mode", "Pattern detection rate", "AI request p95 duration",
            "Top error patterns", "Insights", "Narrative summary", "Correlation graph",
            "Conversations", "Workspace cost"} <= titles


def test_analyzer_panels_use_the_datasource_targets() -> None:
    targets = {t["target"] for p in _dashboard()["panels"] for t in p.get("targets", [])
               if t["datasource"]["uid"] == "ai-logs-analyzer"}
    assert targets == {"insights", "narrative", "top_patterns", "pattern_occurrences",
                       "correlation_graph", "conversations", "workspace_costs", "token_usage",
                       "cost"}


def test_the_correlation_graph_follows_the_correlation_id_variable() -> None:
    dashboard = _dashboard()
    [graph] = [p for p in dashboard["panels"] if p["type"] == "nodeGraph"]
    assert graph["targets"][0]["payload"] == {"correlation_id": "$correlation_id"}
    assert "correlation_id" in {v["name"] for v in dashboard["templating"]["list"]}


def test_the_app_bundle_ships_the_dashboards_for_grafana_12() -> None:
    plugin = json.loads((ROOT / "grafana_app/plugin.json").read_text())
    assert plugin["type"] == "app" and plugin["id"].endswith("-app")
    assert plugin["dependencies"]["grafanaDependency"] == ">=12.0.0"
    assert "simpod-json-datasource" in {p["id"] for p in plugin["dependencies"]["plugins"]}
    shipped = [i["path"] for i in plugin["includes"] if i["type"] == "dashboard"]
    assert [json.loads((ROOT / "grafana_app" / p).read_text())["uid"] for p in shipped] == [
        _dashboard()["uid"]]


def test_the_app_dashboard_include_has_the_uid_grafana_needs_for_its_nav_entry() -> None:
    plugin = json.loads((ROOT / "grafana_app/plugin.json").read_text())
    [include] = [i for i in plugin["includes"] if i["type"] == "dashboard"]
    assert include["defaultNav"] is True and include["uid"] == _dashboard()["uid"]


def test_the_app_depends_on_no_core_plugin() -> None:
    """plugin.json's schema: dependency ids look like org-name-type; core datasources (loki,
    prometheus) are no dependency and fail the pattern."""
    plugin = json.loads((ROOT / "grafana_app/plugin.json").read_text())
    for dependency in plugin["dependencies"]["plugins"]:
        assert re.fullmatch(r"[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager)",
                            dependency["id"])
        assert {"id", "name", "type", "version"} <= set(dependency)


def _alert_rules() -> list[dict]:
    groups = _yaml("provisioning/grafana/alerting/alert-rules.yaml")["groups"]
    return [r for g in groups for r in g["rules"]]


@pytest.mark.parametrize("rule", _alert_rules(), ids=lambda r: r["uid"])
def test_each_grafana_alert_rule_links_a_panel_of_the_dashboard(rule: dict) -> None:
    dashboard = _dashboard()
    assert rule["dashboardUid"] == dashboard["uid"]
    assert rule["panelId"] in {p["id"] for p in dashboard["panels"] if p["type"] != "row"}


def test_the_dashboard_shows_the_analyzers_annotations_by_tag() -> None:
    queries = _dashboard()["annotations"]["list"]
    [by_tag] = [q for q in queries if q.get("target", {}).get("type") == "tags"]
    assert by_tag["enable"] is True and by_tag["datasource"]["uid"] == "-- Grafana --"
    assert by_tag["target"]["tags"] == ["ai-analysis"]
    worker = (ROOT / "analyzer/worker.py").read_text()
    assert 'tags=["ai-analysis"' in worker  # the tag the worker puts on its annotations
    assert any(q.get("type") == "dashboard" for q in queries)  # and the dashboard's own


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_image_is_slim_python_running_as_a_non_root_user() -> None:
    assert DOCKERFILE.startswith("# ") and "FROM python:3.11-slim" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1] not in ("root", "0")


def test_the_image_serves_with_gunicorn_gthread_and_checks_health_with_python() -> None:
    assert '"gunicorn", "-c", "python:analyzer.gunicorn_conf"' in DOCKERFILE
    from analyzer import gunicorn_conf

    assert gunicorn_conf.worker_class == "gthread" and gunicorn_conf.workers >= 2
    assert "analyzer.app:create_app()" in DOCKERFILE
    assert re.search(r"HEALTHCHECK .*\n.*python.*/healthz", DOCKERFILE)
    assert "PROMETHEUS_MULTIPROC_DIR=" in DOCKERFILE


def test_every_file_the_image_copies_exists() -> None:
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
