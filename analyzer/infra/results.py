"""Where analyses live between the webhook, the worker and the API: one small interface.

`create` is atomic and answers False when the id exists: that is how a Grafana retry or a
repeated notification of the same alert is recognised. Redis keeps a hash per analysis and a
sorted set by creation time; without Redis a SQLite file under `data_dir` does the same.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

STATUSES = ("queued", "running", "done", "failed")


class ResultsStore(Protocol):
    def create(self, analysis_id: str, record: dict[str, Any]) -> bool: ...

    def get(self, analysis_id: str) -> dict[str, Any] | None: ...

    def update(self, analysis_id: str, **changes: Any) -> dict[str, Any] | None: ...

    def delete(self, analysis_id: str) -> None: ...

    def list(
        self, *, status: str | None = None, tenant: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]: ...


class RedisResultsStore:
    PREFIX = "ai-logs:analysis:"
    INDEX = "ai-logs:analyses"

    def __init__(self, client: Any) -> None:
        self.client = client

    def create(self, analysis_id: str, record: dict[str, Any]) -> bool:
        created_at = float(record.get("created_at_epoch") or time.time())
        key = self.PREFIX + analysis_id
        if not self.client.hsetnx(key, "doc", json.dumps(record, default=str)):
            return False
        self.client.zadd(self.INDEX, {analysis_id: created_at})
        return True

    def get(self, analysis_id: str) -> dict[str, Any] | None:
        raw = self.client.hget(self.PREFIX + analysis_id, "doc")
        return json.loads(raw) if raw else None

    def update(self, analysis_id: str, **changes: Any) -> dict[str, Any] | None:
        key = self.PREFIX + analysis_id
        # optimistic transaction: a resolve from the webhook and a result from the worker
        # may land at the same moment, and neither may erase the other
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, "doc")
                    if not raw:
                        pipe.reset()
                        return None
                    record = {**json.loads(raw), **changes}
                    pipe.multi()
                    pipe.hset(key, "doc", json.dumps(record, default=str))
                    pipe.execute()
                    return record
                except _watch_error():
                    continue

    def delete(self, analysis_id: str) -> None:
        self.client.delete(self.PREFIX + analysis_id)
        self.client.zrem(self.INDEX, analysis_id)

    def list(
        self, *, status: str | None = None, tenant: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset, page = 0, max(limit, 100)
        while len(out) < limit:
            ids = self.client.zrevrange(self.INDEX, offset, offset + page - 1)
            if not ids:
                break
            offset += page
            docs = self.client.pipeline()
            for raw_id in ids:
                docs.hget(self.PREFIX + raw_id.decode(), "doc")
            for raw in docs.execute():
                if raw:
                    record = json.loads(raw)
                    if _matches(record, status, tenant):
                        out.append(record)
        return out[:limit]


def _watch_error() -> type[Exception]:
    import redis

    return redis.WatchError


def _matches(record: dict[str, Any], status: str | None, tenant: str | None) -> bool:
    if status and record.get("status") != status:
        return False
    return not (tenant and record.get("tenant") != tenant)


class SqliteResultsStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS analyses (id TEXT PRIMARY KEY, created REAL NOT NULL,"
                " status TEXT NOT NULL, tenant TEXT, doc TEXT NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS analyses_created ON analyses (created)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def create(self, analysis_id: str, record: dict[str, Any]) -> bool:
        cursor = self._conn().execute(
            "INSERT OR IGNORE INTO analyses (id, created, status, tenant, doc) VALUES (?,?,?,?,?)",
            (
                analysis_id,
                float(record.get("created_at_epoch") or time.time()),
                record.get("status", "queued"),
                record.get("tenant"),
                json.dumps(record, default=str),
            ),
        )
        return cursor.rowcount == 1

    def get(self, analysis_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, analysis_id: str, **changes: Any) -> dict[str, Any] | None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT doc FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
            if not row:
                conn.execute("ROLLBACK")
                return None
            record = {**json.loads(row[0]), **changes}
            conn.execute(
                "UPDATE analyses SET doc = ?, status = ? WHERE id = ?",
                (json.dumps(record, default=str), record.get("status", "queued"), analysis_id),
            )
            conn.execute("COMMIT")
            return record
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def delete(self, analysis_id: str) -> None:
        self._conn().execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))

    def list(
        self, *, status: str | None = None, tenant: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        sql, args = "SELECT doc FROM analyses WHERE 1=1", []
        if status:
            sql += " AND status = ?"
            args.append(status)
        if tenant:
            sql += " AND tenant = ?"
            args.append(tenant)
        sql += " ORDER BY created DESC LIMIT ?"
        args.append(limit)
        return [json.loads(row[0]) for row in self._conn().execute(sql, args)]


def open_results_store(settings: Any, redis_client: Any | None) -> ResultsStore:
    if redis_client is not None:
        return RedisResultsStore(redis_client)
    return SqliteResultsStore(Path(settings.data_dir) / "analyses.sqlite3")
