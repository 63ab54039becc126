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
    data_dir: str = "var"  # SQLite spool, registry and results when Redis is absent
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
    webhook_secret: str | None = None
    webhook_auth: str | None = None  # "Bearer x" or "user:password"
    webhook_timestamp_header: str | None = None
    webhook_signature_headers: tuple[str, ...] = (
        "X-Grafana-Alerting-Signature",
        "X-Grafana-Alert-Signature",
    )
    webhook_lookback: str = "30m"
    job_max_attempts: int = 5
    job_claim_idle_seconds: int = 60
    patterns_file: str | None = None  # user catalog extension
    prices_file: str | None = None  # model price overrides
    file_clock: str = "latest"  # relative windows over files end at the newest line ("wall": now)
    formats: Any = None  # declared log formats and the zone of times without one (README)
    embedded_worker: bool = True
    host: str = "127.0.0.1"
    port: int = 8080

    @property
    def open_mode(self) -> bool:
        """No keys file: the service runs unauthenticated and only on loopback."""
        return not self.api_keys_file

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_ENV = {
    "LOKI_URL": "loki_url",
    "REDIS_URL": "redis_url",
    "AI_LOGS_API_KEYS_FILE": "api_keys_file",
    "GRAFANA_URL": "grafana_url",
    "GRAFANA_TOKEN": "grafana_token",
    "AI_LOGS_GRAFANA_LOKI_UID": "grafana_loki_uid",
    "AI_LOGS_SOURCE": "source_path",
    "AI_LOGS_CACHE_TTL": "cache_ttl",
    "AI_LOGS_RATE_LIMIT": "rate_limit_per_hour",
    "AI_LOGS_DATA_DIR": "data_dir",
    "AI_LOGS_WEBHOOK_SECRET": "webhook_secret",
    "AI_LOGS_WEBHOOK_AUTH": "webhook_auth",
    "AI_LOGS_WEBHOOK_TIMESTAMP_HEADER": "webhook_timestamp_header",
    "AI_LOGS_PATTERNS_FILE": "patterns_file",
    "AI_LOGS_PRICES_FILE": "prices_file",
    "AI_LOGS_DEFAULT_TENANT": "default_tenant",
    "AI_LOGS_FILE_CLOCK": "file_clock",
    "AI_LOGS_LOKI_SELECTOR": "loki_selector",
}


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
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
