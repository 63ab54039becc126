"""A detected pattern as a Loki ruler rule group: alert when its rate passes a threshold.

The pattern's regex (a catalog regex, or a mined template turned into one) is checked against
RE2 and quoted by `logql`, the one place text becomes LogQL; the group is YAML in the shape
Loki's ruler reads from `ruler_rules/<tenant>/` or accepts on `/loki/api/v1/rules/<namespace>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from analyzer.errors import InvalidParameter
from analyzer.model import DURATION_PATTERN
from analyzer.sources import logql

CASE_INSENSITIVE = "(?i)"
WILDCARD = "<*>"
_ALERT_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What a rule needs from a registry pattern."""

    pattern_id: str
    pattern_type: str
    regex: str
    severity: str
    suggestion: str
    services: Sequence[str] = ()
    exclude: Sequence[str] = ()
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def template_regex(template: str) -> str:
    """A mined template (`connect to <*> failed`) as an RE2 regex matching its lines literally."""
    parts = template.split(WILDCARD)
    return ".*?".join(logql.regex_escape(p) for p in parts)


def line_filter(regex: str, exclude: Iterable[str] = ()) -> str:
    """`|~ "(?i)..." !~ "(?i)..."`: RE2-checked, quoted, case-insensitive like the catalog."""
    stages = []
    for op, pattern in [("|~", regex), *(("!~", x) for x in exclude)]:
        logql.validate_regex(pattern)
        stages.append(f"{op} {logql.quote(CASE_INSENSITIVE + pattern)}")
    return " ".join(stages)


def pattern_log_query(
    regex: str,
    services: Iterable[str] = (),
    exclude: Iterable[str] = (),
    *,
    service_label: str = logql.SERVICE_LABEL,
) -> str:
    selector = logql.selector(sorted(set(services)), service_label=service_label)
    return f"{selector} {line_filter(regex, exclude)}"


def alert_name(pattern_type: str) -> str:
    words = _ALERT_WORD.findall(pattern_type) or ["Pattern"]
    return "".join(w[:1].upper() + w[1:] for w in words) + "Rate"


def rule_group(
    spec: RuleSpec,
    *,
    threshold: float = 5,
    interval: str = "5m",
    for_: str = "2m",
    evaluation_interval: str = "1m",
) -> dict[str, Any]:
    """One group, one alerting rule: lines matching the pattern per `interval`, by service."""
    for name, value in (("interval", interval), ("for", for_), ("evaluation_interval", evaluation_interval)):
        if not re.fullmatch(DURATION_PATTERN, value):
            raise InvalidParameter(
                f"{name} {value!r} must look like 30s, 5m or 1h", code="INVALID_DURATION"
            )
    if threshold < 0:
        raise InvalidParameter("threshold must not be negative", code="INVALID_THRESHOLD")
    log_expr = pattern_log_query(spec.regex, spec.services, spec.exclude)
    expr = f"{logql.metric_query('count_over_time', log_expr, interval)} > {threshold:g}"
    labels = {"severity": spec.severity, "pattern_type": spec.pattern_type, "source": "ai-logs"}
    labels.update(spec.labels)
    annotations = {
        "summary": f"{spec.pattern_type} above {threshold:g} lines per {interval} in {{{{ $labels.service }}}}",
        "description": spec.description or f"Pattern {spec.pattern_id} ({spec.pattern_type}).",
        "suggestion": spec.suggestion,
        "pattern_id": spec.pattern_id,
    }
    return {
        "name": f"ai-logs-pattern-{_slug(spec.pattern_id)}",
        "interval": evaluation_interval,
        "rules": [
            {
                "alert": alert_name(spec.pattern_type),
                "expr": expr,
                "for": for_,
                "labels": labels,
                "annotations": annotations,
            }
        ],
    }


def rule_group_yaml(group: dict[str, Any]) -> str:
    """The group alone: the body Loki's ruler API takes (one group per request)."""
    return yaml.safe_dump(group, sort_keys=False, allow_unicode=True, width=1000)


def rule_file_yaml(groups: list[dict[str, Any]]) -> str:
    """A rule file for `ruler_rules/<tenant>/`: the same groups under `groups:`."""
    return yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True, width=1000)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:60] or "pattern"
