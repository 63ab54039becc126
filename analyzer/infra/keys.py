"""API keys: stored as sha256 hashes in a YAML file, each with a name, tenants, scopes, limits.

An entry may instead name an environment variable (`key_env`) that holds the key, for
containers that receive it as a secret (docker-compose, Kubernetes); it is hashed on load.

The file is re-read when it changes, so `ai-logs keys create` takes effect without a restart.
A key is never stored or logged in clear; only its name appears in logs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analyzer.config import Settings

SCOPES = ("query", "stream", "webhook", "admin")
KEY_PREFIX = "ailk_"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    tenants: tuple[str, ...]
    scopes: tuple[str, ...]
    limits: dict[str, int] = field(default_factory=dict)  # endpoint or "default" -> per hour

    @property
    def identity(self) -> str:
        return f"key:{self.name}"

    def sole_tenant(self, default: str) -> str | None:
        """The one tenant this key acts for where a caller may not choose (a webhook's alerts):
        its only tenant, the default when it lists none, None when it holds several or all."""
        if not self.tenants:
            return default
        if len(self.tenants) == 1 and self.tenants[0] != "*":
            return self.tenants[0]
        return None


def _entry_digest(entry: dict[str, Any]) -> str | None:
    """`sha256: <hex>`, or `key_env: VAR` for deployments that inject the key as a secret."""
    if "sha256" in entry:
        return str(entry["sha256"]).lower()
    value = os.environ.get(str(entry.get("key_env", "")))
    return hash_key(value) if value else None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyStore:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._by_hash: dict[str, Principal] = {}

    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._by_hash, self._stamp = {}, None
            return
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return
        data = yaml.safe_load(self.path.read_text()) or {}
        table: dict[str, Principal] = {}
        for entry in data.get("keys", []):
            scopes = tuple(entry.get("scopes") or ("query",))
            unknown = set(scopes) - set(SCOPES)
            if unknown:
                raise ValueError(
                    f"{self.path}: key {entry.get('name')!r} has unknown scopes {sorted(unknown)}"
                )
            digest = _entry_digest(entry)
            if digest is None:
                continue  # key_env names a variable that is not set: the key does not exist
            table[digest] = Principal(
                name=str(entry["name"]),
                tenants=tuple(str(t) for t in entry.get("tenants") or ()),
                scopes=scopes,
                limits={str(k): int(v) for k, v in (entry.get("limits") or {}).items()},
            )
        self._by_hash, self._stamp = table, stamp

    def lookup(self, presented: str) -> Principal | None:
        with self._lock:
            self._load()
            return self._by_hash.get(hash_key(presented))

    def add(
        self,
        name: str,
        tenants: list[str],
        scopes: list[str],
        limits: dict[str, int] | None = None,
    ) -> str:
        """Create a key, store its hash, return the key (shown once, never again)."""
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; use {', '.join(SCOPES)}")
        key = new_key()
        with self._lock:
            data: dict[str, Any] = {"keys": []}
            if self.path.exists():
                data = yaml.safe_load(self.path.read_text()) or {"keys": []}
            if any(e.get("name") == name for e in data.get("keys", [])):
                raise ValueError(f"a key named {name!r} exists already")
            entry: dict[str, Any] = {
                "name": name,
                "sha256": hash_key(key),
                "tenants": tenants,
                "scopes": scopes,
            }
            if limits:
                entry["limits"] = limits
            data.setdefault("keys", []).append(entry)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(yaml.safe_dump(data, sort_keys=False))
            os.chmod(tmp, 0o600)
            tmp.replace(self.path)
            self._stamp = None
        return key


def open_key_store(settings: Settings) -> KeyStore | None:
    return KeyStore(settings.api_keys_file) if settings.api_keys_file else None
