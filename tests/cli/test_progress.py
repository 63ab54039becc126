"""Progress of long work: one line on stderr, only on a terminal (a real pseudo-terminal here),
never with --json, never for work shorter than the delay; other code reports through one
callback, progress(done, total, label)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from analyzer.cli.progress import TerminalProgress, attach

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from analyzer.cli import main; sys.exit(main())"]


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: (the side a program writes to, the side the test reads)."""
    controller, device = pty.openpty()
    yield device, controller
    for fd in (device, controller):
        with contextlib.suppress(OSError):
            os.close(fd)


def read_all(fd: int, seconds: float = 0.5) -> str:
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_progress_is_one_line_rewritten(terminal: tuple[int, int]) -> None:
    device, controller = terminal
    stream = open(device, "w", closefd=False)  # noqa: SIM115 - closed by the fixture
    with TerminalProgress(stream=stream, delay=0, interval=0) as progress:
        progress(512, 2048, "reading api.jsonl")
        progress(2048, 2048, "reading api.jsonl")
    shown = read_all(controller)
    assert "\r\x1b[Kreading api.jsonl  25% (512/2.0k)" in shown
    assert "reading api.jsonl 100% (2.0k/2.0k)" in shown
    assert shown.endswith("\r\x1b[K")  # erased before the command prints its answer


def test_an_unknown_total_shows_what_is_done(terminal: tuple[int, int]) -> None:
    device, controller = terminal
    stream = open(device, "w", closefd=False)  # noqa: SIM115
    TerminalProgress(stream=stream, delay=0)(1_500_000, 0, "lines read")
    assert "lines read 1.5M" in read_all(controller)


def test_not_a_terminal_shows_nothing() -> None:
    stream = StringIO()
    progress = TerminalProgress(stream=stream, delay=0)
    progress(1, 2, "reading")
    progress.say("reading logs")
    progress.close()
    assert stream.getvalue() == ""


def test_json_output_shows_no_progress_even_on_a_terminal(terminal: tuple[int, int]) -> None:
    device, controller = terminal
    stream = open(device, "w", closefd=False)  # noqa: SIM115
    TerminalProgress(enabled=False, stream=stream, delay=0)(1, 2, "reading")
    assert read_all(controller, 0.2) == ""


def test_work_shorter_than_the_delay_shows_nothing(terminal: tuple[int, int]) -> None:
    device, controller = terminal
    stream = open(device, "w", closefd=False)  # noqa: SIM115
    with TerminalProgress(stream=stream, delay=60) as progress:
        progress(1, 2, "reading")
    assert read_all(controller, 0.2) == ""


def test_a_source_with_a_progress_attribute_reports_through_the_callback() -> None:
    class Source:
        progress = None

    source, calls = Source(), []
    attach(source, lambda done, total, label: calls.append((done, total, label)))
    source.progress(1, 2, "x")  # type: ignore[misc]
    assert calls == [(1, 2, "x")]


def generate(tmp_path: Path, stderr: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "demo", "generate", str(tmp_path / "out"), "--duration", "20m", "--rate", "3000",
         *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120, check=True,
    )  # fmt: skip


def test_demo_generate_shows_progress_on_a_terminal(tmp_path: Path, terminal) -> None:
    device, controller = terminal
    generate(tmp_path, device)
    shown = read_all(controller)
    assert "generating minutes" in shown and "100% (20/20)" in shown


def test_demo_generate_with_json_prints_only_json_and_no_progress(tmp_path: Path, terminal) -> None:
    device, controller = terminal
    done = generate(tmp_path, device, "--json")
    assert json.loads(done.stdout)["files"]
    assert "generating" not in read_all(controller)


def test_demo_generate_into_a_pipe_shows_no_progress(tmp_path: Path) -> None:
    done = generate(tmp_path, subprocess.PIPE)
    assert "generating" not in done.stderr

