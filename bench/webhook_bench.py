"""How fast the alert webhook answers 202 once the job is stored durably: p50/p95/max.

    python bench/webhook_bench.py [--alerts 300] [--redis-url redis://...]

Posts distinct one-alert notifications (Grafana's notifier-test payload with a new fingerprint
each time) over HTTP to a real werkzeug server, first with the SQLite spool (no Redis), then
with Redis Streams (a throwaway redis-server when --redis-url is not given). Every answer is
checked to be a 202 with a job id. Timings include HTTP on loopback; the target is 50 ms.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
PAYLOAD = REPO / "tests" / "fixtures" / "grafana_webhook" / "alerting_single_firing.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings: Any) -> tuple[str, Any]:
    import logging

    from werkzeug.serving import make_server

    from analyzer.app import create_app
    from analyzer.services import build_services

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(settings, services=build_services(settings)), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def _run(label: str, settings: Any, alerts: int) -> dict[str, float]:
    base, server = _serve(settings)
    template = json.loads(PAYLOAD.read_text())
    timings = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(alerts + 20):
            body = copy.deepcopy(template)
            body["alerts"][0]["fingerprint"] = f"{i:016x}"
            body["alerts"][0]["startsAt"] = "2026-11-24T08:12:00Z"
            body["alerts"][0]["labels"]["service"] = "api"
            started = time.perf_counter()
            answer = client.post("/webhooks/grafana", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 202 or not answer.json().get("job_id"):
                raise SystemExit(f"{label}: unexpected answer {answer.status_code} {answer.text[:200]}")
            if i >= 20:  # warm-up: imports, first connections, SQLite file creation
                timings.append(elapsed)
    server.shutdown()
    timings.sort()
    result = {
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "max_ms": timings[-1],
    }
    print(f"{label:<14} n={len(timings):<5} p50={result['p50_ms']:.2f} ms  "
          f"p95={result['p95_ms']:.2f} ms  max={result['max_ms']:.2f} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    from analyzer.config import SAMPLE_LOGS_DIR, Settings

    redis_proc = None
    redis_url = args.redis_url
    with tempfile.TemporaryDirectory() as tmp:
        if not redis_url and shutil.which("redis-server"):
            port = _free_port()
            redis_proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", tmp],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)
            redis_url = f"redis://127.0.0.1:{port}/0"
        try:
            common = {"source_path": str(SAMPLE_LOGS_DIR), "embedded_worker": False}
            _run("sqlite spool", Settings(data_dir=f"{tmp}/spool", **common), args.alerts)
            if redis_url:
                _run("redis stream", Settings(data_dir=f"{tmp}/redis", redis_url=redis_url, **common),
                     args.alerts)
            else:
                print("redis stream   skipped: no redis-server and no --redis-url")
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
