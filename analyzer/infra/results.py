"""Where analyses live between the webhook, the worker and the API: one small interface.

`create` is atomic and answers False when the id exists: that is how a Grafana retry or a
repeated notification of the same alert is recognised. Redis keeps a hash per analysis and a
sorted set by creation time; a SQLite file under `data_dir` does the same without Redis.

With Redis configured, the SQLite file is its fallback, as the spool is the job queue's: an alert
accepted while Redis is away is recorded there, its analysis and its failure too, so every
accepted alert stays readable. Reads look in both and reconcile two copies of a record (see
`alerting.records.merge_records`); the worker moves local records into Redis once it is back.
A record that can only be in Redis while Redis is away is `ResultsUnavailable`: neither found nor
missing, and no fault of the job that asked.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from analyzer.infra.outage import Outage, is_redis_outage

STATUSES = ("queued", "running", "done", "failed")
LOCAL_SCAN = 1000  # local records a listing reconciles with Redis (few: only an outage's)

Record = dict[str, Any]
Merge = Callable[[Record | None, Record | None], Record | None]
T = TypeVar("T")


class ResultsUnavailable(RuntimeError):
    """The record may be in a store that cannot be reached now."""


@dataclass(frozen=True, slots=True)
class Listing:
    records: list[Record]
    complete: bool  # False: Redis could not be read, only the local store's records are listed


def newest_copy(first: Record | None, second: Record | None) -> Record | None:
    """The copy written last; the alert pipeline passes its own, richer rule."""
    if first is None or second is None:
        return first if second is None else second
    return max(first, second, key=lambda r: float(r.get("updated_at_epoch") or 0))


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

    def put_merged(self, analysis_id: str, local: Record, changes: dict[str, Any], merge: Merge) -> Record:
        """Write the reconciliation of the Redis copy (if any) and `local`, plus `changes`."""
        key = self.PREFIX + analysis_id
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, "doc")
                    record = {**(merge(json.loads(raw) if raw else None, local) or local), **changes}
                    pipe.multi()
                    pipe.hset(key, "doc", json.dumps(record, default=str))
                    pipe.zadd(self.INDEX, {analysis_id: float(record.get("created_at_epoch") or time.time())})
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

    @contextmanager
    def _locked(self, analysis_id: str) -> Iterator[tuple[sqlite3.Connection, Record | None]]:
        """The record under a write lock: committed when the block ends, rolled back on error."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT doc FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
            yield conn, json.loads(row[0]) if row else None
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def update(self, analysis_id: str, **changes: Any) -> dict[str, Any] | None:
        with self._locked(analysis_id) as (conn, found):
            if found is None:
                return None
            record = {**found, **changes}
            conn.execute(
                "UPDATE analyses SET doc = ?, status = ? WHERE id = ?",
                (json.dumps(record, default=str), record.get("status", "queued"), analysis_id),
            )
            return record

    def delete(self, analysis_id: str) -> None:
        self._conn().execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))

    def take_over(self, analysis_id: str, write: Callable[[Record], Record]) -> Record | None:
        """Hand the record to `write` (another store) and delete it here, all or nothing: the
        row stays locked meanwhile, so no local update slips in between."""
        with self._locked(analysis_id) as (conn, found):
            if found is None:
                return None
            written = write(found)
            conn.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))
            return written

    def ids(self, limit: int) -> list[str]:
        rows = self._conn().execute("SELECT id FROM analyses ORDER BY created LIMIT ?", (limit,))
        return [row[0] for row in rows]

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


