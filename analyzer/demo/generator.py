"""`generate()`: deterministic demo logs plus the ground truth tests and benchmarks score against.

Everything random comes from one `random.Random(seed)` consumed in a fixed order, and lines are
written in a fixed order, so the same seed and options give byte-identical files.

Ground truth is measured from what was written, not from intentions: an incident's
`error_lines` counts its error lines per service (redis's `#` warnings for redis, which has no
error level) and `root_logs_first` says whether the root cause logged the incident's first one;
a conversation's tokens are the sum of `tokens_used` on its lines (only anythingllm's completion
line carries tokens), `errors` its error lines and `turns` the chats the browser sent.
`requests[].total_duration_ms` is the entry service's time from first to last line.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from analyzer.demo.output import LineSink, rfc3339_ns
from analyzer.demo.pii import SecretBook
from analyzer.demo.traffic import SECOND, Incident, Simulation
from analyzer.errors import InvalidParameter
from analyzer.model import instant_ns, parse_duration

DEFAULT_SEED = 7
DEFAULT_START = "2026-11-24T08:00:00Z"
DEFAULT_DURATION = "2h"
DEFAULT_RATE = 20.0  # log lines per minute, all services together, outside incidents
SERVICES = ("admin-ui", "anythingllm", "api", "browser", "redis", "worker")
GROUND_TRUTH_FILE = "ground_truth.json"
MAX_INCIDENT_SECONDS = 8 * 60

GroundTruth = dict[str, Any]


@cache
def incident_catalog() -> dict[str, dict[str, Any]]:
    """The kinds from `incidents.yaml`, in scheduling order."""
    text = resources.files("analyzer.demo").joinpath("incidents.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def incident_kinds() -> list[str]:
    """Kinds in the order the generator schedules them."""
    return list(incident_catalog())


def _select(incidents: str | Iterable[str] | None) -> list[str]:
    if incidents is None or incidents == "all":
        return incident_kinds()
    wanted = (
        [k.strip() for k in incidents.split(",")] if isinstance(incidents, str) else list(incidents)
    )
    wanted = [k for k in wanted if k]
    if wanted in (["none"], []):
        return []
    unknown = [k for k in wanted if k not in incident_catalog()]
    if unknown:
        raise InvalidParameter(
            f"unknown incident kind(s): {', '.join(unknown)}",
            suggestion=f"use 'all', 'none' or a comma list of: {', '.join(incident_kinds())}",
        )
    return [k for k in incident_kinds() if k in wanted]


def _schedule(kinds: list[str], start_ns: int, end_ns: int) -> list[Incident]:
    """Non-overlapping windows spread evenly, with healthy traffic before, between and after."""
    slot = (end_ns - start_ns) // (len(kinds) + 1) if kinds else 0
    width = min(MAX_INCIDENT_SECONDS * SECOND, slot // 2) // SECOND * SECOND
    out = []
    for index, kind in enumerate(kinds):
        center = start_ns + (index + 1) * slot
        begin = (center - width // 2) // SECOND * SECOND
        out.append(
            Incident(f"inc-{index + 1}", kind, incident_catalog()[kind], begin, begin + width)
        )
    return out


class _ConversationTally:
    """Conversation totals computed from the lines as written, so the truth matches the logs."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}

    def __call__(self, line: dict[str, Any]) -> None:
        conv_id = line.get("conversation_id")
        if not conv_id:
            return
        entry = self.by_id.setdefault(
            conv_id,
            {
                "conversation_id": conv_id,
                "workspace_id": line.get("workspace_id"),
                "user_id": line.get("user_id"),
                "models": [],
                "turns": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "tokens_used": 0,
                "errors": 0,
                "failed_turns": 0,
            },
        )
        model = line.get("model")
        if model and model not in entry["models"]:
            entry["models"].append(model)
        for key in ("prompt_tokens", "completion_tokens", "tokens_used"):
            entry[key] += int(line.get(key) or 0)
        if line["level"] in ("error", "fatal"):
            entry["errors"] += 1
            if line["service"] == "browser":
                entry["failed_turns"] += 1
        if line["service"] == "browser" and line["message"].startswith("POST "):
            entry["turns"] += 1


def generate(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    start: str = DEFAULT_START,
    duration: str = DEFAULT_DURATION,
    rate: float = DEFAULT_RATE,
    incidents: str | Iterable[str] | None = "all",
    progress: Callable[[int, int], None] | None = None,
) -> GroundTruth:
    """Write `<service>.jsonl`, `redis.log` and `ground_truth.json` into `out_dir`."""
    try:
        start_ns = instant_ns(start)
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise InvalidParameter(
            str(exc), suggestion="e.g. --start 2026-11-24T08:00:00Z --duration 2h"
        ) from exc
    if rate <= 0:
        raise InvalidParameter(
            "rate must be positive", suggestion="e.g. --rate 20 (lines per minute)"
        )
    if seconds < 60:
        raise InvalidParameter("duration must be at least 1m", suggestion="e.g. --duration 2h")
    end_ns = start_ns + seconds * SECOND
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    secrets = SecretBook(rng)
    tally = _ConversationTally()
    sink = LineSink(out, observer=tally)
    scheduled = _schedule(_select(incidents), start_ns, end_ns)
    sim = Simulation(rng, sink, secrets, scheduled, start_ns, end_ns, rate)
    sim.run(progress)
    sink.close()

    truth: GroundTruth = {
        "seed": seed,
        "start": rfc3339_ns(start_ns),
        "end": rfc3339_ns(end_ns),
        "duration": duration,
        "rate": rate,
        "services": list(SERVICES),
        "files": {name: _count_lines(path) for name, path in sorted(sink.paths.items())},
        "incidents": [_incident_truth(i) for i in scheduled],
        "requests": sim.traced,
        "conversations": sorted(tally.by_id.values(), key=lambda c: c["conversation_id"]),
        "secrets": secrets.values(),
        "secrets_by_kind": secrets.by_kind(),
    }
    (out / GROUND_TRUTH_FILE).write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


def _incident_truth(incident: Incident) -> dict[str, Any]:
    spec = incident.spec
    root = spec["root_cause_service"]
    affected = sorted(set(incident.error_lines) | {root})
    first = incident.first_error
    return {
        "id": incident.id,
        "kind": incident.kind,
        "description": spec["description"],
        "root_cause_service": root,
        **({"root_cause_dependency": spec["dependency"]} if spec.get("dependency") else {}),
        "start": rfc3339_ns(incident.start_ns),
        "end": rfc3339_ns(incident.end_ns),
        "affected_services": affected,
        "signature": spec["signature"],
        # error lines per service (warnings for redis, which has no error level)
        "error_lines": dict(sorted(incident.error_lines.items())),
        "first_error_service": first[1] if first else None,
        "root_logs_first": bool(first and first[1] == root),
        "failed_correlation_ids": list(incident.failed_ids),
    }


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
