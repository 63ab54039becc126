"""Takes alert jobs off the durable queue, analyses the logs around each alert, stores the result
and marks it on Grafana.

A job is safe to run twice: a finished analysis is never redone, an analysis already stored is
not recomputed when only the annotation failed, and a job superseded by another one for the same
alert steps aside. A failure is retried with exponential backoff (capped at the claim timeout);
after `job_max_attempts` deliveries the analysis is marked `failed` and the job dead-lettered.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from analyzer.alerting import Alert, alert_query, focus_on_alert
from analyzer.infra.jobs import DurableQueue, Job, open_job_queue
from analyzer.infra.results import ResultsStore, open_results_store
from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns, now_ns
from analyzer.services import Services
from analyzer.sources.base import FetchResult

log = logging.getLogger("analyzer.worker")

ALERT_LOG_LIMIT = 200  # log lines kept with a stored analysis; the report links to Explore for more
WINDOW_ERROR_LIMIT = 5000  # warning and error lines read for the report's timeline (newest first)
NS_PER_MS = 1_000_000


def alert_stores(services: Services) -> tuple[DurableQueue, ResultsStore]:
    """The queue and results store of this process, made once and shared by web and worker."""
    extras = services.extras
    if "jobs" not in extras:
        extras["jobs"] = open_job_queue(services.settings, services.redis)
    if "results" not in extras:
        extras["results"] = open_results_store(services.settings, services.redis)
    return extras["jobs"], extras["results"]


def new_record(job: Job) -> dict[str, Any]:
    """What `GET /analyses/<id>` shows from the moment the webhook stored the job."""
    alert = Alert.from_dict(job.payload["alert"])
    now = time.time()
    return {
        "id": job.analysis_id,
        "status": "queued",
        "job_id": job.id,
        "tenant": job.payload.get("tenant"),
        "alert": {
            "name": alert.name,
            "status": alert.status,
            "labels": alert.labels,
            "annotations": {k: v for k, v in alert.annotations.items() if not k.startswith("__")},
            "starts_at": alert.starts_at,
            "fingerprint": alert.fingerprint,
            "generator_url": alert.generator_url,
            "dashboard_uid": alert.dashboard_uid,
            "panel_id": alert.panel_id,
            "values": alert.values,
        },
        "receiver": job.payload.get("receiver"),
        "resolved": False,
        "ends_at": None,
        "report_url": job.payload.get("report_url"),
        "attempts": 0,
        "created_at": format_timestamp(int(now * NS_PER_SECOND)),
        "created_at_epoch": now,
    }


class Worker:
    def __init__(self, services: Services, *, consumer: str | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.queue, self.results = alert_stores(services)
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
        self._grafana: Any | None = None

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, max_jobs: int | None = None) -> int:
        done = 0
        while not stop.is_set() and (max_jobs is None or done < max_jobs):
            try:
                job = self.queue.take(self.consumer, wait_seconds=1.0)
            except Exception:  # the queue is down; the worker waits for it
                log.exception("could not take a job")
                stop.wait(1.0)
                continue
            if job is not None:
                self.handle(job)
                done += 1
        return done

    def handle(self, job: Job) -> str:
        """Run one job to an outcome: done, skipped, retry or dead. Never raises."""
        from analyzer.infra import metrics

        with _Heartbeat(self.queue, job, interval=max(0.2, self.settings.job_claim_idle_seconds / 3)):
            try:
                outcome = self._run(job)
            except Exception as exc:  # any failure is retried, then dead-lettered
                outcome = self._failed(job, exc)
            else:
                self.queue.ack(job)
        metrics.JOBS.labels(status=outcome).inc()
        log.info(
            "job finished",
            extra={"job": job.id, "analysis": job.analysis_id, "kind": job.kind,
                   "outcome": outcome, "attempt": job.attempts},
        )
        return outcome

    def _failed(self, job: Job, exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("job failed", extra={"job": job.id, "attempt": job.attempts, "error": error})
        try:
            if job.attempts >= self.settings.job_max_attempts:
                self.queue.dead(job, error)
                if job.kind == "analyze":
                    self.results.update(
                        job.analysis_id, status="failed", error=error, attempts=job.attempts,
                        finished_at=format_timestamp(now_ns()),
                    )
                return "dead"
            delay = min(2 ** (job.attempts - 1), float(self.settings.job_claim_idle_seconds))
            self.queue.retry(job, error, delay)
            if job.kind == "analyze":
                self.results.update(job.analysis_id, status="queued", error=error, attempts=job.attempts)
            return "retry"
        except Exception:  # the job stays pending and is claimed again later
            log.exception("could not record a failed job", extra={"job": job.id})
            return "retry"

    def _run(self, job: Job) -> str:
        if job.kind == "resolve":
            return self._resolve(job)
        return self._analyze(job)

    # -- analysis ---------------------------------------------------------------------------

    def _analyze(self, job: Job) -> str:
        aid = job.analysis_id
        record = self.results.get(aid)
        if record is None:
            # spooled while the results store was down: the job carries all the record needs
            self.results.create(aid, new_record(job))
            record = self.results.get(aid) or new_record(job)
        if record["status"] == "done":
            return "skipped"
        if record.get("job_id") not in (None, job.id) and record["status"] in ("queued", "running"):
            return "skipped"  # another job owns this alert's analysis
        record = self.results.update(
            aid, status="running", job_id=job.id, attempts=job.attempts,
            started_at=format_timestamp(now_ns()),
        ) or record
        if "result" not in record:
            record = self._compute(job, record)
        if self.settings.grafana_url and not record.get("annotation_id"):
            annotation_id = self._annotate(record)
            record = self.results.update(aid, annotation_id=annotation_id) or record
        self.results.update(aid, status="done", error=None, finished_at=format_timestamp(now_ns()))
        return "done"

    def _compute(self, job: Job, record: dict[str, Any]) -> dict[str, Any]:
        from analyzer.infra.privacy import mask
        from analyzer.querying import fetch_and_analyze
        from analyzer.web.reports import report_data

        alert = Alert.from_dict(job.payload["alert"])
        resolved_ns = instant_ns(record["ends_at"]) if record.get("ends_at") else None
        query = alert_query(
            alert,
            lookback=self.settings.webhook_lookback,
            now_ns=self.services.source.now_ns(),
            resolved_at_ns=resolved_ns,
        ).model_copy(update={"limit": ALERT_LOG_LIMIT})
        analysis = fetch_and_analyze(self.services, query, tenant=record.get("tenant"))
        analysis.insights = focus_on_alert(analysis.insights, alert.starts_ns)
        body = analysis.to_dict()
        # the report links each piece of evidence to Explore itself; the narrative stays short
        narrative = narrative_text(body)
        tenant = record.get("tenant")
        errors = self._window_errors(analysis, query, tenant)
        flow = self._failing_request_records(analysis, errors.records, tenant)
        known = self.services.source.services(tenant=tenant)
        report = report_data(
            analysis, flow, window_errors=errors.records, errors_truncated=errors.truncated,
            known_services=known,
        )
        return self.results.update(
            job.analysis_id,
            result=mask(body),
            narrative=mask(narrative),
            report=mask(report),
            window=analysis.window.to_dict(),
            query=query.model_dump(mode="json", exclude_defaults=True),
        ) or record

    def _window_errors(self, analysis: Any, query: Any, tenant: str | None) -> FetchResult:
        """Every service's warning and error lines in the window: the analysis keeps only the
        alerting services' records, while its insights may blame a service outside them (whose
        first sign is often a warning). The analysis already read every service when it had no
        id filter and got the whole window; otherwise one narrow fetch (level filter in Loki)."""
        from analyzer.model import Query, Severity

        window = analysis.window
        if query.expand_dependencies and not query.ids() and not analysis.source_truncated:
            warned = [r for r in analysis.context_records if r.level >= Severity.WARN]
            return FetchResult(
                records=warned[-WINDOW_ERROR_LIMIT:],
                window=window,
                truncated=len(warned) > WINDOW_ERROR_LIMIT,
            )
        narrow = Query(
            start=format_timestamp(window.start_ns), end=format_timestamp(window.end_ns),
            severity_threshold=Severity.WARN, cache=False,
        )
        return self.services.source.fetch(narrow, tenant=tenant, limit=WINDOW_ERROR_LIMIT)

    def _failing_request_records(
        self, analysis: Any, window_errors: list[Any], tenant: str | None
    ) -> list[Any] | None:
        """Every service's lines of the first failing request: the alert may name one service,
        but the request it failed in crossed several."""
        from analyzer.model import Query
        from analyzer.web.reports import first_failing_request

        correlation_id = first_failing_request(analysis, window_errors)
        if not correlation_id:
            return None
        window = analysis.window
        query = Query(
            correlation_id=correlation_id, start=format_timestamp(window.start_ns),
            end=format_timestamp(window.end_ns), cache=False,
        )
        return self.services.source.fetch(query, tenant=tenant).records

    def _annotate(self, record: dict[str, Any]) -> int | None:
        alert = record["alert"]
        start_ms = instant_ns(alert["starts_at"]) // NS_PER_MS
        end_ms = instant_ns(record["ends_at"]) // NS_PER_MS if record.get("ends_at") else None
        text = record.get("narrative") or alert["name"]
        if record.get("report_url"):
            text = f'{text}\n\n<a href="{record["report_url"]}">AI analysis report</a>'
        return self.grafana().create_annotation(
            text=text,
            tags=["ai-analysis", alert["name"]],
            time_ms=start_ms,
            time_end_ms=end_ms,
            dashboard_uid=alert.get("dashboard_uid"),
            panel_id=alert.get("panel_id"),
        )

    # -- resolution -------------------------------------------------------------------------

    def _resolve(self, job: Job) -> str:
        ends_at = job.payload["ends_at"]
        record = self.results.get(job.analysis_id)
        if record is None:
            return "skipped"  # never seen firing: nothing to close
        if not record.get("resolved"):
            record = self.results.update(job.analysis_id, resolved=True, ends_at=ends_at) or record
        if record["status"] in ("queued", "running"):
            # the analysis will use ends_at itself; its annotation must exist before we end it
            raise PendingAnalysis(f"analysis {job.analysis_id} is still {record['status']}")
        if record.get("annotation_id") and self.settings.grafana_url:
            self.grafana().end_annotation(record["annotation_id"], instant_ns(ends_at) // NS_PER_MS)
        return "done"

    def grafana(self) -> Any:
        if self._grafana is None:
            from analyzer.infra.grafana import GrafanaClient

            self._grafana = GrafanaClient(self.settings.grafana_url or "", self.settings.grafana_token)
        return self._grafana


class PendingAnalysis(RuntimeError):
    """A resolve arrived before its analysis finished; retried after a short wait."""


def narrative_text(body: dict[str, Any]) -> str:
    """The short narrative for the annotation; the report page links each piece of evidence."""
    from analyzer import narrate

    return narrate.render("query", body, fmt="narrative", verbosity="minimal").strip()


class _Heartbeat:
    """Extends the job's lease while it runs, so only a dead worker's job is claimed."""

    def __init__(self, queue: DurableQueue, job: Job, *, interval: float) -> None:
        self.queue, self.job, self.interval = queue, job, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="job-heartbeat")

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.queue.touch(self.job)
            except Exception:  # a missed beat only risks a duplicate delivery
                log.warning("heartbeat failed", extra={"job": self.job.id})

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start_embedded_worker(services: Services) -> threading.Thread:
    """The worker as a daemon thread of `ai-logs serve` (the embedded default)."""
    worker = Worker(services, consumer=f"embedded-{socket.gethostname()}-{os.getpid()}")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True, name="alert-worker")
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
