"""The analyzer as deployed (gunicorn with `analyzer.gunicorn_conf`) in a child process.

Shared by the query benchmark and the multiprocess-metrics test: both need the real server,
not a development one, and only the environment differs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# variables of the caller's shell that would point the child at another Loki, Redis or files
INHERITED_SOURCES = {"LOKI_URL", "REDIS_URL", "AI_LOGS_SOURCE"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    env_extra: dict[str, str], *, workers: int = 1, threads: int = 4, attempts: int = 3
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start it, wait for /healthz, return its URL and process (terminate it when done). A
    server that exits before it answers (the free port was taken in between) is started again
    on another port."""
    for _ in range(attempts):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in INHERITED_SOURCES}
        env.update(
            {
                "AI_LOGS_BIND": f"127.0.0.1:{port}",
                "AI_LOGS_WORKERS": str(workers),
                "AI_LOGS_THREADS": str(threads),
                **env_extra,
            }
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:analyzer.gunicorn_conf",
                "analyzer.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url, proc
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            raise RuntimeError("gunicorn did not answer /healthz within 30 s")
    raise RuntimeError(f"gunicorn exited before it answered /healthz, {attempts} times")
