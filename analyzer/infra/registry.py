"""Detected patterns that persist: one small interface, a Redis and a SQLite backend.

A pattern's id is a hash of its tenant, type and regex, so detecting it again updates the same
entry. Counting: a detection that starts after the stored `last_seen` adds its lines; one that
overlaps (the same window analysed twice) keeps the larger count, so re-running a query does not
inflate totals. A resolved pattern that shows up again after its resolution is reopened, and
keeps its notes. Sample lines are PII-masked before they are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from analyzer.config import Settings
from analyzer.infra.privacy import mask_text
from analyzer.model import format_timestamp, now_ns

MAX_SAMPLES = 5
MAX_SERVICES = 50


@dataclass(slots=True)
class Detection:
    """One pattern as one analysis saw it."""

    pattern_type: str
    severity: str
    count: int
    first_seen_ns: int
    last_seen_ns: int
    services: list[str]
    samples: list[str]
    regex: str
    exclude: list[str] = field(default_factory=list)
    category: str = ""
    suggestion: str = ""
    title: str = ""


@dataclass(slots=True)
class PatternEntry:
    id: str
    tenant: str
    pattern_type: str
    severity: str
    occurrence_count: int
    first_seen_ns: int
    last_seen_ns: int
    affected_services: list[str]
    sample_logs: list[str]
    regex: str
    exclude: list[str] = field(default_factory=list)
    category: str = ""
    suggestion: str = ""
    title: str = ""
    resolved: bool = False
    resolution_notes: str = ""
    resolved_at_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pattern_type": self.pattern_type,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "occurrence_count": self.occurrence_count,
            "first_seen": format_timestamp(self.first_seen_ns),
            "last_seen": format_timestamp(self.last_seen_ns),
            "affected_services": self.affected_services,
            "sample_logs": self.sample_logs,
            "regex": self.regex,
            "exclude": self.exclude,
            "suggestion": self.suggestion,
            "resolved": self.resolved,
            "resolution_notes": self.resolution_notes,
            "resolved_at": format_timestamp(self.resolved_at_ns) if self.resolved_at_ns else None,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> PatternEntry:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class PatternFilter:
    pattern_type: str | None = None
    severity: str | None = None
    service: str | None = None
    resolved: bool | None = None

    def accepts(self, entry: PatternEntry) -> bool:
        return (
            (self.pattern_type is None or entry.pattern_type == self.pattern_type)
            and (self.severity is None or entry.severity == self.severity)
            and (self.service is None or self.service in entry.affected_services)
            and (self.resolved is None or entry.resolved == self.resolved)
        )


def pattern_id(tenant: str, pattern_type: str, regex: str) -> str:
    return hashlib.sha256(f"{tenant}\0{pattern_type}\0{regex}".encode()).hexdigest()[:16]


def merge(existing: PatternEntry | None, tenant: str, found: Detection) -> PatternEntry:
    samples = [mask_text(s) for s in found.samples]
    if existing is None:
        return PatternEntry(
            id=pattern_id(tenant, found.pattern_type, found.regex),
            tenant=tenant,
            pattern_type=found.pattern_type,
            severity=found.severity,
            occurrence_count=found.count,
            first_seen_ns=found.first_seen_ns,
            last_seen_ns=found.last_seen_ns,
            affected_services=sorted(set(found.services))[:MAX_SERVICES],
            sample_logs=list(dict.fromkeys(samples))[:MAX_SAMPLES],
            regex=found.regex,
            exclude=list(found.exclude),
            category=found.category,
            suggestion=found.suggestion,
            title=found.title,
        )
    later = found.first_seen_ns > existing.last_seen_ns
    count = existing.occurrence_count + found.count if later else max(existing.occurrence_count, found.count)
    reopened = existing.resolved and found.last_seen_ns > (existing.resolved_at_ns or 0)
    return replace(
        existing,
        severity=found.severity,
        occurrence_count=count,
        first_seen_ns=min(existing.first_seen_ns, found.first_seen_ns),
        last_seen_ns=max(existing.last_seen_ns, found.last_seen_ns),
        affected_services=sorted(set(existing.affected_services) | set(found.services))[:MAX_SERVICES],
        sample_logs=list(dict.fromkeys([*existing.sample_logs, *samples]))[:MAX_SAMPLES],
        resolved=existing.resolved and not reopened,
        title=found.title or existing.title,
    )


class PatternRegistry(Protocol):
    def record(self, tenant: str, found: Detection) -> PatternEntry: ...

    def get(self, tenant: str, pattern_id: str) -> PatternEntry | None: ...

    def list(
        self, tenant: str, where: PatternFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[PatternEntry], int]: ...

    def resolve(self, tenant: str, pattern_id: str, *, resolved: bool, notes: str) -> PatternEntry | None: ...


def _resolved(entry: PatternEntry, resolved: bool, notes: str) -> PatternEntry:
    return replace(
        entry,
        resolved=resolved,
        resolution_notes=notes if notes else entry.resolution_notes,
        resolved_at_ns=now_ns() if resolved else None,
    )


class RedisPatternRegistry:
    """One JSON value per pattern in a hash per tenant, ordered by a last-seen sorted set."""

    def __init__(self, client: Any, prefix: str = "ai-logs:patterns") -> None:
        self.client = client
        self.prefix = prefix

    def _keys(self, tenant: str) -> tuple[str, str]:
        return f"{self.prefix}:{tenant}:entries", f"{self.prefix}:{tenant}:by_last_seen"

    def record(self, tenant: str, found: Detection) -> PatternEntry:
        entries, order = self._keys(tenant)
        pid = pattern_id(tenant, found.pattern_type, found.regex)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(entries)
                    raw = pipe.hget(entries, pid)
                    entry = merge(PatternEntry.from_json(raw) if raw else None, tenant, found)
                    pipe.multi()
                    pipe.hset(entries, pid, entry.to_json())
                    pipe.zadd(order, {pid: entry.last_seen_ns})
                    pipe.execute()
                    return entry
                except _watch_error():
                    continue

    def get(self, tenant: str, pattern_id: str) -> PatternEntry | None:
        raw = self.client.hget(self._keys(tenant)[0], pattern_id)
        return PatternEntry.from_json(raw) if raw else None

    def list(
        self, tenant: str, where: PatternFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[PatternEntry], int]:
        entries, order = self._keys(tenant)
        ids = self.client.zrevrange(order, 0, -1)
        if not ids:
            return [], 0
        raws = self.client.hmget(entries, ids)
        matched = [e for e in (PatternEntry.from_json(r) for r in raws if r) if where.accepts(e)]
        return matched[offset : offset + limit], len(matched)

    def resolve(self, tenant: str, pattern_id: str, *, resolved: bool, notes: str) -> PatternEntry | None:
        entries, _ = self._keys(tenant)
        entry = self.get(tenant, pattern_id)
        if entry is None:
            return None
        entry = _resolved(entry, resolved, notes)
        self.client.hset(entries, pattern_id, entry.to_json())
        return entry


def _watch_error() -> type[Exception]:
    from redis.exceptions import WatchError

    return WatchError


class SqlitePatternRegistry:
    """The same store in one SQLite file (WAL) for deployments without Redis."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS patterns (tenant TEXT NOT NULL, id TEXT NOT NULL,"
                " last_seen_ns INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, id))"
            )
            db.execute("CREATE INDEX IF NOT EXISTS patterns_seen ON patterns (tenant, last_seen_ns)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def _read(self, db: sqlite3.Connection, tenant: str, pid: str) -> PatternEntry | None:
        row = db.execute("SELECT body FROM patterns WHERE tenant=? AND id=?", (tenant, pid)).fetchone()
        return PatternEntry.from_json(row[0]) if row else None

    def _write(self, db: sqlite3.Connection, entry: PatternEntry) -> None:
        db.execute(
            "INSERT OR REPLACE INTO patterns (tenant, id, last_seen_ns, body) VALUES (?, ?, ?, ?)",
            (entry.tenant, entry.id, entry.last_seen_ns, entry.to_json()),
        )

    def record(self, tenant: str, found: Detection) -> PatternEntry:
        pid = pattern_id(tenant, found.pattern_type, found.regex)
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                entry = merge(self._read(db, tenant, pid), tenant, found)
                self._write(db, entry)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return entry

    def get(self, tenant: str, pattern_id: str) -> PatternEntry | None:
        with self._connect() as db:
            return self._read(db, tenant, pattern_id)

    def list(
        self, tenant: str, where: PatternFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[PatternEntry], int]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM patterns WHERE tenant=? ORDER BY last_seen_ns DESC, id", (tenant,)
            ).fetchall()
        matched = [e for e in (PatternEntry.from_json(r[0]) for r in rows) if where.accepts(e)]
        return matched[offset : offset + limit], len(matched)

    def resolve(self, tenant: str, pattern_id: str, *, resolved: bool, notes: str) -> PatternEntry | None:
        with self._lock, self._connect() as db:
            entry = self._read(db, tenant, pattern_id)
            if entry is None:
                return None
            entry = _resolved(entry, resolved, notes)
            self._write(db, entry)
        return entry


