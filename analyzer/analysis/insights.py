"""One ranked list of findings for an analysis: root cause first, then what supports it.

Kinds: `root_cause` (the service the blame comes to rest at, one per incident), `error_cascade`
(failures that spread across services), `pattern` (named catalog patterns), `burst` (rate jumps
per service and per template), `anomaly` (templates new against the first half of the window)
and `error_summary` (errors per service the catalog does not name).

Every count comes from the window's profile (`WindowFacts`): incidents are cut from the exact
failure counts, cascades order services by their onsets and count their failures exactly,
patterns and unnamed errors sum message groups. The evidence lines only vote on the root cause
(each weighted by the window lines it stands for) and give samples. Every insight carries the
LogQL that reproduces its evidence; time travels in start/end, never in the query text.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from analyzer.analysis import rule_export
from analyzer.analysis.cascades import Cascade, CascadeStep, chain_steps
from analyzer.analysis.catalog import CatalogPattern
from analyzer.analysis.insight import Evidence, Insight
from analyzer.analysis.onsets import incident_onsets
from analyzer.analysis.root_cause import Candidate, Failure, accuse, rank_root_causes
from analyzer.analysis.templates import mine
from analyzer.analysis.temporal import bucket_seconds, bursts_in_series
from analyzer.analysis.window_facts import Incident, NamedGroup, WindowFacts
from analyzer.model import NS_PER_SECOND, Query, Severity, format_timestamp
from analyzer.sources import logql

MAX_PATTERN_INSIGHTS = 10
MAX_BURSTS = 5
MAX_ANOMALIES = 5
ROOT_CAUSE_SCORE = 1_000_000.0
SAMPLED_CONFIDENCE = 0.85  # a cause voted on by sampled lines whose counts are estimates


def rank(facts: WindowFacts, query: Query) -> list[Insight]:
    out: list[Insight] = []
    incidents = facts.incidents
    if not incidents and facts.failing_groups():
        # a few failures, too few to call an incident: one scope over the window
        window = facts.window
        incidents = [
            Incident(0, window.start_ns, window.end_ns, sum(g.group.count for g in facts.failing_groups()),
                     _failures_by_service(facts))
        ]
    several = len(incidents) > 1
    for incident in incidents:
        scope = [r for r in facts.records if incident.covers(r.timestamp_ns)]
        weights = facts.weights(scope, incident.lead_in_ns, incident.end_ns)
        failures = accuse(
            scope, facts.catalog, weight=lambda r, w=weights: w[id(r)],  # type: ignore[misc]
            services=facts.profile.services(),
        )
        candidates = rank_root_causes(
            scope, facts.catalog, failures=failures, services=facts.profile.services()
        )
        if candidates:
            insight = _root_cause(candidates[0], failures, incident, facts)
            if several:
                insight.score += incident.failures
                insight.evidence.extra["episode"] = {"number": incident.number, "of": len(incidents)}
            out.append(insight)
        out.extend(_cascades(facts, incident, failures, candidates[0].service if candidates else None))
    out.extend(_patterns(facts))
    out.extend(_bursts(facts))
    out.extend(_anomalies(facts))
    out.extend(_unnamed_errors(facts))
    out.sort(key=lambda i: (-i.score, i.evidence.first_seen_ns))
    return out


def _failures_by_service(facts: WindowFacts) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for named in facts.failing_groups():
        out[named.group.service] += named.group.count
    return dict(out)


def _samples(messages: list[str], n: int = 3) -> list[str]:
    return list(dict.fromkeys(messages))[:n]


def _error_logql(services: list[str], label: str) -> str:
    """`label`: the one naming services where the logs live (`WindowProfile.service_label`)."""
    levels = logql.level_filter(Severity.WARN) or ""
    return f"{logql.selector(sorted(services), service_label=label)} {levels}".strip()


def _pattern_logql(regex: str, services: Any, label: str, exclude: Any = ()) -> str:
    return rule_export.pattern_log_query(regex, services, exclude, service_label=label)


def _root_cause(
    top: Candidate, failures: list[Failure], incident: Incident, facts: WindowFacts
) -> Insight:
    onsets = incident_onsets(facts, incident)
    joined = onsets.get(top.service)
    # its own failures from when it joined the incident: not a usual failure just before
    own = [
        f for f in failures
        if f.record.service == top.service and (joined is None or f.record.timestamp_ns >= joined)
    ]
    accusing = [f for f in failures if f.accused == top.service and f.record.service != top.service]
    evidence_lines = own + accusing or failures
    own_count = incident.by_service.get(top.service, round(sum(f.weight for f in own)))
    accusing_count = round(sum(f.weight for f in accusing))
    first = min(f.record.timestamp_ns for f in evidence_lines)
    last = max(f.record.timestamp_ns for f in evidence_lines)
    affected = sorted(s for s, n in incident.by_service.items() if n) or sorted(
        {f.record.service for f in failures}
    )
    named = Counter(f.pattern.name for f in own if f.pattern) or Counter(
        f.pattern.name for f in accusing if f.pattern
    )
    pattern: CatalogPattern | None = facts.catalog.get(named.most_common(1)[0][0]) if named else None
    order = sorted(onsets, key=lambda s: onsets[s])
    why = []
    if top.accusations:
        why.append(
            "named or called by "
            + ", ".join(f"{s} ({n})" for s, n in list(_lines(top.accusations).items())[:3])
        )
    if top.service in order:
        why.append(f"first failure of its own at position {order.index(top.service) + 1} of {len(order)}")
    title = f"{top.service} is the likely root cause"
    if len(affected) > 1:
        title += f" of failures in {len(affected)} services"
    suggestion = pattern.suggestion if pattern else f"Start with the first errors of {top.service}."
    if pattern is None and accusing:
        suggestion = (
            f"Other services fail because {top.service} does; check {top.service}'s health and "
            "its own logs first."
        )
    named_by = round(sum(top.named_by.values()))
    if top.silent:
        why.append(f"no logs of its own; named by {named_by} errors")
        title += f"; it has no logs of its own, named by {named_by:,} errors"
        suggestion = (
            f"{top.service} writes no logs here: check it where it runs (its metrics, its "
            f"provider's status) and the network path from {', '.join(sorted(top.named_by))}."
        )
    elif top.cannot_tell:
        why.append("the only service failing, accusing nobody")
        title = (
            f"{top.service} logged every failure; its logs alone cannot tell a cause from a symptom"
        )
        suggestion = (
            f"Read {top.service}'s first errors, and add the logs of the services it calls or "
            "that call it to the window: they tell whether it failed first or was failed."
        )
    confidence = top.confidence
    sampled = not facts.profile.groups_complete
    if sampled:
        confidence *= SAMPLED_CONFIDENCE
    return Insight(
        kind="root_cause",
        title=title,
        severity=max((f.record.level for f in evidence_lines), default=Severity.ERROR),
        confidence=confidence,
        service=top.service,
        suggestion=suggestion,
        score=ROOT_CAUSE_SCORE,
        evidence=Evidence(
            count=own_count + accusing_count,
            first_seen_ns=min(first, onsets.get(top.service, first)),
            last_seen_ns=max(last, min(incident.end_ns, facts.window.end_ns)),
            samples=_samples([f.record.message for f in own] + [f.record.message for f in accusing]),
            services=affected,
            logql=_error_logql([top.service], facts.profile.service_label),
            extra={
                "own_failures": own_count,
                "accusing_lines": accusing_count,
                "accused_by": _lines(top.accusations),
                "reasons": _lines(top.reasons),
                "why": "; ".join(why),
                "onsets": [
                    {"service": name, "first_failure": format_timestamp(onsets[name])} for name in order
                ],
                **(
                    {"silent": True, "named_by": _lines(top.named_by),
                     "named_by_errors": named_by}
                    if top.silent else {}
                ),
                **({"cannot_tell": True} if top.cannot_tell else {}),
                "incident": {
                    "start": incident.start_ns,
                    "end": incident.end_ns,
                    "failures": incident.failures,
                },
                **({"votes": "sampled"} if sampled else {}),
                **({"pattern_type": pattern.name} if pattern else {}),
            },
        ),
    )


def _lines(weights: Counter[str]) -> dict[str, int]:
    """Window lines per key, most first: sampled lines stand for fractions of lines."""
    return {k: max(1, round(v)) for k, v in weights.most_common() if v > 0}


def _cascades(
    facts: WindowFacts, incident: Incident, failures: list[Failure], cause: str | None
) -> list[Insight]:
    """`cause`: the incident's root cause, which every cascade of it names as what to fix."""
    onsets = incident_onsets(facts, incident)
    steps = []
    for service, first_ns in onsets.items():
        count = incident.by_service.get(service, 0)
        if not count:
            continue
        sample = next(
            (f.record.message for f in failures if f.record.service == service),
            _first_sample(facts, service, incident),
        )
        steps.append(
            CascadeStep(
                service=service,
                first_ns=first_ns,
                last_ns=_last_failure(facts, service, incident, first_ns),
                count=count,
                sample=sample,
            )
        )
    out = []
    for cascade in chain_steps(steps, failures):
        out.append(_cascade_insight(cascade, facts.profile.service_label, cause))
    return out


