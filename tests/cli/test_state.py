"""State lives in one per-user directory, whatever directory a command starts in; `serve` and
`worker` say where, and the worker which queue it reads. `ai-logs lint` where there is nothing to
lint says so and fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from analyzer.config import Settings, default_state_dir
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())"]


def cli_env(state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "AI_LOGS_DATA_DIR")}
    env.update(XDG_STATE_HOME=str(state), PYTHONPATH=str(ROOT), **extra)
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_state_directory_follows_xdg_state_home() -> None:
    assert default_state_dir({"XDG_STATE_HOME": "/srv/state"}) == "/srv/state/ai-logs"


def test_without_xdg_state_home_it_is_under_local_state() -> None:
    assert default_state_dir({}) == str(Path.home() / ".local" / "state" / "ai-logs")


def test_settings_default_to_the_state_directory_not_the_working_directory(
    private_state_directory: Path,
) -> None:
    assert Settings().data_dir == str(private_state_directory / "ai-logs")


def test_the_worker_says_where_its_state_is_and_which_queue_it_reads(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = subprocess.run([*CLI, "worker", "--max-jobs", "0"], cwd=tmp_path, env=cli_env(state),
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    [started] = [e for e in json_lines(done.stderr) if e["message"] == "worker started"]
    assert started["state_dir"] == str(state / "ai-logs")
    assert started["queue"] == f"the SQLite spool {state / 'ai-logs' / 'jobs.sqlite3'} (no REDIS_URL)"


def test_with_redis_the_worker_names_the_stream_without_the_password(
    tmp_path: Path, redis_url: str
) -> None:
    with_password = redis_url.replace("redis://", "redis://:hunter2@")
    done = subprocess.run(
        [*CLI, "worker", "--max-jobs", "0"], cwd=tmp_path,
        env=cli_env(tmp_path, REDIS_URL=with_password), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    [started] = [e for e in json_lines(done.stderr) if e["message"] == "worker started"]
    assert started["queue"].startswith(f"Redis stream ai-logs:jobs at {redis_url}, then the")
    assert "hunter2" not in done.stderr


def test_serve_and_worker_started_in_different_directories_share_the_state(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    port = free_port()
    serve = subprocess.Popen([*CLI, "serve", "--port", str(port)], cwd=tmp_path / "a",
                             env=cli_env(state), stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        serving = _first_event(serve, "serving")
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    worker = subprocess.run([*CLI, "worker", "--max-jobs", "0"], cwd=tmp_path / "b",
                            env=cli_env(state), capture_output=True, text=True, timeout=60,
                            check=True)  # fmt: skip
    [started] = [e for e in json_lines(worker.stderr) if e["message"] == "worker started"]
    assert serving["state_dir"] == started["state_dir"] == str(state / "ai-logs")
    assert serving["queue"] == started["queue"]
    assert not (tmp_path / "a" / "var").exists() and not (tmp_path / "b" / "var").exists()


def _first_event(proc: subprocess.Popen[str], message: str) -> dict[str, Any]:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("{") and json.loads(line)["message"] == message:
            return json.loads(line)
    raise AssertionError(f"no {message!r} event")


def test_lint_outside_a_repository_has_nothing_to_check_and_fails(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "lint"], cwd=tmp_path, env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "nothing to check" in done.stderr and "no problems" not in done.stdout


def test_lint_outside_a_repository_says_so_in_json(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "lint", str(tmp_path), "--json"], cwd=ROOT, env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    report = json.loads(done.stdout)
    assert done.returncode == 2 and report["ok"] is False and "nothing to check" in report["message"]
