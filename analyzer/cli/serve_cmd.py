"""`ai-logs serve`: the HTTP service for development and the embedded default.

Production runs the same app under gunicorn (see the Dockerfile).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from analyzer.cli.common import settings_from

log = logging.getLogger("analyzer")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="run the HTTP service (agent API, Grafana datasource, webhooks)"
    )
    p.add_argument("--source", metavar="PATH", help="file, directory or glob of log files")
    p.add_argument("--loki", metavar="URL", help="Loki base URL (default: $LOKI_URL)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-worker", action="store_true", help="do not run the embedded alert worker")
    p.set_defaults(handler=run)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from analyzer.app import create_app
    from analyzer.cli.common import source_description
    from analyzer.cli.state import queue_description
    from analyzer.logsetup import configure_logging
    from analyzer.services import build_services

    configure_logging()
    settings = settings_from(args).with_overrides(host=args.host, port=args.port)
    if settings.open_mode:
        if not _loopback(args.host):
            print(
                "error: no API keys configured (AI_LOGS_API_KEYS_FILE), so the service only listens"
                " on loopback. Create a key with `ai-logs keys create NAME --tenant T --file"
                " keys.yaml` and set AI_LOGS_API_KEYS_FILE=keys.yaml, or use --host 127.0.0.1.",
                file=sys.stderr,
            )
            return 2
        log.warning("open mode: no API keys configured; answering loopback clients only")
    services = build_services(settings)
    app = create_app(settings, services=services)
    if settings.embedded_worker and not args.no_worker:
        from analyzer.worker import start_embedded_worker

        start_embedded_worker(services)
    extra = {"url": f"http://{args.host}:{args.port}", "source": source_description(settings),
             "state_dir": settings.data_dir}  # fmt: skip
    if settings.embedded_worker and not args.no_worker:
        extra["queue"] = queue_description(settings)
    log.info("serving", extra=extra)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0