def _first_sample(facts: WindowFacts, service: str, incident: Incident) -> str:
    for named in facts.failing_groups():
        if named.group.service == service and facts.group_count(named.group, incident.lead_in_ns, incident.end_ns):
            return named.group.sample
    return ""


def _last_failure(facts: WindowFacts, service: str, incident: Incident, first_ns: int) -> int:
    last = first_ns
    for named in facts.failing_groups():
        group = named.group
        if group.service == service and group.first_ns <= incident.end_ns:
            last = max(last, min(group.last_ns, incident.end_ns))
    return last


def _cascade_insight(cascade: Cascade, label: str, cause: str | None) -> Insight:
    steps = cascade.steps
    candidates = [cascade.earliest]
    if cascade.most_referenced and cascade.most_referenced not in candidates:
        candidates.append(cascade.most_referenced)
    suggestion = (
        "Fix the earliest or most referenced service first ("
        + " or ".join(candidates)
        + "); the others fail because they depend on it."
    )
    if cause is not None:  # one answer per incident: the cascade agrees with its root cause
        candidates = [cause]
        others = [s for s in cascade.services if s != cause]
        suggestion = (
            f"Fix {cause} first, the incident's root cause; "
            + (
                f"{', '.join(others)} {'fails' if len(others) == 1 else 'fail'} because "
                f"{'it depends' if len(others) == 1 else 'they depend'} on it."
                if others else ""
            )
        ).strip()
    return Insight(
        kind="error_cascade",
        title=f"errors spread across {len(steps)} services: " + " -> ".join(cascade.services),
        severity=Severity.ERROR,
        confidence=min(0.95, 0.5 + 0.1 * len(steps)),
        service=cause or cascade.most_referenced or cascade.earliest,
        suggestion=suggestion,
        score=500_000.0 + cascade.count,
        evidence=Evidence(
            count=cascade.count,
            first_seen_ns=steps[0].first_ns,
            last_seen_ns=max(s.last_ns for s in steps),
            samples=_samples([s.sample for s in steps if s.sample]),
            services=cascade.services,
            logql=_error_logql(cascade.services, label),
            extra={
                "order": [
                    {"service": s.service, "first_error": s.first_ns, "errors": s.count}
                    for s in steps
                ],
                "root_candidates": candidates,
                "references": cascade.references,
            },
        ),
    )


