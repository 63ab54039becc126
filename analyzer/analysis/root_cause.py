"""Which service started it: blame flows from the loud victims to the quiet cause.

Every failure line casts one vote for the service it accuses:

1. a caller-blamed pattern (auth failures: the rejecting side is fine, the sender is not)
   accuses the service that called this one in the same request;
2. a line that names another service accuses it: a connection target first (`redis:6379`,
   a URL, `host='api.openai.com'`), else a known service named as a word (`calling anythingllm`,
   `from api`). A target with no logs in the window is a silent dependency (managed Redis, a
   database, a SaaS API): it can be accused like any service, and is marked `silent`;
3. an upstream-blamed pattern (timeouts, refused, 5xx) accuses a service this one called in
   the same request that also failed;
4. a line that accuses nobody by itself inherits what the same service said elsewhere in the
   same request ("chat request failed with status 503" after "connection refused redis:6379"),
   before rule 3: what a service said beats what the call structure suggests;
5. a line still accusing nobody takes what other lines of the same message in the same
   service accuse through their requests (a sample keeps the requests of a few lines only);
6. otherwise the line accuses its own service.

Votes then flow transitively (the browser blames the api, the api blames redis, so the
browser's votes end at redis); where they come to rest is the score. The first failure time
breaks near-ties. Nothing here knows any service by name: only timing, references, call
direction (span parents, or order within a correlation id) and catalog `blame`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from analyzer.analysis.catalog import Catalog, CatalogPattern, default_catalog
from analyzer.analysis.dependencies import named_services
from analyzer.analysis.template_tokens import masked
from analyzer.model import LogRecord, Severity

FLOW_ROUNDS = 12
ONSET_WEIGHT = 0.15  # share of the score earned by failing first
# Confidence ceilings, measured by bench/calibration.py over generated windows: what the
# evidence can support whatever the votes say.
CANNOT_TELL = 0.25  # one service failing, accusing nobody: cause or symptom, logs cannot say
ONE_WITNESS = 0.75  # one service's lines name what failed it, nothing else confirms
FEW_LINES = 10  # fewer failure lines than this ...
FEW_LINES_CEILING = 0.5  # ... support no more than this


@dataclass(slots=True)
class Failure:
    record: LogRecord
    pattern: CatalogPattern | None
    accused: str = ""
    reason: str = "self"
    weight: float = 1.0  # window lines this sampled line stands for


Weight = Callable[[LogRecord], float]


@dataclass(slots=True)
class Candidate:
    service: str
    score: float
    confidence: float
    first_failure_ns: int | None
    own_failures: float
    accusations: Counter[str] = field(default_factory=Counter)  # accuser -> window lines (float)
    reasons: Counter[str] = field(default_factory=Counter)  # why -> window lines (float)
    patterns: Counter[str] = field(default_factory=Counter)  # catalog names in own failures
    silent: bool = False  # wrote no line in the window: known only from what its callers say
    cannot_tell: bool = False  # the only failing service, accusing nobody: cause or symptom?
    named_by: Counter[str] = field(default_factory=Counter)  # service -> lines naming it (float)


def is_failure(record: LogRecord, pattern: CatalogPattern | None) -> bool:
    """Errors, and warnings the catalog names as at least an error (redis logs OOM as `#`)."""
    if record.level >= Severity.ERROR:
        return True
    return record.level >= Severity.WARN and pattern is not None and pattern.severity >= Severity.ERROR


def _reference_pattern(services: list[str]) -> re.Pattern[str] | None:
    """A known service named as a token: `redis:6379`, `from api`; not `/api/v1` or `redis-db`."""
    if not services:
        return None
    names = "|".join(re.escape(s) for s in sorted(services, key=len, reverse=True))
    return re.compile(rf"(?<![\w./-])({names})(?![\w/-]|\.\w)", re.IGNORECASE)


class _Requests:
    """Who called whom inside each correlation id: span parents when present, else order (the
    first service of a request called the later ones; a service whose error came first, in a
    request whose lines are all errors, was called by the ones that failed after it)."""

    def __init__(self, records: list[LogRecord]) -> None:
        self.span_service: dict[str, str] = {}
        self.order: dict[str, list[str]] = defaultdict(list)
        self.first_error: dict[tuple[str, str], int] = {}
        for r in records:
            if r.correlation_id and r.level >= Severity.ERROR:
                key = (r.correlation_id, r.service)
                self.first_error[key] = min(self.first_error.get(key, r.timestamp_ns), r.timestamp_ns)
            span = r.fields.get("span_id")
            if span:
                self.span_service[str(span)] = r.service
            if r.correlation_id:
                seen = self.order[r.correlation_id]
                if r.service not in seen:
                    seen.append(r.service)
        self.callees: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in records:
            parent = r.fields.get("parent_span_id")
            caller = self.span_service.get(str(parent)) if parent else None
            if r.correlation_id and caller and caller != r.service:
                self.callees[(r.correlation_id, caller)].add(r.service)

    def caller_of(self, record: LogRecord) -> str | None:
        parent = record.fields.get("parent_span_id")
        if parent:
            caller = self.span_service.get(str(parent))
            if caller and caller != record.service:
                return caller
        elif record.fields.get("span_id"):
            return None  # a span without a parent starts the request: nobody called it
        if record.correlation_id:
            seen = self.order.get(record.correlation_id, [])
            i = seen.index(record.service) if record.service in seen else 0
            return seen[i - 1] if i > 0 else None
        return None

    def callees_of(self, record: LogRecord) -> set[str]:
        if not record.correlation_id:
            return set()
        key = (record.correlation_id, record.service)
        if key in self.callees:
            return self.callees[key]
        seen = self.order.get(record.correlation_id, [])
        if record.service in seen and not self.span_service:
            earlier = {
                s for s in seen
                if self.first_error.get((record.correlation_id, s), record.timestamp_ns) < record.timestamp_ns
            }
            return set(seen[seen.index(record.service) + 1 :]) | earlier - {record.service}
        return set()


def accuse(
    records: list[LogRecord],
    catalog: Catalog | None = None,
    *,
    weight: Weight | None = None,
    services: list[str] | None = None,
) -> list[Failure]:
    """Each failure line with the service it accuses and why.

    Over a sample, `weight` says how many window lines each sampled line stands for, so votes
    count like the whole window; `services` are the services a line may name (by default the
    ones in `records`)."""
    catalog = catalog or default_catalog()
    services = sorted(set(services or ()) | {r.service for r in records})
    refs = _reference_pattern(services)
    requests = _Requests(records)
    failures = []
    for r in records:
        pattern = catalog.match(r.message)
        if is_failure(r, pattern):
            failures.append(Failure(r, pattern, weight=weight(r) if weight else 1.0))
    failing_in_request: dict[str, set[str]] = defaultdict(set)
    for f in failures:
        if f.record.correlation_id:
            failing_in_request[f.record.correlation_id].add(f.record.service)

    # first what lines say themselves (who they blame, whom they name), then what their
    # service said elsewhere in the same request, and only then the call structure
    structural: list[Failure] = []
    said: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)  # (request, service) -> accused
    lookup = {s.lower(): s for s in services}
    for f in failures:
        r = f.record
        blame = f.pattern.blame if f.pattern else None
        named = named_services(r.message, r.fields, services)
        if refs is not None:
            named += [lookup[m.group(1).lower()] for m in refs.finditer(r.message)]
        named = [n for n in dict.fromkeys(named) if n != r.service]
        if blame == "caller" and (caller := requests.caller_of(r)):
            f.accused, f.reason = caller, "caller_blamed"
        elif named:
            f.accused, f.reason = named[0], "named"
        else:
            structural.append(f)
            continue
        if r.correlation_id:
            said[(r.correlation_id, r.service)][f.accused] += f.weight
    for f in structural:
        r = f.record
        blame = f.pattern.blame if f.pattern else None
        inherited = said.get((r.correlation_id or "", r.service))
        if inherited:
            f.accused, f.reason = inherited.most_common(1)[0][0], "same_request"
        elif blame in ("upstream", None) and (
            failing := sorted(requests.callees_of(r) & failing_in_request.get(r.correlation_id or "", set()))
        ):
            f.accused, f.reason = failing[0], "failing_callee"
        else:
            f.accused, f.reason = r.service, "self"
    _same_message(failures)
    return failures


def _same_message(failures: list[Failure]) -> None:
    """Rule 6: a line left accusing its own service takes what the other lines of the same
    message in the same service accuse through their requests. A sample keeps the requests of a
    few lines only; a browser's `status of 504` means the same for every request that logs it."""
    learned: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for f in failures:
        if f.reason in ("same_request", "failing_callee"):
            learned[(f.record.service, masked(f.record.message))][f.accused] += f.weight
    if not learned:
        return
    for f in failures:
        if f.reason == "self" and (f.pattern is None or f.pattern.blame != "self"):
            votes = learned.get((f.record.service, masked(f.record.message)))
            if votes:
                f.accused, f.reason = votes.most_common(1)[0][0], "same_message"


