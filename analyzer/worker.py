"""Takes alert jobs off the durable queue, analyses the logs around each alert, stores the result
and marks it on Grafana.

A job is safe to run twice: a finished analysis is never redone, a stored analysis is not
recomputed when only its annotation is left, and a job superseded by another one for the same
alert steps aside. Three ways a run ends short of done are kept apart:

- the job failed (Loki refused, the analysis raised): retried with exponential backoff; after
  `job_max_attempts` failures the analysis is `failed` with the reason and the job dead-lettered;
- a store it needs is away (Redis under a job read from Redis, or the local file): the job is
  handed back untouched and tried again with backoff, however long the outage lasts. Jobs from
  the spool carry on in the local results store, so a Redis that never comes back delays nothing;
- Grafana refused the annotation: the analysis stays `done`; the same job retries the annotation
  and records its state apart (`annotation`: status, attempts, error). A refused token or a
  missing dashboard is not retried.
"""

from __future__ import annotations

import html
import logging
import os
import socket
import threading
import time
from typing import Any

from analyzer.alerting.notification import Alert
from analyzer.alerting.records import annotation_of, annotation_state, new_record, report_link
from analyzer.alerting.report import alert_narrative, first_failing_request, report_data
from analyzer.alerting.scope import alert_query, analysis_window, focus_on_alert
from analyzer.alerting.stores import alert_stores
from analyzer.infra.grafana import GrafanaError
from analyzer.infra.jobs import DurableQueue, Job
from analyzer.infra.results import ResultsUnavailable
from analyzer.model import format_timestamp, instant_ns, now_ns
from analyzer.services import Services

log = logging.getLogger("analyzer.worker")

ALERT_LOG_LIMIT = 200  # log lines kept with a stored analysis; the report links to Explore for more
NS_PER_MS = 1_000_000
RETRY_BASE_SECONDS = 5  # first wait after a failure; doubled each time, capped at the claim timeout
RECONCILE_SECONDS = 5.0  # how often a worker moves records written during an outage into Redis


class AnnotationPending(RuntimeError):
    """The analysis is stored; only its Grafana annotation is to be tried again."""