def _patterns(facts: WindowFacts) -> list[Insight]:
    groups: dict[str, list[NamedGroup]] = defaultdict(list)
    for named in facts.groups:
        if named.pattern is not None and named.failing:
            groups[named.pattern.name].append(named)
    out = []
    for name, members in groups.items():
        p = facts.catalog.by_name[name]
        services: Counter[str] = Counter()
        for m in members:
            services[m.group.service] += m.group.count
        count = sum(m.group.count for m in members)
        exact = all(m.group.exact for m in members)
        out.append(
            Insight(
                kind="pattern",
                title=f"{name}: {count:,} lines in {', '.join(sorted(services))}",
                severity=p.severity,
                confidence=0.9,
                service=services.most_common(1)[0][0],
                suggestion=p.suggestion,
                score=100_000.0 + int(p.severity) * 1000 + math.log1p(count) * 100,
                evidence=Evidence(
                    count=count,
                    first_seen_ns=min(m.group.first_ns for m in members),
                    last_seen_ns=max(m.group.last_ns for m in members),
                    samples=_samples([m.group.sample for m in sorted(members, key=lambda m: m.group.first_ns)]),
                    services=sorted(services),
                    logql=_pattern_logql(p.regex, services, facts.profile.service_label, p.exclude),
                    extra={
                        "pattern_type": name,
                        "category": p.category,
                        "blame": p.blame,
                        "regex": p.regex,
                        "exclude": list(p.exclude),
                        **({} if exact else {"count_exact": False}),
                    },
                ),
            )
        )
    out.sort(key=lambda i: -i.score)
    return out[:MAX_PATTERN_INSIGHTS]