def rank_root_causes(
    records: list[LogRecord],
    catalog: Catalog | None = None,
    *,
    weight: Weight | None = None,
    services: list[str] | None = None,
    failures: list[Failure] | None = None,
) -> list[Candidate]:
    """Candidates, most likely cause first; empty when nothing failed."""
    if failures is None:
        failures = accuse(records, catalog, weight=weight, services=services)
    if not failures:
        return []
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[str, int] = {}
    candidates: dict[str, Candidate] = {}
    for f in failures:
        s = f.record.service
        votes[s][f.accused] += f.weight
        first[s] = min(first.get(s, f.record.timestamp_ns), f.record.timestamp_ns)
        for name in (s, f.accused):
            if name not in candidates:
                candidates[name] = Candidate(name, 0.0, 0.0, None, 0)
        c = candidates[s]
        c.own_failures += f.weight
        if f.pattern:
            c.patterns[f.pattern.name] += max(1, round(f.weight))
        target = candidates[f.accused]
        target.reasons[f.reason] += f.weight
        if f.accused != s:
            target.accusations[s] += f.weight
            if f.reason == "named":
                target.named_by[s] += f.weight
    logging = set(services or ()) | {r.service for r in records} | set(first)
    for name, c in candidates.items():
        c.silent = name not in logging

    resting = _flow(votes)
    total = sum(resting.values()) or 1.0
    order = sorted(first.values())
    for name, c in candidates.items():
        c.first_failure_ns = first.get(name)
        onset = 0.0
        if c.first_failure_ns is not None and len(order) > 1:
            onset = 1.0 - order.index(c.first_failure_ns) / (len(order) - 1)
        elif c.first_failure_ns is not None:
            onset = 1.0
        share = resting.get(name, 0.0) / total
        c.score = (1 - ONSET_WEIGHT) * share + ONSET_WEIGHT * onset
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.first_failure_ns or 0, c.service))
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    lines = sum(f.weight for f in failures)
    for c in ranked:
        c.cannot_tell = not c.accusations and len(first) <= 1
        c.confidence = round(_confidence(c, runner_up, witnesses=len(first), lines=lines), 3)
    return ranked


