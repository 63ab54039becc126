"""Settings from the environment, an optional YAML file (`AI_LOGS_CONFIG`) and defaults.

Precedence: explicit overrides (CLI flags, tests) > environment > YAML file > defaults.
Every knob has a default so the embedded mode needs no configuration at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_LOGS_DIR = PACKAGE_DIR / "sample_logs"


def default_state_dir(env: dict[str, str] | None = None) -> str:
    """One per-user state directory (XDG), so a `serve` and a `worker` started in different
    directories share the spool, results and registry: `$XDG_STATE_HOME/ai-logs`, else
    `~/.local/state/ai-logs`."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "ai-logs")


@dataclass(frozen=True)
class Settings:
    loki_url: str | None = None
    source_path: str | None = None  # file/dir/glob; the bundled sample when neither is set
    redis_url: str | None = None
    api_keys_file: str | None = None
    grafana_url: str | None = None
    grafana_token: str | None = None
    grafana_loki_uid: str = "loki-ai-logs"  # the provisioned Loki datasource, for Explore links
    default_tenant: str = "fake"  # Loki's tenant when auth is off
    # SQLite spool, registry and results when Redis is absent
    data_dir: str = field(default_factory=default_state_dir)
    cache_ttl: int = 30  # seconds, for windows relative to now
    cache_ttl_absolute: int = 3600  # seconds, for windows that ended in the past
    cache_bucket_seconds: int = 10
    cache_max_entries: int = 512
    rate_limit_per_hour: int = 100
    rate_limits: dict[str, int] = field(default_factory=dict)  # endpoint -> per hour
    loki_timeout: float = 30.0
    loki_retries: int = 3
    loki_page_size: int = 5000
    loki_selector: str = '{service=~".+"}'  # the streams analyses read, e.g. {env="prod"}
    loki_max_query_bytes: int = 2 << 40  # a window holding more (Loki's index stats) is refused
    webhook_secret: str | None = None
    webhook_auth: str | None = None  # "Bearer x" or "user:password"
    webhook_timestamp_header: str | None = None
    webhook_signature_headers: tuple[str, ...] = (
        "X-Grafana-Alerting-Signature",
        "X-Grafana-Alert-Signature",
    )
    webhook_lookback: str = "30m"
    alert_max_window: str = "24h"  # an alert's analysis window is never longer
    public_url: str | None = None  # the analyzer as a browser reaches it, for report links
    job_max_attempts: int = 5  # failed runs of a job before it is dead-lettered
    job_max_deliveries: int = 20  # deliveries of any outcome (a job that kills its worker)
    job_claim_idle_seconds: int = 60
    patterns_file: str | None = None  # user catalog extension
    prices_file: str | None = None  # model price overrides
    file_clock: str = "latest"  # relative windows over files end at the newest line ("wall": now)
    formats: Any = None  # declared log formats and the zone of times without one (README)
    embedded_worker: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    # Loki behind a gateway or Grafana Cloud Logs (logcli's options and LOKI_* variables)
    loki_username: str | None = None
    loki_password: str | None = None
    loki_bearer_token: str | None = None
    loki_bearer_token_file: str | None = None
    loki_auth_header: str = "Authorization"
    loki_ca_cert: str | None = None
    loki_client_cert: str | None = None
    loki_client_key: str | None = None
    loki_tls_skip_verify: bool = False
    loki_service_label: str | None = None  # None: `service`, else `service_name`, per tenant
    # (public_url, above: the PII masker leaves URLs under it alone)
    max_query_time: float = 30.0  # seconds: one deadline per request, across retries and pages
    max_body_bytes: int = 2 * 1024 * 1024  # any request body; larger ones get a 413 at once
    loki_breaker_failures: int = 5  # consecutive Loki failures that open the circuit
    loki_breaker_reset: float = 30.0  # seconds the circuit stays open before one probe
    open_mode_rate_limit: int = 0  # per hour for loopback clients without keys; 0: unlimited
    # rollback switches
    enabled: bool = True  # false: every analysis endpoint answers 503, health stays up
    pattern_detection: bool = True  # false: pattern registry and /patterns off
    trace_propagation: bool = True  # false: X-Correlation-ID is not sent on to Loki

    @property
    def open_mode(self) -> bool:
        """No keys file: the service runs unauthenticated and only on loopback."""
        return not self.api_keys_file

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


