"""When each service joined an incident: its first failure above its own background.

The order in which services started failing is what a narrative tells after the root cause, so
it must hold up: a service that fails now and then all day (a worker rejecting a malformed
upload every few minutes) has not "failed first" because one of its usual failures fell just
before the outage. From the profile's exact failure counts per service and bucket:

- a service with no failure outside the incidents joined at its first failure in the span;
- otherwise its background is its failure rate outside every incident (and the minutes just
  after one, where callers' timeouts trail); it joined when its failures in the incident stand
  above that background (Poisson, four spreads), at its first failure line in the first bucket
  that does; or when it logged a failure it never logs otherwise (a message group whose lines
  all fall in the incident: a worker's one `QueuePool limit reached` among its usual noise), at
  that failure's first line.

Pure: reads `WindowFacts`, never the logs.
"""

from __future__ import annotations

import math

from analyzer.analysis.window_facts import EPISODE_GAP_BUCKETS, Incident, WindowFacts
from analyzer.model import Severity

BACKGROUND_SPREADS = 4.0  # how far above its background a service's incident failures must be
BUCKET_SPREADS = 3.0  # ... and the bucket it joins in


def incident_onsets(facts: WindowFacts, incident: Incident) -> dict[str, int]:
    """Service -> when it started failing in the incident (ns), for the services that did."""
    step = facts.bucket_ns
    firsts = facts.onsets(incident.lead_in_ns, incident.end_ns)
    rows = facts.failure_buckets()
    covered = [(i.lead_in_ns // step, i.end_ns // step + EPISODE_GAP_BUCKETS) for i in facts.incidents]
    window_buckets = facts.window.end_ns // step - facts.window.start_ns // step + 1
    outside_buckets = max(1, window_buckets - _covered_buckets(covered))
    lo, hi = incident.lead_in_ns // step, incident.end_ns // step
    out: dict[str, int] = {}
    for service, first_ns in firsts.items():
        row = rows.get(service, {})
        outside = sum(n for b, n in row.items() if not any(a <= b <= z for a, z in covered))
        if not outside:
            out[service] = first_ns
            continue
        new = _new_failure(facts, service, incident)
        rate = outside / outside_buckets
        expected = rate * (hi - lo + 1)
        inside = sum(n for b, n in row.items() if lo <= b <= hi)
        if inside <= expected + BACKGROUND_SPREADS * math.sqrt(expected + 1):
            if new is not None:
                out[service] = new
            continue  # otherwise only its usual failures: not part of this incident
        limit = rate + BUCKET_SPREADS * math.sqrt(rate)
        hot = [b for b in sorted(row) if lo <= b <= hi and row[b] > limit]
        joined = hot[0] * step if hot else first_ns
        joined = max(first_ns, _first_failure(facts, service, joined, incident.end_ns) or joined)
        out[service] = min(joined, new) if new is not None else joined
    return out


def _new_failure(facts: WindowFacts, service: str, incident: Incident) -> int | None:
    """The first line of a failure the service logs only in this incident, if any."""
    firsts = [
        named.group.first_ns
        for named in facts.failing_groups()
        if named.group.service == service
        and incident.lead_in_ns <= named.group.first_ns
        and named.group.last_ns <= incident.end_ns + EPISODE_GAP_BUCKETS * facts.bucket_ns
    ]
    return min(firsts) if firsts else None


def _covered_buckets(ranges: list[tuple[int, int]]) -> int:
    total, reach = 0, None
    for a, z in sorted(ranges):
        if reach is None or a > reach:
            total += z - a + 1
            reach = z
        elif z > reach:
            total += z - reach
            reach = z
    return total


def _first_failure(facts: WindowFacts, service: str, start_ns: int, end_ns: int) -> int | None:
    for record in facts.records:
        if record.service != service or not start_ns <= record.timestamp_ns <= end_ns:
            continue
        named = facts.group_of(record)
        if (named.failing if named else record.level >= Severity.ERROR):
            return record.timestamp_ns
    return None