class ResultsStore:
    """Redis when configured and reachable, the local SQLite file otherwise and meanwhile."""

    def __init__(
        self,
        local: SqliteResultsStore,
        redis: RedisResultsStore | None = None,
        *,
        merge: Merge = newest_copy,
        outage: Outage | None = None,
    ) -> None:
        self.local = local
        self.redis = redis
        self.merge = merge
        self.outage = outage or Outage()

    def _local(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except sqlite3.Error as exc:
            raise ResultsUnavailable(f"the local results store failed: {exc}") from exc

    def _remote(self, call: Callable[[], T]) -> tuple[bool, T | None]:
        """(True, answer), or (False, None) when Redis is away (then skipped for a moment)."""
        if self.redis is None or self.outage.suspected:
            return False, None
        try:
            return True, call()
        except Exception as exc:
            if not is_redis_outage(exc):
                raise
            self.outage.failed()
            return False, None

    def _unreachable(self, analysis_id: str) -> ResultsUnavailable:
        return ResultsUnavailable(f"analysis {analysis_id} may be in Redis, which cannot be reached")

    def create(self, analysis_id: str, record: Record) -> bool:
        if self.redis is not None:
            if self._local(lambda: self.local.get(analysis_id)) is not None:
                return False  # accepted during an outage, not yet moved to Redis
            reached, created = self._remote(lambda: self.redis.create(analysis_id, record))
            if reached:
                return bool(created)
        return self._local(lambda: self.local.create(analysis_id, record))

    def get(self, analysis_id: str) -> Record | None:
        local = self._local(lambda: self.local.get(analysis_id))
        if self.redis is None:
            return local
        reached, remote = self._remote(lambda: self.redis.get(analysis_id))
        if not reached and local is None:
            raise self._unreachable(analysis_id)
        return self.merge(remote, local)

    def update(self, analysis_id: str, **changes: Any) -> Record | None:
        changes["updated_at_epoch"] = time.time()
        reached, found = self._remote(lambda: self._update_remote(analysis_id, changes))
        if found is not None:
            return found
        found = self._local(lambda: self.local.update(analysis_id, **changes))
        if found is None and self.redis is not None and not reached:
            raise self._unreachable(analysis_id)
        return found

    def _update_remote(self, analysis_id: str, changes: dict[str, Any]) -> Record | None:
        assert self.redis is not None
        if self._local(lambda: self.local.get(analysis_id)) is not None:
            moved = self._local(lambda: self.local.take_over(
                analysis_id, lambda doc: self.redis.put_merged(analysis_id, doc, changes, self.merge)
            ))
            if moved is not None:
                return moved
        return self.redis.update(analysis_id, **changes)

    def delete(self, analysis_id: str) -> None:
        self._local(lambda: self.local.delete(analysis_id))
        self._remote(lambda: self.redis.delete(analysis_id))

    def list(self, *, status: str | None = None, tenant: str | None = None, limit: int = 50) -> Listing:
        if self.redis is None:
            return Listing(self._local(lambda: self.local.list(status=status, tenant=tenant, limit=limit)), True)
        local = self._local(lambda: self.local.list(tenant=tenant, limit=LOCAL_SCAN))
        reached, rows = self._remote(lambda: self._list_both(status, tenant, limit, local))
        if reached and rows is not None:
            return Listing(rows, True)
        return Listing([r for r in local if not status or r.get("status") == status][:limit], False)

    def _list_both(self, status: str | None, tenant: str | None, limit: int, local: list[Record]) -> list[Record]:
        assert self.redis is not None
        by_id = {r["id"]: r for r in self.redis.list(status=status, tenant=tenant, limit=limit)}
        for copy in local:
            by_id[copy["id"]] = self.merge(self.redis.get(copy["id"]), copy) or copy
        rows = [r for r in by_id.values() if not status or r.get("status") == status]
        rows.sort(key=lambda r: float(r.get("created_at_epoch") or 0), reverse=True)
        return rows[:limit]

    def reconcile(self, batch: int = 100) -> int:
        """Move records written locally while Redis was away into Redis; how many moved."""
        if self.redis is None or self.outage.suspected:
            return 0
        moved = 0
        for analysis_id in self._local(lambda: self.local.ids(batch)):
            reached, _ = self._remote(lambda aid=analysis_id: self._update_remote(aid, {}))
            if not reached:
                break
            moved += 1
        return moved


def open_results_store(
    settings: Any, redis_client: Any | None, *, merge: Merge = newest_copy, outage: Outage | None = None
) -> ResultsStore:
    local = SqliteResultsStore(Path(settings.data_dir) / "analyses.sqlite3")
    redis = RedisResultsStore(redis_client) if redis_client is not None else None
    return ResultsStore(local, redis, merge=merge, outage=outage)