class Worker:
    def __init__(self, services: Services, *, consumer: str | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.queue, self.results = alert_stores(services)
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
        self._grafana: Any | None = None
        self._reconciled_at = 0.0

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, max_jobs: int | None = None) -> int:
        done = 0
        while not stop.is_set() and (max_jobs is None or done < max_jobs):
            self._reconcile()
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

    def _reconcile(self) -> None:
        if time.monotonic() - self._reconciled_at < RECONCILE_SECONDS:
            return
        self._reconciled_at = time.monotonic()
        try:
            moved = self.results.reconcile()
        except Exception:  # tried again at the next round
            log.warning("could not move locally stored analyses into Redis", exc_info=True)
            return
        if moved:
            log.info("moved analyses stored during an outage into Redis", extra={"count": moved})

    def handle(self, job: Job) -> str:
        """Run one job to an outcome: done, skipped, retry, deferred or dead. Never raises."""
        from analyzer.infra import metrics

        with _Heartbeat(self.queue, job, interval=max(0.2, self.settings.job_claim_idle_seconds / 3)):
            outcome = self._settle(job)
        metrics.JOBS.labels(status=outcome).inc()
        log.info(
            "job finished",
            extra={"job": job.id, "analysis": job.analysis_id, "kind": job.kind,
                   "outcome": outcome, "attempt": job.attempts, "failures": job.failures},
        )
        return outcome

    def _settle(self, job: Job) -> str:
        if job.attempts > self.settings.job_max_deliveries:
            error = f"delivered {job.attempts} times without finishing (does it stop its worker?)"
            return self._failed(job, RuntimeError(error), final=True)
        try:
            outcome = self._run(job)
        except ResultsUnavailable as exc:
            return self._defer(job, exc)
        except AnnotationPending as exc:
            return self._retry(job, str(exc))
        except Exception as exc:  # any failure of the job itself is retried, then dead-lettered
            return self._failed(job, exc)
        try:
            self.queue.ack(job)
        except Exception:  # delivered again later, and then skipped: the record says done
            log.warning("could not acknowledge a finished job", extra={"job": job.id}, exc_info=True)
        return outcome

    def _backoff(self, count: int, base: float) -> float:
        return min(base * 2 ** max(0, count - 1), float(self.settings.job_claim_idle_seconds))

    def _defer(self, job: Job, exc: Exception) -> str:
        """A store is away: hand the job back without counting this delivery."""
        job.deferrals += 1
        log.warning("store unavailable, job handed back", extra={"job": job.id, "error": str(exc)})
        try:
            self.queue.release(job, self._backoff(job.deferrals, 1.0))
        except Exception:  # its lease runs out and it is delivered again
            log.warning("could not hand a job back", extra={"job": job.id}, exc_info=True)
        return "deferred"

    def _retry(self, job: Job, error: str) -> str:
        job.failures += 1
        try:
            self.queue.retry(job, error, self._backoff(job.failures, RETRY_BASE_SECONDS))
        except Exception:
            log.warning("could not schedule a retry", extra={"job": job.id}, exc_info=True)
        return "retry"

    def _failed(self, job: Job, exc: Exception, *, final: bool = False) -> str:
        """Record the failure first, then move the job: a failure that cannot be recorded is not
        counted (the job runs again once the store is back), so none is ever lost."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        failures = job.failures + 1
        final = final or failures >= self.settings.job_max_attempts
        log.warning("job failed", extra={"job": job.id, "failures": failures, "error": error})
        try:
            self._record_failure(job, error, failures, final=final)
        except ResultsUnavailable as unavailable:
            return self._defer(job, unavailable)
        job.failures = failures
        try:
            if final:
                self.queue.dead(job, error)
            else:
                self.queue.retry(job, error, self._backoff(failures, RETRY_BASE_SECONDS))
        except Exception:  # the lease runs out and the job is delivered again
            log.warning("could not move a failed job", extra={"job": job.id}, exc_info=True)
        return "dead" if final else "retry"

    def _record_failure(self, job: Job, error: str, failures: int, *, final: bool) -> None:
        aid = job.analysis_id
        record = self.results.get(aid)
        if job.kind != "analyze" or (record and record.get("status") == "done"):
            if record and final:  # the analysis stands; its annotation could not be finished
                state = annotation_of(record)
                self.results.update(aid, annotation={**state, "error": error})
            return
        if record is None:
            self.results.create(aid, new_record(job))
        changes: dict[str, Any] = {"status": "failed" if final else "queued", "error": error,
                                   "attempts": job.attempts, "failures": failures}
        if final:
            changes["finished_at"] = format_timestamp(now_ns())
        self.results.update(aid, **changes)

    def _run(self, job: Job) -> str:
        if job.kind == "resolve":
            return self._resolve(job)
        return self._analyze(job)

    # -- analysis ---------------------------------------------------------------------------

    def _analyze(self, job: Job) -> str:
        aid = job.analysis_id
        record = self._record_for(job)
        status = record.get("status")
        if status == "failed":
            return "skipped"
        if status == "done":
            if annotation_of(record)["status"] in ("done", "failed", "disabled"):
                return "skipped"
        elif self._owned_elsewhere(record, job):
            return "skipped"
        else:
            record = self.results.update(
                aid, status="running", job_id=job.id, attempts=job.attempts,
                started_at=format_timestamp(now_ns()),
            ) or record
            if "result" in record:
                record = self.results.update(
                    aid, status="done", error=None, finished_at=format_timestamp(now_ns())
                ) or record
            else:
                record = self._compute(job, record)
        return self._annotate(job, record)

    def _record_for(self, job: Job) -> dict[str, Any]:
        """The stored record, made from the job when there is none. A job from the spool whose
        record is out of reach in Redis carries on with a local copy (reconciled later)."""
        try:
            record = self.results.get(job.analysis_id)
        except ResultsUnavailable:
            if job.backend != "spool":
                raise
            record = None
        if record is None:
            self.results.create(job.analysis_id, new_record(job))
            record = self.results.get(job.analysis_id)
            if record is None:
                raise ResultsUnavailable(f"analysis {job.analysis_id} could not be stored")
        return record

    def _owned_elsewhere(self, record: dict[str, Any], job: Job) -> bool:
        """Another job for the same alert is running it right now (a live worker's lease)."""
        if record.get("job_id") in (None, job.id) or record.get("status") != "running":
            return False
        idle = time.time() - float(record.get("updated_at_epoch") or 0)
        return idle < 2 * self.settings.job_claim_idle_seconds

    def _compute(self, job: Job, record: dict[str, Any]) -> dict[str, Any]:
        from analyzer.infra.privacy import mask
        from analyzer.querying import fetch_and_analyze

        alert = Alert.from_dict(job.payload["alert"])
        tenant = job.payload.get("tenant") or record.get("tenant") or self.settings.default_tenant
        window = analysis_window(
            alert,
            lookback=self.settings.webhook_lookback,
            max_window=self.settings.alert_max_window,
            now_ns=self.services.source.now_ns(),
            resolved_at_ns=instant_ns(record["ends_at"]) if record.get("ends_at") else None,
        )
        query = alert_query(alert, window).model_copy(update={"limit": ALERT_LOG_LIMIT})
        from analyzer.infra.deadline import bounded

        # one deadline bounds the analysis as it bounds a request (a failed attempt is retried)
        with bounded(self.settings.max_query_time):
            analysis = fetch_and_analyze(self.services, query, tenant=tenant)
        body = analysis.to_dict()
        body["insights"] = focus_on_alert(body.get("insights") or [], alert.starts_ns)
        body.setdefault("metadata", {})["alert_window"] = window.to_dict()
        # the timeline counts every service's lines of the whole window (the profile); the
        # failing request comes from the evidence, its lines from a narrow read by its id
        failing = first_failing_request(body["insights"], query.services, analysis.context_records)
        report = report_data(
            body["insights"], analysis.profile, analysis.context_records,
            start_ns=analysis.window.start_ns, end_ns=analysis.window.end_ns,
            alert_services=query.services,
            flow_records=self._request_records(failing, analysis, tenant),
            known_services=analysis.profile.services(),
        )
        return self.results.update(
            job.analysis_id,
            result=mask(body),
            narrative=mask(alert_narrative(body)),
            report=mask(report),
            window={**window.to_dict(), **analysis.window.to_dict()},
            query=query.model_dump(mode="json", exclude_defaults=True),
            status="done",
            error=None,
            finished_at=format_timestamp(now_ns()),
        ) or record

    def _request_records(self, correlation_id: str | None, analysis: Any, tenant: str) -> list[Any] | None:
        """Every service's lines of the first failing request: the alert may name one service,
        but the request it failed in crossed several. The evidence often holds them (the
        analysis reads the requests that failed first); else one narrow read by the id."""
        from analyzer.errors import AnalyzerError
        from analyzer.model import Query

        if not correlation_id:
            return None
        held = [r for r in analysis.context_records if r.correlation_id == correlation_id]
        if len({r.service for r in held}) > 1:
            return held
        window = analysis.window
        query = Query(
            correlation_id=correlation_id, **window.edges(), cache=False,
        )
        try:
            return self.services.source.fetch(query, tenant=tenant, limit=1000).records
        except AnalyzerError:
            log.warning("could not read the failing request's lines", exc_info=True)
            return held or None

    # -- the Grafana annotation -------------------------------------------------------------

    def _annotate(self, job: Job, record: dict[str, Any]) -> str:
        aid = job.analysis_id
        state = annotation_of(record)
        if state["status"] in ("done", "failed", "disabled"):
            return "done"
        if not self.settings.grafana_url:
            self.results.update(aid, annotation=annotation_state("disabled", error="GRAFANA_URL is not set"))
            return "done"
        attempts = int(state.get("attempts") or 0) + 1
        try:
            annotation_id, ended = self._post_annotation(record)
        except GrafanaError as exc:
            final = exc.permanent or job.failures + 1 >= self.settings.job_max_attempts
            error = str(exc)
            if exc.status in (401, 403) and not self.settings.grafana_token:
                error += " (GRAFANA_TOKEN is not set: give the analyzer a service-account token "
                error += "with annotations:write)"
            self.results.update(aid, annotation=annotation_state(
                "failed" if final else "retrying", attempts=attempts, error=error
            ))
            if final:
                return "done"
            raise AnnotationPending(error) from None
        record = self.results.update(
            aid, annotation=annotation_state("done", attempts=attempts, annotation_id=annotation_id),
            annotation_id=annotation_id,
        ) or record
        if annotation_id and record.get("resolved") and record.get("ends_at") and not ended:
            # resolved while the annotation was on its way: the resolve job found nothing to end
            try:
                self.grafana().end_annotation(annotation_id, instant_ns(record["ends_at"]) // NS_PER_MS)
            except GrafanaError as exc:
                self.results.update(aid, annotation={**annotation_of(record), "error": f"no end set: {exc}"})
        return "done"

    def _post_annotation(self, record: dict[str, Any]) -> tuple[int | None, bool]:
        """(Grafana's id, whether it went with its end). The narrative was masked when stored;
        the report link is added after, so masking never rewrites its host."""
        alert = record["alert"]
        start_ms = instant_ns(alert["starts_at"]) // NS_PER_MS
        end_ms = instant_ns(record["ends_at"]) // NS_PER_MS if record.get("ends_at") else None
        text = html.escape(record.get("narrative") or alert["name"], quote=False)
        link = report_link(record, self.settings.public_url)
        if link:
            text += f'\n\n<a href="{html.escape(link)}">AI analysis report</a>'
        annotation_id = self.grafana().create_annotation(
            text=text,
            tags=["ai-analysis", alert["name"]],
            time_ms=start_ms,
            time_end_ms=end_ms,
            dashboard_uid=alert.get("dashboard_uid"),
            panel_id=alert.get("panel_id"),
        )
        return annotation_id, end_ms is not None and end_ms > start_ms

    # -- resolution -------------------------------------------------------------------------

    def _resolve(self, job: Job) -> str:
        """Close the analysis and end its annotation. An annotation not posted yet needs no
        end: the analysis job reads the end from the record when it posts it."""
        ends_at = job.payload["ends_at"]
        record = self.results.get(job.analysis_id)
        if record is None:
            return "skipped"  # never seen firing: nothing to close
        if not record.get("resolved"):
            record = self.results.update(job.analysis_id, resolved=True, ends_at=ends_at) or record
        annotation_id = annotation_of(record).get("id")
        if annotation_id and self.settings.grafana_url:
            end = record.get("ends_at") or ends_at
            self.grafana().end_annotation(annotation_id, instant_ns(end) // NS_PER_MS)
        return "done"

    def grafana(self) -> Any:
        if self._grafana is None:
            from analyzer.infra.grafana import GrafanaClient

            self._grafana = GrafanaClient(self.settings.grafana_url or "", self.settings.grafana_token)
        return self._grafana


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
