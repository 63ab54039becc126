"""The job queue and the results store of the alert pipeline, made once per process and shared
by the webhook, the analyses API, the report page and the worker.

Both fall back on local SQLite files when Redis is away, and share one view of whether it is, so a
dead Redis costs one connection error a second between them, not one per call.
"""

from __future__ import annotations

from analyzer.alerting.records import merge_records
from analyzer.infra.jobs import DurableQueue, open_job_queue
from analyzer.infra.outage import Outage
from analyzer.infra.results import ResultsStore, open_results_store
from analyzer.services import Services


def alert_stores(services: Services) -> tuple[DurableQueue, ResultsStore]:
    extras = services.extras
    if "jobs" not in extras or "results" not in extras:
        outage = Outage()
        extras["jobs"] = open_job_queue(services.settings, services.redis, outage=outage)
        extras["results"] = open_results_store(
            services.settings, services.redis, merge=merge_records, outage=outage
        )
    return extras["jobs"], extras["results"]