# earlier entries lose to later ones: LOKI_URL over logcli's LOKI_ADDR, AI_LOGS_DEFAULT_TENANT
# over LOKI_ORG_ID
_ENV = {
    "LOKI_ADDR": "loki_url",
    "LOKI_ORG_ID": "default_tenant",
    "LOKI_URL": "loki_url",
    "REDIS_URL": "redis_url",
    "AI_LOGS_API_KEYS_FILE": "api_keys_file",
    "GRAFANA_URL": "grafana_url",
    "GRAFANA_TOKEN": "grafana_token",
    "AI_LOGS_GRAFANA_LOKI_UID": "grafana_loki_uid",
    "AI_LOGS_SOURCE": "source_path",
    "AI_LOGS_CACHE_TTL": "cache_ttl",
    "AI_LOGS_RATE_LIMIT_PER_HOUR": "rate_limit_per_hour",
    "AI_LOGS_RATE_LIMIT": "rate_limit_per_hour",  # wins over the longer name when both are set
    "AI_LOGS_DATA_DIR": "data_dir",
    "AI_LOGS_WEBHOOK_SECRET": "webhook_secret",
    "AI_LOGS_WEBHOOK_AUTH": "webhook_auth",
    "AI_LOGS_WEBHOOK_TIMESTAMP_HEADER": "webhook_timestamp_header",
    "AI_LOGS_PATTERNS_FILE": "patterns_file",
    "AI_LOGS_PRICES_FILE": "prices_file",
    "AI_LOGS_DEFAULT_TENANT": "default_tenant",
    "AI_LOGS_FILE_CLOCK": "file_clock",
    "AI_LOGS_LOKI_SELECTOR": "loki_selector",
    "AI_LOGS_LOKI_MAX_QUERY_BYTES": "loki_max_query_bytes",
    "AI_LOGS_PUBLIC_URL": "public_url",
    "AI_LOGS_ALERT_MAX_WINDOW": "alert_max_window",
    "LOKI_USERNAME": "loki_username",
    "LOKI_PASSWORD": "loki_password",
    "LOKI_BEARER_TOKEN": "loki_bearer_token",
    "LOKI_BEARER_TOKEN_FILE": "loki_bearer_token_file",
    "LOKI_AUTH_HEADER": "loki_auth_header",
    "LOKI_CA_CERT_PATH": "loki_ca_cert",
    "LOKI_CLIENT_CERT_PATH": "loki_client_cert",
    "LOKI_CLIENT_KEY_PATH": "loki_client_key",
    "LOKI_TLS_SKIP_VERIFY": "loki_tls_skip_verify",
    "AI_LOGS_LOKI_SERVICE_LABEL": "loki_service_label",
    "AI_LOGS_MAX_QUERY_TIME": "max_query_time",
    "AI_LOGS_MAX_BODY_BYTES": "max_body_bytes",
    "AI_LOGS_OPEN_MODE_RATE_LIMIT": "open_mode_rate_limit",
    "AI_LOGS_ENABLED": "enabled",
    "AI_LOGS_PATTERN_DETECTION": "pattern_detection",
    "TRACE_PROPAGATION_ENABLED": "trace_propagation",
}


# secrets injected as files (compose volumes, Docker/Kubernetes secrets): VAR_FILE names a file
# whose content is the value; the variable itself wins when both are set
_SECRET_FILES = {"GRAFANA_TOKEN_FILE": "grafana_token"}


def _read_secret(var: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{var}={path} cannot be read: {exc.strerror or exc}") from None


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    if value is None:
        return None
    if kind.startswith("int"):
        return int(value)
    if kind.startswith("float"):
        return float(value)
    if kind.startswith("bool"):
        return str(value).lower() in {"1", "true", "yes", "on"}
    if kind.startswith("tuple"):
        return tuple(value) if isinstance(value, list | tuple) else tuple(str(value).split(","))
    return value


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    config_file = env.get("AI_LOGS_CONFIG")
    if config_file:
        data = yaml.safe_load(Path(config_file).read_text()) or {}
        known = {f.name for f in fields(Settings)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update({k: _coerce(k, v) for k, v in data.items()})
    for var, name in _ENV.items():
        if env.get(var):
            values[name] = _coerce(name, env[var])
    for var, name in _SECRET_FILES.items():
        if env.get(var) and not values.get(name):
            values[name] = _read_secret(var, env[var]) or None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