def _templates(groups: list[NamedGroup]) -> tuple[dict[int, tuple[str, str]], dict[str, str]]:
    """Mined template (id, text) per group, over the groups' masked messages."""
    matches = mine([g.group.key for g in groups])
    of = {id(g): (m.template_id, m.template) for g, m in zip(groups, matches, strict=True)}
    return of, {tid: text for tid, text in of.values()}


def _within_lines(start_ns: int, end_ns: int, groups: list[NamedGroup]) -> tuple[int, int]:
    """A burst's buckets narrowed to its lines: a message that began inside the first bucket
    is told from its first line, one that ended inside the last to its last line."""
    inside = [g.group for g in groups if g.group.last_ns >= start_ns and g.group.first_ns <= end_ns]
    if not inside:
        return start_ns, end_ns
    return max(start_ns, min(g.first_ns for g in inside)), min(end_ns, max(g.last_ns for g in inside))


def _bursts(facts: WindowFacts) -> list[Insight]:
    window = facts.window
    noisy = [g for g in facts.groups if g.group.level >= Severity.WARN]
    if not noisy:
        return []
    step_ns = _round_step(bucket_seconds(window) * NS_PER_SECOND, facts.profile.counts.step_ns)
    counts = facts.profile.counts.rebucket(step_ns, window.start_ns)
    n = max(1, math.ceil((window.end_ns - window.start_ns) / step_ns))
    by_service = {
        s: {i: c for i, c in row.items() if 0 <= i < n}
        for s, row in counts.by_service([Severity.WARN, Severity.ERROR, Severity.FATAL]).items()
    }
    service_samples = {
        s: _samples([g.group.sample for g in noisy if g.group.service == s]) for s in by_service
    }
    found = bursts_in_series(by_service, n, step_ns, window.start_ns, dimension="service")
    # templates: group buckets summed per mined template (at the groups' step when coarser)
    template_of, texts = _templates(noisy)
    t_step = _round_step(step_ns, facts.profile.group_step_ns)
    t_n = max(1, math.ceil((window.end_ns - window.start_ns) / t_step))
    series: dict[str, dict[int, int]] = defaultdict(dict)
    members: dict[str, list[NamedGroup]] = defaultdict(list)
    for g in noisy:
        tid = template_of[id(g)][0]
        members[tid].append(g)
        row = series[tid]
        for b, c in g.group.buckets.items():
            i = (b * facts.profile.group_step_ns - window.start_ns) // t_step
            row[i] = row.get(i, 0) + c
    found += bursts_in_series(series, t_n, t_step, window.start_ns, dimension="template")
    out = []
    for burst in found[: MAX_BURSTS * 2]:
        is_service = burst.dimension == "service"
        if is_service:
            label = burst.key
            services = [burst.key]
            samples = service_samples.get(burst.key, [])
            sources = [g for g in noisy if g.group.service == burst.key]
            logql_text = _error_logql([burst.key], facts.profile.service_label)
        else:
            label = texts.get(burst.key, burst.key)
            services = sorted({g.group.service for g in members[burst.key]})
            samples = _samples([g.group.sample for g in members[burst.key]])
            logql_text = _pattern_logql(rule_export.template_regex(label), services, facts.profile.service_label)
            sources = members[burst.key]
        first_ns, last_ns = _within_lines(burst.start_ns, burst.end_ns, sources)
        out.append(
            Insight(
                kind="burst",
                title=(
                    f"{'warnings and errors in ' if is_service else 'burst of '}{label[:120]}: "
                    f"up to {_per_minute(burst.peak, burst.bucket_seconds)} against "
                    + (f"a usual {_per_minute(burst.baseline, burst.bucket_seconds)}" if burst.baseline else "none before")
                ),
                severity=Severity.WARN,
                confidence=min(0.95, 0.5 + math.log10(max(burst.ratio, 1.0)) / 4),
                service=services[0] if services else None,
                suggestion="Look at what changed at the burst start: a deploy, a dependency, a traffic spike.",
                score=10_000.0 + burst.ratio * 10 + burst.count / 100,
                evidence=Evidence(
                    count=burst.count,
                    first_seen_ns=first_ns,
                    last_seen_ns=last_ns,
                    samples=samples,
                    services=services,
                    logql=logql_text,
                    extra={
                        "dimension": burst.dimension,
                        "key": burst.key,
                        "change_start_ns": burst.start_ns,
                        "baseline_per_bucket": burst.baseline,
                        "peak_per_bucket": burst.peak,
                        "bucket_seconds": burst.bucket_seconds,
                    },
                ),
            )
        )
    out.sort(key=lambda i: -i.score)
    return out[:MAX_BURSTS]