def _confidence(c: Candidate, runner_up: float, *, witnesses: int, lines: float) -> float:
    """Confident when the cause holds most of the blame and leads the next by a margin, within
    what the evidence can support: one failing service that blames nobody cannot tell a cause
    from a symptom; one service naming another is one witness; a handful of lines is little."""
    value = min(0.99, max(0.05, c.score * 0.6 + (c.score - runner_up) * 0.8))
    if c.cannot_tell:
        value = min(value, CANNOT_TELL)
    elif witnesses <= 1:
        value = min(value, ONE_WITNESS)
    if lines < FEW_LINES:
        value = min(value, FEW_LINES_CEILING)
    return value


def _flow(votes: dict[str, Counter[str]]) -> dict[str, float]:
    """Where each service's failures come to rest after following accusations."""
    share = {
        s: {t: n / sum(targets.values()) for t, n in targets.items()} for s, targets in votes.items()
    }
    mass: dict[str, float] = {s: float(sum(t.values())) for s, t in votes.items()}
    resting: dict[str, float] = defaultdict(float)
    for _ in range(FLOW_ROUNDS):
        moving: dict[str, float] = defaultdict(float)
        for s, m in mass.items():
            targets = share.get(s)
            if not targets:  # accused but never failing itself: the blame stops here
                resting[s] += m
                continue
            for t, fraction in targets.items():
                if t == s:
                    resting[s] += m * fraction
                else:
                    moving[t] += m * fraction
        mass = moving
        if not mass:
            break
    for s, m in mass.items():  # cycles: what still moves stays where it is
        resting[s] += m
    return dict(resting)
