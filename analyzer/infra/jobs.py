"""The durable job queue between the alert webhook and the workers.

Grafana does not retry a failed delivery at once (it re-sends the group at the next group
interval), so a job must be stored before the webhook answers 2xx, and a worker that dies must
not lose it. Two backends behind one interface:

- Redis Streams with a consumer group: XADD, XREADGROUP, XACK on completion, XAUTOCLAIM of entries
  idle past `job_claim_idle_seconds` (a killed worker's job), a sorted set of delayed retries and a
  dead-letter list.
- A SQLite spool under `data_dir` (WAL, one transaction per change) with leases that expire, used
  when Redis is not configured and whenever Redis fails at enqueue time.

`DurableQueue` puts the two together: it writes to Redis when it can and to the spool otherwise,
and workers read the spool first, so jobs spooled during a Redis outage are processed as soon as
a worker runs, Redis or not.

A job counts its deliveries (`attempts`) and apart from them its `failures`: only a failure of the
job itself brings it nearer the dead letters. `release` hands a job back untouched when what it
needs is away (a store outage), so an outage of any length burns none of its attempts.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from analyzer.infra.outage import Outage

log = logging.getLogger("analyzer.jobs")

DONE_RETENTION_SECONDS = 7 * 86400


@dataclass(slots=True)
class Job:
    kind: str  # "analyze" | "resolve"
    analysis_id: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: f"job_{uuid.uuid4().hex[:20]}")
    attempts: int = 0  # deliveries so far, this one included
    failures: int = 0  # deliveries that ended in an error of the job's own
    deferrals: int = 0  # deliveries handed back because a store was away
    enqueued_at: float = field(default_factory=time.time)
    last_error: str | None = None
    backend: str = ""  # set when taken: "redis" or "spool"
    receipt: str = ""  # the backend's handle for ack: stream entry id or spool row id

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("backend")
        data.pop("receipt")
        return json.dumps(data, default=str)

    @classmethod
    def from_json(cls, raw: str | bytes, *, backend: str, receipt: str) -> Job:
        data = json.loads(raw)
        return cls(**data, backend=backend, receipt=receipt)


@dataclass(frozen=True, slots=True)
class Enqueued:
    job_id: str
    backend: str
    duplicate: bool = False


class JobBackend(Protocol):
    name: str

    def enqueue(self, job: Job) -> Enqueued: ...

    def take(self, consumer: str, wait_seconds: float) -> Job | None: ...

    def touch(self, job: Job) -> None: ...

    def ack(self, job: Job) -> None: ...

    def retry(self, job: Job, error: str, delay_seconds: float) -> None: ...

    def release(self, job: Job, delay_seconds: float) -> None: ...

    def dead(self, job: Job, error: str) -> None: ...

    def counts(self) -> dict[str, int]: ...


# Moves due retries into the stream atomically, so a worker dying in between loses nothing.
_PROMOTE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, doc in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'job', doc)
  redis.call('ZREM', KEYS[1], doc)
end
return #due
"""


