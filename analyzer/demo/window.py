"""A production-sized window: millions of lines in seconds, with outages and exact truth.

The request simulation (`generator`) tells rich stories but writes a few thousand lines a second;
answers about volume need windows of millions of lines. This writes one at `rate` lines a second
for `hours` from six services (JSON lines; redis in its own plain format), with what makes real
windows hard:

- outages in which the failing service logs a few lines first and then falls silent, while its
  callers log most errors, later and louder, naming it (`redis:6379`, `anythingllm-db:5432`) and
  sharing correlation ids along the call path browser -> api -> cause;
- background noise: a worker that fails now and then on a malformed upload (the first error of
  the window is one of these, and it causes nothing), slow-request warnings;
- unrelated trouble later: a burst of admin-ui deprecation warnings, a few model timeouts.

`ground_truth.json` is measured from what was written: the window and its rule, lines, errors
and warnings per service and level, each service's first error, and each outage with its cause.
Same seed and options, same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from analyzer.demo.output import redis_line, rfc3339_ns
from analyzer.model import NS_PER_SECOND, format_timestamp, instant_ns

SERVICES = ("api", "browser", "anythingllm", "worker", "admin-ui", "redis")
# share of healthy traffic
WEIGHTS = (0.52, 0.21, 0.165, 0.095, 0.008, 0.002)
DEFAULT_START = "2026-12-01T16:05:42Z"


@dataclass(frozen=True)
class OutageKind:
    name: str
    cause: str
    cause_lines: tuple[tuple[str, str], ...]  # (level, message) the cause logs at the start
    caller_messages: dict[str, tuple[str, ...]]  # caller -> error messages naming the cause
    minutes: int
    dependency: str | None = None  # what really broke, writing no logs: the cause's database


OUTAGES = (
    OutageKind(
        "cache_outage",
        "redis",
        (
            ("warn", "Can't save in background: fork: Cannot allocate memory"),
            ("error", "OOM command not allowed when used memory > 'maxmemory'."),
            ("error", "Out Of Memory allocating 16384 bytes!"),
        ),
        {
            "api": (
                "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
                "Cache unavailable, request failed",
            ),
            "browser": ("Failed to load resource: the server responded with a status of 503",),
            "worker": ("Job queue unreachable: Connection refused (redis:6379)",),
        },
        40,
    ),
    OutageKind(
        "database_outage",
        "anythingllm",
        (
            ("error", "PrismaClientInitializationError: Can't reach database server at anythingllm-db:5432"),
            ("error", "connection pool closed: anythingllm-db:5432 unreachable"),
        ),
        {
            "api": ("anythingllm returned 502 Bad Gateway", "chat request failed: upstream anythingllm error"),
            "browser": ("Failed to load resource: the server responded with a status of 502",),
        },
        25,
        "anythingllm-db",
    ),
    OutageKind(
        "worker_pool_exhausted",
        "worker",
        (
            ("error", "sqlalchemy.exc.TimeoutError: QueuePool limit of size 10 overflow 5 reached"),
        ),
        {
            "api": ("document upload failed: worker did not accept the job within 30s",),
            "browser": ("Failed to load resource: the server responded with a status of 504",),
        },
        20,
    ),
)

HEALTHY = {
    "api": ("GET /api/v1/workspace/{ws}/search", "POST /api/v1/workspace/{ws}/chat", "request to redis:6379 GET cache:{key}"),
    "browser": ("page view /workspace/{ws}", "fetch /api/v1/workspace/{ws}/chat"),
    "anythingllm": ("chat completion model={model} tokens={tokens}", "embedding batch of {n} chunks"),
    "worker": ("processed document doc-{n}.pdf in {ms}ms", "job queue poll ok"),
    "admin-ui": ("GET /admin/users", "settings page rendered"),
    "redis": ("DB saved on disk", "Background saving started by pid {n}"),
}
WORKSPACES = ("ws-legal", "ws-research", "ws-marketing", "ws-support")
MODELS = ("gpt-4o-mini", "claude-3-haiku", "llama-3-70b")


@dataclass
class _Truth:
    lines: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, int] = field(default_factory=dict)
    first_ns: int | None = None
    last_ns: int | None = None

    def note(self, ts: int, service: str, level: str) -> None:
        self.lines[service] = self.lines.get(service, 0) + 1
        key = f"{service}/{level}"
        self.by_level[key] = self.by_level.get(key, 0) + 1
        if level == "error" and service not in self.first_error:
            self.first_error[service] = ts
        self.first_ns = ts if self.first_ns is None else min(self.first_ns, ts)
        self.last_ns = ts if self.last_ns is None else max(self.last_ns, ts)


class _Writer:
    """One file per service, lines in time order (each second is written whole, sorted)."""

    def __init__(self, out: Path) -> None:
        self.files: dict[str, TextIO] = {}
        for service in SERVICES:
            name = "redis.log" if service == "redis" else f"{service}.jsonl"
            self.files[service] = (out / name).open("w", encoding="utf-8")
        self.truth = _Truth()

    def write(self, lines: list[tuple[int, str, str, str]]) -> None:
        lines.sort()
        for ts, service, level, text in lines:
            self.files[service].write(text)
            self.truth.note(ts, service, level)

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def _json(ts: int, service: str, level: str, message: str, extra: str = "") -> str:
    return (
        f'{{"timestamp":"{rfc3339_ns(ts)}","level":"{level}","service":"{service}",'
        f'"message":{json.dumps(message)}{extra}}}\n'
    )


def _redis(ts: int, level: str, message: str) -> str:
    char = {"warn": "#", "error": "#", "info": "*", "debug": "."}[level]
    return redis_line(ts, char, message) + "\n"


def _line(ts: int, service: str, level: str, message: str, extra: str = "") -> tuple[int, str, str, str]:
    text = _redis(ts, level, message) if service == "redis" else _json(ts, service, level, message, extra)
    # redis writes no level words: `#` lines are warnings to a reader (the truth says so too)
    return ts, service, "warn" if service == "redis" and level == "error" else level, text


def generate_window(
    out: str | Path,
    *,
    hours: float = 3.0,
    rate: float = 100.0,
    outages: int | None = None,
    seed: int = 7,
    start: str = DEFAULT_START,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the window into `out` and its ground truth; see the module docstring."""
    rng = random.Random(seed)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_ns = instant_ns(start)
    seconds = int(hours * 3600)
    end_ns = start_ns + seconds * NS_PER_SECOND
    count = outages if outages is not None else max(1, round(hours / 3))
    schedule = _schedule(rng, seconds, count)
    writer = _Writer(out_dir)
    noise_at = _noise_seconds(rng, seconds)
    deprecation_at = int(seconds * 2 / 3)
    timeouts_at = deprecation_at + 120
    incidents: list[dict[str, Any]] = []
    try:
        for second in range(seconds):
            base = start_ns + second * NS_PER_SECOND
            lines: list[tuple[int, str, str, str]] = []
            _healthy(rng, base, rate, lines)
            if second in noise_at:
                lines.append(_line(base + rng.randrange(1, NS_PER_SECOND), "worker", "error",
                                   f"Failed to parse doc-{rng.randrange(100000)}.pdf: malformed xref table"))
            if rng.random() < 0.05:
                lines.append(_line(base + rng.randrange(1, NS_PER_SECOND), "api", "warn",
                                   f"slow request: {rng.randrange(2000, 9000)}ms for /api/v1/search"))
            for begin, length, kind in schedule:
                if begin <= second < begin + length:
                    _outage(rng, kind, second - begin, base, rate, lines)
            if deprecation_at <= second < deprecation_at + 60:
                for _ in range(50):
                    lines.append(_line(base + rng.randrange(1, NS_PER_SECOND), "admin-ui", "warn",
                                       "DeprecationWarning: /admin/v1/users is deprecated; use /admin/v2/users"))
            if second == timeouts_at:
                for i in range(20):
                    lines.append(_line(base + i * 10_000_000 + 1, "anythingllm", "error",
                                       "upstream model timeout: provider did not respond within 60s"))
            if second == seconds - 1:
                lines.append(_line(end_ns, "api", "info", "GET /healthz 200"))
            writer.write(lines)
            if progress is not None and second % 600 == 0:
                progress(second, seconds)
    finally:
        writer.close()
    if progress is not None:
        progress(seconds, seconds)
    truth = writer.truth
    for begin, length, kind in schedule:
        incidents.append(
            {
                "kind": kind.name,
                "root_cause_service": kind.cause,
                **({"root_cause_dependency": kind.dependency} if kind.dependency else {}),
                "start": format_timestamp(start_ns + begin * NS_PER_SECOND),
                "end": format_timestamp(start_ns + (begin + length) * NS_PER_SECOND),
                "callers": sorted(kind.caller_messages),
            }
        )
    errors = {k: v for k, v in truth.by_level.items() if k.endswith("/error")}
    warnings = {k: v for k, v in truth.by_level.items() if k.endswith("/warn")}
    result = {
        "generator": "window",
        "seed": seed,
        "hours": hours,
        "rate": rate,
        "window_start": format_timestamp(end_ns - seconds * NS_PER_SECOND),
        "window_end": format_timestamp(end_ns),
        "window_rule": "start <= timestamp <= end (the last line is at the end)",
        "total_lines": sum(truth.lines.values()),
        "total_errors": sum(errors.values()),
        "total_warnings": sum(warnings.values()),
        "lines_by_service": dict(sorted(truth.lines.items())),
        "count_by_service_level": dict(sorted(truth.by_level.items())),
        "first_error": {s: format_timestamp(ts) for s, ts in sorted(truth.first_error.items(), key=lambda kv: kv[1])},
        "incidents": incidents,
        "root_service": incidents[0]["root_cause_service"] if incidents else None,
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


QUIET_AFTER_S = 300  # healthy time after each outage: longer than a lull inside one incident


def _schedule(rng: random.Random, seconds: int, count: int) -> list[tuple[int, int, OutageKind]]:
    """(start, length, kind) of outages spread over the window, one per equal slot (the first
    10 minutes in, or at a sixth), each of a kind in turn. An outage longer than its slot allows
    is cut short, so outages never overlap, end inside the window and leave quiet time between."""
    if count <= 0:
        return []
    slot = seconds // count
    out = []
    for i in range(count):
        kind = OUTAGES[i % len(OUTAGES)]
        length = max(60, min(kind.minutes * 60, slot - QUIET_AFTER_S))
        offset = min(max(600, slot // 6), max(0, slot - length - QUIET_AFTER_S))
        out.append((i * slot + offset, length, kind))
    return out


def _noise_seconds(rng: random.Random, seconds: int) -> set[int]:
    """About one malformed upload every two minutes, the first within the first two minutes."""
    out = {rng.randrange(30, 120)}
    at = max(out)
    while at < seconds:
        at += rng.randrange(20, 220)
        out.add(at)
    return out


def _healthy(rng: random.Random, base: int, rate: float, lines: list[tuple[int, str, str, str]]) -> None:
    n = int(rate) + (rng.random() < rate - int(rate))
    picks = rng.choices(SERVICES, WEIGHTS, k=n)
    for service in picks:
        ts = base + rng.randrange(1, NS_PER_SECOND)
        template = rng.choice(HEALTHY[service])
        message = template.format(
            ws=rng.choice(WORKSPACES), key=f"{rng.getrandbits(32):08x}", model=rng.choice(MODELS),
            tokens=rng.randrange(50, 4000), n=rng.randrange(1, 100000), ms=rng.randrange(20, 900),
        )
        extra = ""
        if service in ("api", "browser", "anythingllm"):
            extra = f',"correlation_id":"req-{rng.getrandbits(48):012x}"'
        if service == "anythingllm" and "tokens=" in message:
            extra += f',"model":"{rng.choice(MODELS)}","tokens_used":{rng.randrange(50, 4000)}'
        lines.append(_line(ts, service, "info", message, extra))


def _outage(
    rng: random.Random, kind: OutageKind, elapsed: int, base: int, rate: float,
    lines: list[tuple[int, str, str, str]],
) -> None:
    """The cause's own lines at the start, then its callers failing, request by request."""
    if elapsed == 0:
        for i, (level, message) in enumerate(kind.cause_lines):
            lines.append(_line(base + i * NS_PER_SECOND // 2 + 1, kind.cause, level, message))
        return
    if elapsed < 3:
        return  # the callers notice a few seconds later
    requests = max(1, int(rate * 0.35))
    for _ in range(requests):
        ts = base + rng.randrange(1, NS_PER_SECOND - 50_000_000)
        rid = f',"correlation_id":"req-{rng.getrandbits(48):012x}"'
        # the browser starts the request, the api calls the cause, both fail on the way back
        lines.append(_line(ts, "browser", "info", "fetch /api/v1/workspace/ws-legal/chat", rid))
        ts += 1_000_000
        for hop, (caller, messages) in enumerate(sorted(kind.caller_messages.items())):
            if caller == "worker" and rng.random() > 0.25:
                continue
            for j, message in enumerate(messages):
                lines.append(_line(ts + (hop * 3 + j) * 1_000_000, caller, "error", message, rid))
