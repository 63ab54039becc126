"""The LogQL a window profile sends to Loki: counts by service and level, failures over time,
first and newest failure lines, counts for a message template.

Every expression starts from one base selector (the tenant's streams, `{service=~".+"}` unless
configured, e.g. `{env="prod"}`); user text reaches it only through `logql.quote` and
`logql.regex_escape`. Time stays in start/end; range vectors are written as the nicest unit
(`[1m]`, `[10s]`, `[3h]`), as people write them in Grafana.
"""

from __future__ import annotations

from collections.abc import Iterable

from analyzer.model import NS_PER_SECOND
from analyzer.sources import logql

FAILURE_LEVELS = "error|fatal|critical"
NOISY_LEVELS = "warn|error|fatal|critical"
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def duration(seconds: int) -> str:
    """`3h`, `1m`, `10s`: the largest unit that divides the duration."""
    seconds = max(1, int(seconds))
    for unit, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def nice_step(seconds: float) -> int:
    """A step of about `seconds` that people would choose: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10,
    15, 30 min, 1, 2, 3, 6, 12 h, 1 d."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200, 86400):
        if seconds <= step:
            return step
    return 86400 * max(1, round(seconds / 86400))


def base_selector(configured: str, service_label: str) -> str:
    """The configured streams; the default one names the tenant's own service label."""
    if configured == logql.ANY_SERVICE:
        return logql.selector((), service_label=service_label)
    return configured


def with_services(base: str, services: Iterable[str], service_label: str = logql.SERVICE_LABEL) -> str:
    """The base selector narrowed to services: `{env="prod", service=~"api|redis"}`."""
    wanted = sorted(set(services))
    if not wanted:
        return base
    narrowed = logql.selector(wanted, service_label=service_label)
    if base == logql.selector((), service_label=service_label):
        return narrowed
    return base[:-1].rstrip() + ", " + narrowed[1:-1] + "}"


def _vector(selector: str, pipeline: str, window: str) -> str:
    return f"{selector} {pipeline} [{window}]" if pipeline else f"{selector}[{window}]"


def counts(selector: str, by: Iterable[str], range_seconds: int, pipeline: str = "") -> str:
    """`sum by (service, level) (count_over_time({...}[1m]))`."""
    labels = ", ".join(logql.label_name(b) for b in by)
    return f"sum by ({labels}) (count_over_time({_vector(selector, pipeline, duration(range_seconds))}))"


def level_filter(levels: str, label: str = "detected_level") -> str:
    return f"| {logql.label_name(label)}=~{logql.quote(levels)}"


def failure_lines(selector: str, stages: str = "") -> str:
    """`{...} | detected_level=~"error|fatal|critical"`: error lines, in any format."""
    return f"{selector} {join(stages, level_filter(FAILURE_LEVELS))}"


def join(*stages: str) -> str:
    return " ".join(s for s in stages if s)


def stages_for(
    ids: Iterable[tuple[str, str]], exclude_patterns: Iterable[str], levels: str | None
) -> str:
    """The pipeline a question adds after the selector: its ids (structured metadata), its
    exclude patterns (line filters) and its severity floor."""
    out = [ids_filter(name, [value]) for name, value in ids]
    for pattern in exclude_patterns:
        logql.validate_regex(pattern)
        out.append(f"!~ {logql.quote(pattern)}")
    if levels:
        out.append(level_filter(levels))
    return " ".join(out)


def sums(selector: str, stages: str, field: str, by: Iterable[str], range_seconds: int) -> str:
    """`sum by (model) (sum_over_time({...} | json | unwrap tokens_used | __error__="" [5m]))`:
    lines whose value is missing or not a number are dropped rather than failing the query."""
    labels = ", ".join(logql.label_name(b) for b in by)
    pipeline = join(stages, f'| json | unwrap {logql.label_name(field)} | __error__=""')
    return f"sum by ({labels}) (sum_over_time({selector} {pipeline} [{duration(range_seconds)}]))"


def noisy_lines(selector: str) -> str:
    return f"{selector} {level_filter(NOISY_LEVELS)}"


def template_filter(regex: str) -> str:
    logql.validate_regex(regex)
    return f"|~ {logql.quote(regex)}"


def ids_filter(name: str, values: Iterable[str]) -> str:
    """`| correlation_id=~"a|b"`: structured metadata, a label filter after the selector."""
    wanted = sorted(set(values))
    if len(wanted) == 1:
        return f"| {logql.label_name(name)}={logql.quote(wanted[0])}"
    return f"| {logql.label_name(name)}=~{logql.quote('|'.join(logql.regex_escape(v) for v in wanted))}"


def seconds_of(ns: int) -> int:
    return max(1, -(-ns // NS_PER_SECOND))
