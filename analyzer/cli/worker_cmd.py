"""`ai-logs worker`: process alert analysis jobs (the webhook stores them, this runs them).

Run as many as you like; with Redis they share the stream's consumer group, and a job whose
worker died is taken over after `job_claim_idle_seconds`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from analyzer.cli.common import settings_from

log = logging.getLogger("analyzer")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="process alert analysis jobs from the queue")
    p.add_argument("--source", metavar="PATH", help="file, directory or glob of log files")
    p.add_argument("--loki", metavar="URL", help="Loki base URL (default: $LOKI_URL)")
    p.add_argument("--name", help="consumer name (default: host-pid)")
    p.add_argument("--max-jobs", type=int, help="exit after this many jobs")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.state import queue_description
    from analyzer.logsetup import configure_logging
    from analyzer.services import build_services
    from analyzer.worker import Worker

    configure_logging()
    settings = settings_from(args)
    services = build_services(settings)
    worker = Worker(services, consumer=args.name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("worker started", extra={"consumer": worker.consumer, "state_dir": settings.data_dir,
                                      "queue": queue_description(settings)})  # fmt: skip
    try:
        done = worker.run(stop, max_jobs=args.max_jobs)
    except KeyboardInterrupt:
        done = 0
    log.info("worker stopped", extra={"consumer": worker.consumer, "jobs": done})
    return 0