class RedisStreamQueue:
    name = "redis"
    STREAM = "ai-logs:jobs"
    GROUP = "ai-logs-workers"
    DELAYED = "ai-logs:jobs:delayed"
    DEAD = "ai-logs:jobs:dead"

    def __init__(self, client: Any, *, claim_idle_seconds: float) -> None:
        self.client = client
        self.claim_idle_ms = int(claim_idle_seconds * 1000)
        self._group_ready = False
        self._promote = client.register_script(_PROMOTE_DUE)

    def _ensure_group(self, force: bool = False) -> None:
        if self._group_ready and not force:
            return
        import redis

        try:
            # id 0: entries added before any worker started belong to the group too
            self.client.xgroup_create(self.STREAM, self.GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def enqueue(self, job: Job) -> Enqueued:
        self._ensure_group()
        self.client.xadd(self.STREAM, {"job": job.to_json()})
        return Enqueued(job.id, self.name)

    def take(self, consumer: str, wait_seconds: float) -> Job | None:
        import redis

        try:
            return self._take(consumer, wait_seconds)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis restarted without the stream: make the group again and carry on
            self._ensure_group(force=True)
            return self._take(consumer, wait_seconds)

    def _take(self, consumer: str, wait_seconds: float) -> Job | None:
        self._ensure_group()
        self._promote(keys=[self.DELAYED, self.STREAM], args=[time.time()])
        claimed = self.client.xautoclaim(
            self.STREAM, self.GROUP, consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=1
        )
        entries = claimed[1] if claimed else []
        entries = [e for e in entries if e and e[1]]
        if entries:
            entry_id, fields = entries[0]
            return self._job(entry_id, fields)
        block_ms = max(1, int(min(wait_seconds, 1.0) * 1000))
        read = self.client.xreadgroup(self.GROUP, consumer, {self.STREAM: ">"}, count=1, block=block_ms)
        if not read:
            return None
        entry_id, fields = read[0][1][0]
        return self._job(entry_id, fields)

    def _job(self, entry_id: bytes | str, fields: dict[bytes, bytes]) -> Job:
        receipt = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        job = Job.from_json(fields[b"job"], backend=self.name, receipt=receipt)
        pending = self.client.xpending_range(self.STREAM, self.GROUP, receipt, receipt, 1)
        deliveries = int(pending[0]["times_delivered"]) if pending else 1
        job.attempts += deliveries
        return job

    def touch(self, job: Job) -> None:
        # re-claiming an entry we hold resets its idle time: the heartbeat of a long job
        consumer = self.client.xpending_range(self.STREAM, self.GROUP, job.receipt, job.receipt, 1)
        if consumer:
            self.client.xclaim(
                self.STREAM, self.GROUP, consumer[0]["consumer"], 0, [job.receipt], justid=True
            )

    def ack(self, job: Job) -> None:
        pipe = self.client.pipeline()
        pipe.xack(self.STREAM, self.GROUP, job.receipt)
        pipe.xdel(self.STREAM, job.receipt)
        pipe.execute()

    def retry(self, job: Job, error: str, delay_seconds: float) -> None:
        self._again(Job(**{**asdict(job), "last_error": error, "backend": "", "receipt": ""}), job, delay_seconds)

    def release(self, job: Job, delay_seconds: float) -> None:
        # the stream counts this delivery; the copy carries one attempt less to make up for it
        self._again(Job(**{**asdict(job), "attempts": job.attempts - 1, "backend": "", "receipt": ""}),
                    job, delay_seconds)

    def _again(self, again: Job, job: Job, delay_seconds: float) -> None:
        pipe = self.client.pipeline()  # MULTI/EXEC: the retry exists or the entry is still pending
        pipe.zadd(self.DELAYED, {again.to_json(): time.time() + delay_seconds})
        pipe.xack(self.STREAM, self.GROUP, job.receipt)
        pipe.xdel(self.STREAM, job.receipt)
        pipe.execute()

    def dead(self, job: Job, error: str) -> None:
        gone = Job(**{**asdict(job), "last_error": error, "backend": "", "receipt": ""})
        pipe = self.client.pipeline()
        pipe.lpush(self.DEAD, gone.to_json())
        pipe.xack(self.STREAM, self.GROUP, job.receipt)
        pipe.xdel(self.STREAM, job.receipt)
        pipe.execute()

    def counts(self) -> dict[str, int]:
        self._ensure_group()
        pending = self.client.xpending(self.STREAM, self.GROUP)
        return {
            "stream": int(self.client.xlen(self.STREAM)),
            "pending": int(pending["pending"]) if pending else 0,
            "delayed": int(self.client.zcard(self.DELAYED)),
            "dead": int(self.client.llen(self.DEAD)),
        }


class SqliteSpool:
    """Jobs in a local SQLite file: the embedded default and the fallback when Redis fails."""

    name = "spool"

    def __init__(self, path: str | Path, *, claim_idle_seconds: float) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_seconds = float(claim_idle_seconds)
        self._local = threading.local()
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, dedup_key TEXT UNIQUE,"
            " doc TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " available_at REAL NOT NULL, lease_until REAL, owner TEXT, error TEXT,"
            " created REAL NOT NULL)"
        )
        conn.execute("CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, available_at)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a 202 promises the job survives a crash
            self._local.conn = conn
        return conn

    def enqueue(self, job: Job) -> Enqueued:
        conn = self._conn()
        now = time.time()
        try:
            conn.execute(
                "INSERT INTO jobs (id, dedup_key, doc, state, available_at, created)"
                " VALUES (?, ?, ?, 'ready', ?, ?)",
                (job.id, f"{job.kind}:{job.analysis_id}", job.to_json(), now, now),
            )
        except sqlite3.IntegrityError:
            row = conn.execute(
                "SELECT id FROM jobs WHERE dedup_key = ?", (f"{job.kind}:{job.analysis_id}",)
            ).fetchone()
            return Enqueued(row[0] if row else job.id, self.name, duplicate=True)
        return Enqueued(job.id, self.name)

    def take(self, consumer: str, wait_seconds: float) -> Job | None:
        conn = self._conn()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT id, doc, attempts FROM jobs WHERE (state = 'ready' AND available_at <= ?)"
                " OR (state = 'leased' AND lease_until < ?) ORDER BY created LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                conn.execute("COMMIT")
                return None
            conn.execute(
                "UPDATE jobs SET state = 'leased', lease_until = ?, owner = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (now + self.lease_seconds, consumer, row[0]),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        job = Job.from_json(row[1], backend=self.name, receipt=row[0])
        job.attempts = int(row[2]) + 1
        return job

    def touch(self, job: Job) -> None:
        self._conn().execute(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'leased'",
            (time.time() + self.lease_seconds, job.receipt),
        )

    def ack(self, job: Job) -> None:
        # done rows stay a week: their dedup_key answers repeats delivered during an outage
        conn = self._conn()
        conn.execute("UPDATE jobs SET state = 'done', lease_until = NULL WHERE id = ?", (job.receipt,))
        conn.execute(
            "DELETE FROM jobs WHERE state = 'done' AND available_at < ?",
            (time.time() - DONE_RETENTION_SECONDS,),
        )

    def retry(self, job: Job, error: str, delay_seconds: float) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = 'ready', available_at = ?, lease_until = NULL, error = ?,"
            " doc = ? WHERE id = ?",
            (time.time() + delay_seconds, error[:2000], job.to_json(), job.receipt),
        )

    def release(self, job: Job, delay_seconds: float) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = 'ready', available_at = ?, lease_until = NULL,"
            " attempts = MAX(attempts - 1, 0), doc = ? WHERE id = ? AND state = 'leased'",
            (time.time() + delay_seconds, job.to_json(), job.receipt),
        )

    def dead(self, job: Job, error: str) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = 'dead', lease_until = NULL, error = ? WHERE id = ?",
            (error[:2000], job.receipt),
        )

    def counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {state: int(n) for state, n in rows}