def open_registry(settings: Settings, redis: Any | None) -> PatternRegistry:
    if redis is not None:
        return RedisPatternRegistry(redis)
    return SqlitePatternRegistry(Path(settings.data_dir) / "patterns.sqlite3")


def detections(analysis: Any) -> list[Detection]:
    """Named catalog patterns and novel templates of an `Analysis`, as registry detections."""
    found = []
    for insight in analysis.insights:
        extra = insight.evidence.extra
        if insight.kind == "pattern" and extra.get("regex"):
            regex, exclude = extra["regex"], list(extra.get("exclude") or [])
            ptype, category = extra["pattern_type"], extra.get("category", "")
        elif insight.kind == "anomaly" and extra.get("template"):
            from analyzer.analysis.rule_export import template_regex

            regex, exclude, ptype, category = template_regex(extra["template"]), [], "novel_message", "anomaly"
        else:
            continue
        found.append(
            Detection(
                pattern_type=ptype,
                severity=insight.severity.label,
                count=insight.evidence.count,
                first_seen_ns=insight.evidence.first_seen_ns,
                last_seen_ns=insight.evidence.last_seen_ns,
                services=list(insight.evidence.services),
                samples=list(insight.evidence.samples),
                regex=regex,
                exclude=exclude,
                category=category,
                suggestion=insight.suggestion,
                title=insight.title,
            )
        )
    return found


def record_detections(registry: PatternRegistry, analysis: Any, *, tenant: str) -> list[PatternEntry]:
    """Persist what an analysis detected; called by the web/worker layer after each analysis."""
    from analyzer.infra import metrics

    out = []
    for found in detections(analysis):
        out.append(registry.record(tenant, found))
        metrics.PATTERNS_DETECTED.labels(pattern_type=found.pattern_type, severity=found.severity).inc()
    return out