# bucket widths a person reads without arithmetic (seconds)
ROUND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _round_step(want_ns: int, unit_ns: int) -> int:
    """The smallest round width at least `want_ns` that is a whole number of `unit_ns` (the
    counts' own step, so re-bucketing stays exact)."""
    for seconds in ROUND_STEPS:
        step = seconds * NS_PER_SECOND
        if step >= want_ns and step % unit_ns == 0:
            return step
    return -(-max(want_ns, unit_ns) // unit_ns) * unit_ns


def _per_minute(count: float, bucket_seconds: int) -> str:
    per_minute = count * 60 / max(1, bucket_seconds)
    if per_minute >= 600:
        return f"{per_minute / 60:,.3g} a second"
    return f"{per_minute:,.3g} a minute"


def _anomalies(facts: WindowFacts) -> list[Insight]:
    """Templates of warnings and errors with no line in the first half of the window, from
    services that did log in it: a service whose lines all fall in the second half (a short
    file, a service that just started) has no "before" to be new against."""
    window = facts.window
    split = window.start_ns + (window.end_ns - window.start_ns) // 2
    logged_before = {
        s for s in facts.profile.services() if (facts.profile.first(list(Severity), s) or split) < split
    }
    noisy = [g for g in facts.groups if g.group.level >= Severity.WARN and g.group.service in logged_before]
    if not noisy:
        return []
    template_of, texts = _templates(noisy)
    members: dict[str, list[NamedGroup]] = defaultdict(list)
    for g in noisy:
        members[template_of[id(g)][0]].append(g)
    found = []
    for tid, groups in members.items():
        if any(g.group.first_ns < split for g in groups):
            continue
        level = max(g.group.level for g in groups)
        found.append((level, min(g.group.first_ns for g in groups), tid, groups))
    found.sort(key=lambda item: (-item[0], item[1]))
    out = []
    for level, first_ns, tid, groups in found[:MAX_ANOMALIES]:
        count = sum(g.group.count for g in groups)
        services = sorted({g.group.service for g in groups})
        template = texts[tid]
        out.append(
            Insight(
                kind="anomaly",
                title=f"new message since the first half of the window: {template[:120]}",
                severity=level,
                confidence=0.6,
                service=services[0] if services else None,
                suggestion="A message type that was not there before; check whether it starts the trouble.",
                score=5_000.0 + int(level) * 10 + count / 100,
                evidence=Evidence(
                    count=count,
                    first_seen_ns=first_ns,
                    last_seen_ns=max(g.group.last_ns for g in groups),
                    samples=_samples([g.group.sample for g in groups]),
                    services=services,
                    logql=_pattern_logql(rule_export.template_regex(template), services, facts.profile.service_label),
                    extra={"template": template, "template_id": tid},
                ),
            )
        )
    return out


def _unnamed_errors(facts: WindowFacts) -> list[Insight]:
    by_service: dict[str, list[NamedGroup]] = defaultdict(list)
    for named in facts.failing_groups():
        if named.pattern is None:
            by_service[named.group.service].append(named)
    out = []
    for service, members in by_service.items():
        count = sum(m.group.count for m in members)
        members.sort(key=lambda m: m.group.first_ns)
        out.append(
            Insight(
                kind="error_summary",
                title=f"{count:,} errors in {service} that no catalog pattern names",
                severity=max(m.group.level for m in members),
                confidence=0.5,
                service=service,
                suggestion=f"Read the first of these errors in {service}; add a catalog pattern if it recurs.",
                score=1_000.0 + count,
                evidence=Evidence(
                    count=count,
                    first_seen_ns=members[0].group.first_ns,
                    last_seen_ns=max(m.group.last_ns for m in members),
                    samples=_samples([m.group.sample for m in sorted(members, key=lambda m: -m.group.count)]),
                    services=[service],
                    logql=_error_logql([service], facts.profile.service_label),
                ),
            )
        )
    return out