class QueueUnavailable(RuntimeError):
    """Neither Redis nor the spool took the job: the webhook must answer 5xx."""


class DurableQueue:
    """Redis when configured and reachable, the SQLite spool otherwise; workers read both."""

    def __init__(
        self, redis_queue: RedisStreamQueue | None, spool: SqliteSpool, *, outage: Outage | None = None
    ) -> None:
        self.redis = redis_queue
        self.spool = spool
        self.outage = outage or Outage()

    @property
    def backends(self) -> dict[str, JobBackend]:
        found: dict[str, JobBackend] = {"spool": self.spool}
        if self.redis is not None:
            found["redis"] = self.redis
        return found

    def enqueue(self, job: Job) -> Enqueued:
        if self.redis is not None and not self.outage.suspected:
            try:
                return self.redis.enqueue(job)
            except Exception as exc:  # any Redis failure means: spool it
                self.outage.failed()
                log.warning("redis refused a job, spooling it", extra={"error": type(exc).__name__})
        try:
            return self.spool.enqueue(job)
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"no durable store accepted the job: {exc}") from exc

    def take(self, consumer: str, wait_seconds: float = 1.0) -> Job | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            job = self.spool.take(consumer, 0)
            if job is not None:
                return job
            remaining = deadline - time.monotonic()
            if self.redis is not None and not self.outage.suspected:
                try:
                    job = self.redis.take(consumer, max(0.05, min(remaining, 0.5)))
                except Exception as exc:  # Redis down: keep serving the spool
                    log.warning("redis unavailable for workers", extra={"error": type(exc).__name__})
                    self.outage.failed()
                else:
                    if job is not None:
                        return job
            elif remaining > 0:
                time.sleep(min(0.1, remaining))
            if time.monotonic() >= deadline:
                return None

    def _backend(self, job: Job) -> JobBackend:
        return self.backends[job.backend]

    def touch(self, job: Job) -> None:
        self._backend(job).touch(job)

    def ack(self, job: Job) -> None:
        self._backend(job).ack(job)

    def retry(self, job: Job, error: str, delay_seconds: float) -> None:
        self._backend(job).retry(job, error, delay_seconds)

    def release(self, job: Job, delay_seconds: float) -> None:
        self._backend(job).release(job, delay_seconds)

    def dead(self, job: Job, error: str) -> None:
        self._backend(job).dead(job, error)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, backend in self.backends.items():
            try:
                out[name] = backend.counts()
            except Exception:  # a count is informational
                out[name] = {}
        return out


def open_job_queue(settings: Any, redis_client: Any | None, *, outage: Outage | None = None) -> DurableQueue:
    spool = SqliteSpool(
        Path(settings.data_dir) / "jobs.sqlite3", claim_idle_seconds=settings.job_claim_idle_seconds
    )
    stream = (
        RedisStreamQueue(redis_client, claim_idle_seconds=settings.job_claim_idle_seconds)
        if redis_client is not None
        else None
    )
    return DurableQueue(stream, spool, outage=outage)
