"""One ranked list of findings for an analysis: root cause first, then what supports it.

Kinds: `root_cause` (the service the blame comes to rest at), `error_cascade` (failures that
spread across services), `pattern` (named catalog patterns), `burst` (rate jumps per service
and per template), `anomaly` (templates new against the first half of the window) and
`error_summary` (errors per service the catalog does not name). Every insight carries the
LogQL that reproduces its evidence; time travels in start/end, never in the query text.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from analyzer.analysis import rule_export
from analyzer.analysis.anomalies import novel_templates
from analyzer.analysis.cascades import detect_cascades
from analyzer.analysis.catalog import Catalog, CatalogPattern, default_catalog
from analyzer.analysis.insight import Evidence, Insight
from analyzer.analysis.root_cause import Candidate, Failure, accuse, rank_root_causes
from analyzer.analysis.templates import mine
from analyzer.analysis.temporal import detect_bursts
from analyzer.model import NS_PER_SECOND, LogRecord, Query, Severity, TimeRange
from analyzer.sources import logql

MAX_PATTERN_INSIGHTS = 10
MAX_BURSTS = 5
MAX_ANOMALIES = 5
ROOT_CAUSE_SCORE = 1_000_000.0
EPISODE_GAP_BUCKETS = 3
EPISODE_MIN_FAILURES = 5
EPISODE_LEAD_NS = 60 * NS_PER_SECOND  # a cause often logs a warning just before the failures


def rank(
    records: list[LogRecord],
    query: Query,
    window: TimeRange,
    *,
    catalog: Catalog | None = None,
) -> list[Insight]:
    catalog = catalog or default_catalog()
    failures = accuse(records, catalog)
    out: list[Insight] = []
    episodes = failure_episodes(failures, window)
    if len(episodes) > 1:
        # separate incidents in one window: each gets its own cause and cascade, largest first
        for number, episode in enumerate(episodes, 1):
            lead_in = episode[0].record.timestamp_ns - EPISODE_LEAD_NS
            last = episode[-1].record.timestamp_ns
            scope = [r for r in records if lead_in <= r.timestamp_ns <= last]
            candidates = rank_root_causes(scope, catalog)
            if candidates:
                insight = _root_cause(candidates[0], episode, catalog)
                insight.score += len(episode)
                insight.evidence.extra["episode"] = {"number": number, "of": len(episodes)}
                out.append(insight)
            out.extend(_cascades(episode))
    else:
        candidates = rank_root_causes(records, catalog) if failures else []
        if candidates:
            out.append(_root_cause(candidates[0], failures, catalog))
        out.extend(_cascades(failures))
    out.extend(_patterns(failures, catalog))
    out.extend(_bursts(records, window))
    out.extend(_anomalies(records, window))
    out.extend(_unnamed_errors(failures))
    out.sort(key=lambda i: (-i.score, i.evidence.first_seen_ns))
    return out


def failure_episodes(failures: list[Failure], window: TimeRange) -> list[list[Failure]]:
    """Failures cut into incidents at quiet gaps; runs too small to explain are dropped.

    Buckets are a minute, or 1/240 of a long window; a gap of EPISODE_GAP_BUCKETS empty buckets
    or more separates two incidents.
    """
    if not failures:
        return []
    bucket = max(60 * NS_PER_SECOND, (window.end_ns - window.start_ns) // 240)
    ordered = sorted(failures, key=lambda f: f.record.timestamp_ns)
    episodes: list[list[Failure]] = [[ordered[0]]]
    for failure in ordered[1:]:
        gap = failure.record.timestamp_ns - episodes[-1][-1].record.timestamp_ns
        if gap > EPISODE_GAP_BUCKETS * bucket:
            episodes.append([failure])
        else:
            episodes[-1].append(failure)
    return [e for e in episodes if len(e) >= EPISODE_MIN_FAILURES]


def _samples(messages: list[str], n: int = 3) -> list[str]:
    return list(dict.fromkeys(messages))[:n]


def _error_logql(services: list[str]) -> str:
    levels = logql.level_filter(Severity.WARN) or ""
    return f"{logql.selector(sorted(services))} {levels}".strip()


def _root_cause(top: Candidate, failures: list[Failure], catalog: Catalog) -> Insight:
    own = [f for f in failures if f.record.service == top.service]
    accusing = [f for f in failures if f.accused == top.service and f.record.service != top.service]
    evidence_lines = own + accusing
    first = min(f.record.timestamp_ns for f in evidence_lines)
    last = max(f.record.timestamp_ns for f in evidence_lines)
    affected = sorted({f.record.service for f in failures})
    named = Counter(f.pattern.name for f in own if f.pattern) or Counter(
        f.pattern.name for f in accusing if f.pattern
    )
    pattern: CatalogPattern | None = catalog.get(named.most_common(1)[0][0]) if named else None
    why = []
    if top.accusations:
        why.append(
            "named or called by " + ", ".join(f"{s} ({n})" for s, n in top.accusations.most_common(3))
        )
    if own:
        why.append(f"first failure of its own at position {_onset_rank(top, failures)} of {len(affected)}")
    title = f"{top.service} is the likely root cause"
    if len(affected) > 1:
        title += f" of failures in {len(affected)} services"
    suggestion = pattern.suggestion if pattern else f"Start with the first errors of {top.service}."
    if pattern is None and accusing:
        suggestion = (
            f"Other services fail because {top.service} does; check {top.service}'s health and "
            "its own logs first."
        )
    return Insight(
        kind="root_cause",
        title=title,
        severity=max((f.record.level for f in evidence_lines), default=Severity.ERROR),
        confidence=top.confidence,
        service=top.service,
        suggestion=suggestion,
        score=ROOT_CAUSE_SCORE,
        evidence=Evidence(
            count=len(evidence_lines),
            first_seen_ns=first,
            last_seen_ns=last,
            samples=_samples([f.record.message for f in own] + [f.record.message for f in accusing]),
            services=affected,
            logql=_error_logql([top.service]),
            extra={
                "own_failures": len(own),
                "accusing_lines": len(accusing),
                "accused_by": dict(top.accusations.most_common()),
                "reasons": dict(top.reasons.most_common()),
                "why": "; ".join(why),
                **({"pattern_type": pattern.name} if pattern else {}),
            },
        ),
    )


def _onset_rank(top: Candidate, failures: list[Failure]) -> int:
    firsts: dict[str, int] = {}
    for f in failures:
        s = f.record.service
        firsts[s] = min(firsts.get(s, f.record.timestamp_ns), f.record.timestamp_ns)
    order = sorted(firsts, key=lambda s: firsts[s])
    return order.index(top.service) + 1 if top.service in order else len(order)


def _cascades(failures: list[Failure]) -> list[Insight]:
    out = []
    for cascade in detect_cascades(failures):
        steps = cascade.steps
        candidates = [cascade.earliest]
        if cascade.most_referenced and cascade.most_referenced not in candidates:
            candidates.append(cascade.most_referenced)
        out.append(
            Insight(
                kind="error_cascade",
                title=f"errors spread across {len(steps)} services: " + " -> ".join(cascade.services),
                severity=Severity.ERROR,
                confidence=min(0.95, 0.5 + 0.1 * len(steps)),
                service=cascade.most_referenced or cascade.earliest,
                suggestion=(
                    "Fix the earliest or most referenced service first ("
                    + " or ".join(candidates)
                    + "); the others fail because they depend on it."
                ),
                score=500_000.0 + cascade.count,
                evidence=Evidence(
                    count=cascade.count,
                    first_seen_ns=steps[0].first_ns,
                    last_seen_ns=max(s.last_ns for s in steps),
                    samples=_samples([s.sample for s in steps]),
                    services=cascade.services,
                    logql=_error_logql(cascade.services),
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
        )
    return out


def _patterns(failures: list[Failure], catalog: Catalog) -> list[Insight]:
    groups: dict[str, list[Failure]] = defaultdict(list)
    for f in failures:
        if f.pattern is not None:
            groups[f.pattern.name].append(f)
    out = []
    for name, members in groups.items():
        p = catalog.by_name[name]
        services = Counter(f.record.service for f in members)
        out.append(
            Insight(
                kind="pattern",
                title=f"{name}: {len(members)} lines in {', '.join(sorted(services))}",
                severity=p.severity,
                confidence=0.9,
                service=services.most_common(1)[0][0],
                suggestion=p.suggestion,
                score=100_000.0 + int(p.severity) * 1000 + math.log1p(len(members)) * 100,
                evidence=Evidence(
                    count=len(members),
                    first_seen_ns=members[0].record.timestamp_ns,
                    last_seen_ns=members[-1].record.timestamp_ns,
                    samples=_samples([f.record.message for f in members]),
                    services=sorted(services),
                    logql=rule_export.pattern_log_query(p.regex, services, p.exclude),
                    extra={
                        "pattern_type": name,
                        "category": p.category,
                        "blame": p.blame,
                        "regex": p.regex,
                        "exclude": list(p.exclude),
                    },
                ),
            )
        )
    out.sort(key=lambda i: -i.score)
    return out[:MAX_PATTERN_INSIGHTS]


def _bursts(records: list[LogRecord], window: TimeRange) -> list[Insight]:
    noisy = [r for r in records if r.level >= Severity.WARN]
    if not noisy:
        return []
    by_service = detect_bursts(noisy, window, lambda r: r.service, dimension="service")
    matches = mine([r.message for r in noisy])
    template_of = {id(r): (m.template_id, m.template) for r, m in zip(noisy, matches, strict=True)}
    texts = dict(template_of.values())
    by_template = detect_bursts(
        noisy, window, lambda r: template_of[id(r)][0], dimension="template"
    )
    out = []
    for burst in (by_service + by_template)[: MAX_BURSTS * 2]:
        is_service = burst.dimension == "service"
        label = burst.key if is_service else texts.get(burst.key, burst.key)
        logql_text = (
            _error_logql([burst.key])
            if is_service
            else rule_export.pattern_log_query(rule_export.template_regex(label), burst.services)
        )
        out.append(
            Insight(
                kind="burst",
                title=(
                    f"{'warnings and errors in ' if is_service else 'burst of '}{label[:120]}: "
                    f"{burst.peak} per {burst.bucket_seconds}s against a baseline of {burst.baseline:g}"
                ),
                severity=Severity.WARN,
                confidence=min(0.95, 0.5 + math.log10(max(burst.ratio, 1.0)) / 4),
                service=burst.key if is_service else (burst.services[0] if burst.services else None),
                suggestion="Look at what changed at the burst start: a deploy, a dependency, a traffic spike.",
                score=10_000.0 + burst.ratio * 10 + burst.count / 100,
                evidence=Evidence(
                    count=burst.count,
                    first_seen_ns=burst.start_ns,
                    last_seen_ns=burst.end_ns,
                    samples=burst.samples,
                    services=burst.services,
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


def _anomalies(records: list[LogRecord], window: TimeRange) -> list[Insight]:
    out = []
    for n in novel_templates(records, window)[:MAX_ANOMALIES]:
        out.append(
            Insight(
                kind="anomaly",
                title=f"new message since the first half of the window: {n.template[:120]}",
                severity=n.level,
                confidence=0.6,
                service=n.services[0] if n.services else None,
                suggestion="A message type that was not there before; check whether it starts the trouble.",
                score=5_000.0 + int(n.level) * 10 + n.count / 100,
                evidence=Evidence(
                    count=n.count,
                    first_seen_ns=n.first_seen_ns,
                    last_seen_ns=n.last_seen_ns,
                    samples=n.samples,
                    services=n.services,
                    logql=rule_export.pattern_log_query(rule_export.template_regex(n.template), n.services),
                    extra={"template": n.template, "template_id": n.template_id},
                ),
            )
        )
    return out


def _unnamed_errors(failures: list[Failure]) -> list[Insight]:
    by_service: dict[str, list[Failure]] = defaultdict(list)
    for f in failures:
        if f.pattern is None:
            by_service[f.record.service].append(f)
    out = []
    for service, members in by_service.items():
        out.append(
            Insight(
                kind="error_summary",
                title=f"{len(members)} errors in {service} that no catalog pattern names",
                severity=max(f.record.level for f in members),
                confidence=0.5,
                service=service,
                suggestion=f"Read the first of these errors in {service}; add a catalog pattern if it recurs.",
                score=1_000.0 + len(members),
                evidence=Evidence(
                    count=len(members),
                    first_seen_ns=members[0].record.timestamp_ns,
                    last_seen_ns=members[-1].record.timestamp_ns,
                    samples=_samples([f.record.message for f in members]),
                    services=[service],
                    logql=_error_logql([service]),
                ),
            )
        )
    return out
