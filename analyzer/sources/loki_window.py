"""A window's profile and evidence from Loki: metric queries for the numbers, a few narrow log
queries for the words.

Loki's query frontend splits and shards metric queries across its queriers, so the numbers
scale with Loki instead of against it. One read sends, concurrently where independent:

1. `index/stats` for the window's size (and the level label the streams carry);
2. an instant count by service and level over the whole window, at its end (exact totals);
3. the same counts at a coarse step (about 180 points: charts, bursts);
4. error counts per service at a fine step (about 1,000 points: incidents and their order);
5. the first and the newest error lines of the window (`direction=forward`/`backward`);
then, once incidents are known, a forward read of the first error lines of each incident and of
each service whose first error the first read did not show; and exact counts for the most
frequent messages of the evidence (a line filter each). About 10-20 requests, whatever the
window's size. Limits are handled, not passed on: too many series splits by service, too many
points coarsens the step, a timeout on the totals splits the window in halves and adds them.
"""

from __future__ import annotations

import contextvars
import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.analysis import evidence as why
from analyzer.analysis.evidence import EvidenceBuilder, EvidenceSample
from analyzer.analysis.plan import ReadPlan
from analyzer.analysis.profile import MessageGroup, TimeCounts, WindowProfile
from analyzer.analysis.tallies import tally_for
from analyzer.analysis.template_tokens import masked
from analyzer.errors import AnalyzerError, BadQuery, QueryTimeout
from analyzer.infra.privacy import mask_secrets
from analyzer.model import NS_PER_SECOND, LogRecord, Query, Severity, TimeRange
from analyzer.sources import window_logql as wq
from analyzer.sources.base import WindowRead

if TYPE_CHECKING:
    from analyzer.sources.loki import LokiSource

log = logging.getLogger(__name__)

COARSE_POINTS = 180
FINE_POINTS = 1080
EDGE_LINES = 50  # first and newest error lines of the window
ONSET_LINES = 50  # first error lines of an incident
MAX_INCIDENT_READS = 5
MAX_SERVICE_READS = 12
REQUEST_READS = 4  # spans around the requests that failed first
COUNTED_TEMPLATES = 6
MAX_WORKERS = 12  # Loki's frontend splits and shards each; independent ones go together
MAX_POINTS = 11_000  # Loki's max points per series
LEVEL_NAMES = ("trace", "debug", "info", "warn", "error", "fatal", "critical")


@dataclass
class _Sent:
    """What the read sent: for metadata, and the notes on what is not exact."""

    queries: list[str] = field(default_factory=list)
    requests: int = 0
    notes: list[str] = field(default_factory=list)


class LokiWindowReader:
    def __init__(
        self,
        loki: LokiSource,
        plan: ReadPlan,
        *,
        tenant: str | None,
        base_selector: str,
    ) -> None:
        self.loki = loki
        self.plan = plan
        self.tenant = tenant
        self.window = plan.window
        self.service_label = loki.service_label(tenant)
        self.base = wq.base_selector(base_selector, self.service_label)
        self.selector = wq.with_services(self.base, plan.services, self.service_label)
        levels = None
        if plan.threshold is not None and plan.threshold > Severity.DEBUG:
            levels = "|".join(n for n in LEVEL_NAMES if Severity.parse(n) >= plan.threshold)
        self.stages = wq.stages_for(plan.ids, plan.exclude_patterns, levels)
        self.sent = _Sent()
        self.level_label = "detected_level"
        self.pool = _ContextPool(MAX_WORKERS)

    # -- requests -------------------------------------------------------------------------------

    def _range(self, query: str, step: int, start_ns: int | None = None, end_ns: int | None = None) -> dict[str, Any]:
        start = self.window.start_ns if start_ns is None else start_ns
        end = self.window.end_ns if end_ns is None else end_ns
        while True:
            self.sent.queries.append(query)
            self.sent.requests += 1
            try:
                return self.loki.query_range(query, start, end, step=step, tenant=self.tenant)
            except BadQuery as exc:
                if "maximum resolution" in str(exc) or "too many points" in str(exc):
                    step *= 2  # Loki caps points per series: a coarser step fits
                    self.sent.notes.append(f"step widened to {step}s: {exc}")
                    continue
                raise

    def _instant(self, query: str, time_ns: int) -> dict[str, Any]:
        self.sent.queries.append(query)
        self.sent.requests += 1
        return self.loki.query(query, time_ns, tenant=self.tenant)

    def _lines(self, query: str, start_ns: int, end_ns: int, limit: int, direction: str) -> list[LogRecord]:
        """One page of lines (`limit` is at most Loki's page size): the first or newest lines
        of a span, which is all evidence needs."""
        from analyzer.sources.loki_answers import entries_to_records, streams_entries

        self.sent.queries.append(query)
        self.sent.requests += 1
        data = self.loki.query_range(
            query, start_ns, end_ns, limit=min(limit, self.loki.page_size), direction=direction,
            tenant=self.tenant,
        )
        entries, _ = streams_entries(data)
        entries.sort(key=lambda e: e.timestamp_ns, reverse=direction == "backward")
        records, _ = entries_to_records(entries[:limit])
        return records

    # -- series for panels ---------------------------------------------------------------------

    def count_series(self, step: int) -> TimeCounts:
        """Lines per service and level at `step` seconds over the window: one metric query."""
        try:
            self.level_label = self._level_label()
            return self._series([self.service_label, self.level_label], step)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def sum_series(self, field: str, by: str, step: int) -> dict[tuple[str, str], dict[int, float]]:
        """Sum of a numeric field per (`by` value, model) at `step` seconds: bucket start // step."""
        labels = [by, "model"] if by != "model" else ["model"]
        try:
            data = self._range(wq.sums(self.selector, self.stages, field, labels, step), step)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
        out: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
        step_ns = step * NS_PER_SECOND
        for metric, ts, value in _samples(data):
            key = (metric.get(by) or "unknown", metric.get("model") or "unknown")
            bucket = (int(ts * NS_PER_SECOND) - step_ns) // step_ns
            row = out[key]
            row[bucket] = row.get(bucket, 0.0) + value
        return dict(out)

    def _one(self, service: str) -> str:
        return wq.with_services(self.base, [service], self.service_label)

    def _service_of(self, metric: dict[str, str]) -> str:
        return metric.get(self.service_label) or metric.get("service") or metric.get("service_name") or "unknown"

    # -- the read -------------------------------------------------------------------------------

    def read(self) -> WindowRead:
        try:
            return self._read()
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _read(self) -> WindowRead:
        window = self.window
        seconds = wq.seconds_of(window.end_ns - window.start_ns)
        coarse = wq.nice_step(seconds / COARSE_POINTS)
        fine = wq.nice_step(seconds / FINE_POINTS)
        size = self._stats()  # first: a window too large for Loki is refused before it is read
        self._refuse_if_too_large(size)
        levels = self.pool.submit(self._level_label)
        first = self.pool.submit(
            self._lines, wq.failure_lines(self.selector, self.stages), window.start_ns, window.end_ns,
            EDGE_LINES, "forward",
        )
        newest = self.pool.submit(
            self._lines, wq.failure_lines(self.selector, self.stages), window.start_ns, window.end_ns,
            EDGE_LINES, "backward",
        )
        fine_counts = self.pool.submit(self._failure_counts, fine)
        self.level_label = levels.result()
        by = [self.service_label, self.level_label]
        totals_f = self.pool.submit(self._totals, by, seconds)
        coarse_f = self.pool.submit(self._series, by, coarse)
        # words as soon as they can start: onsets once the failure counts show the incidents,
        # message counts once the first lines and onsets show the messages; the slow reads
        # (newest lines, totals, series) meanwhile
        failures = fine_counts.result()
        first_lines = self._words(first)
        profile = WindowProfile(
            window=window,
            counts=TimeCounts(coarse * NS_PER_SECOND, 0),
            failure_counts=failures,
            group_step_ns=self.plan.group_step_ns,
            source=f"loki: metric queries ({coarse}s and {fine}s steps) and narrow log queries",
            service_label=self.service_label,
            exact=True,
        )
        onset_jobs = self._onset_reads(profile, first_lines)
        counting = self._count_messages(first_lines)
        request_jobs = self._request_reads(first_lines)
        onsets = self._collect(onset_jobs, "an onset read")
        requests = self._collect(request_jobs, "a request read")
        newest_lines = self._words(newest)
        profile.totals = totals_f.result()
        profile.counts = counts = coarse_f.result()
        for (service, level), row in counts.cells.items():
            if row:
                profile.first_ns[(service, level)] = counts.bucket_start(min(row))
                profile.last_ns[(service, level)] = counts.bucket_start(max(row) + 1) - 1
        builder = EvidenceBuilder()
        builder.extend(first_lines, why.ONSET)
        builder.extend(newest_lines, why.RECENT)
        for record in onsets:
            builder.add(record, why.ONSET)
        builder.extend(requests, why.REQUEST)
        evidence = builder.build({"edge_lines": EDGE_LINES, "onset_lines": ONSET_LINES})
        self._exact_first_errors(profile, evidence.records)
        self._groups(profile, evidence.records, counting)
        tally = tally_for(self.plan.mode, self.plan.match_lines)
        if tally is not None:
            self._tally(profile, tally, builder)
            evidence = builder.build(evidence.limits)
        profile.lines_read = len(evidence.records)
        profile.requests = self.sent.requests
        profile.notes.extend(self.sent.notes)
        if size:
            profile.extras["index_stats"] = size
        return WindowRead(
            plan=self.plan,
            profile=profile,
            evidence=evidence,
            queries=list(dict.fromkeys(self.sent.queries)),
            stats={"requests": self.sent.requests, **({"index_stats": size} if size else {})},
            requests_read=True,
        )

    def _words(self, job: Any) -> list[LogRecord]:
        """Lines of an evidence read; one that fails costs examples, never the numbers."""
        try:
            return list(job.result())
        except AnalyzerError as exc:
            self.sent.notes.append(f"an evidence read failed: {exc.message}")
            return []

    # -- numbers --------------------------------------------------------------------------------

    def _level_label(self) -> str:
        """`level` when the window's streams carry it as a label (exact, what the pipeline
        declared), else Loki's own `detected_level`."""
        try:
            self.sent.requests += 1
            values = self.loki.label_values(
                "level", tenant=self.tenant, start_ns=self.window.start_ns, end_ns=self.window.end_ns
            )
        except AnalyzerError:
            return "detected_level"
        return "level" if values else "detected_level"

    def _stats(self) -> dict[str, Any]:
        try:
            self.sent.requests += 1
            return dict(
                self.loki.index_stats(
                    self.selector, start_ns=self.window.start_ns, end_ns=self.window.end_ns,
                    tenant=self.tenant,
                )
                or {}
            )
        except AnalyzerError as exc:
            self.sent.notes.append(f"index stats unavailable: {exc}")
            return {}

    def _refuse_if_too_large(self, size: dict[str, Any]) -> None:
        """Loki's index says how many bytes the window holds; past the configured limit the
        question is refused with what would fit, before any query runs."""
        limit = self.loki.max_query_bytes
        read = int(size.get("bytes") or 0)
        if not limit or read <= limit:
            return
        seconds = wq.seconds_of(self.window.end_ns - self.window.start_ns)
        fits = max(60, int(seconds * limit / read))
        raise AnalyzerError(
            f"the window holds {read / 2**30:.1f} GiB of logs ({size.get('entries', '?')} lines "
            f"in {size.get('streams', '?')} streams), more than the {limit / 2**30:.1f} GiB one "
            "analysis may read",
            code="QUERY_TOO_LARGE",
            status=422,
            suggestion=f"Narrow the window to about {wq.duration(fits)} or name services; "
            "AI_LOGS_LOKI_MAX_QUERY_BYTES raises the limit.",
            details={"bytes": read, "limit": limit},
        )

    def _totals(self, by: list[str], seconds: int) -> dict[tuple[str, Severity], int]:
        """Exact counts: an instant query whose range is the window, at its end. A timeout splits
        the window in halves (recursively, a few times) and adds them up."""
        return self._totals_over(by, self.window.start_ns, self.window.end_ns, depth=0)

    def _totals_over(
        self, by: list[str], start_ns: int, end_ns: int, *, depth: int
    ) -> dict[tuple[str, Severity], int]:
        seconds = wq.seconds_of(end_ns - start_ns)
        query = wq.counts(self.selector, by, seconds, self.stages)
        try:
            data = self._instant(query, end_ns)
        except QueryTimeout:
            if depth >= 3:
                raise
            middle = start_ns + (end_ns - start_ns) // 2
            left = self.pool.submit(self._totals_over, by, start_ns, middle, depth=depth + 1)
            right = self._totals_over(by, middle, end_ns, depth=depth + 1)
            out = dict(left.result())
            for key, n in right.items():
                out[key] = out.get(key, 0) + n
            self.sent.notes.append("totals counted in parts: Loki timed out on the whole window")
            return out
        except BadQuery as exc:
            if "maximum of series" not in str(exc):
                raise
            return self._per_service(lambda sel: wq.counts(sel, by, seconds, self.stages), end_ns)
        out: dict[tuple[str, Severity], int] = {}
        for metric, _, value in _samples(data):
            key = (self._service_of(metric),
                   Severity.parse(metric.get(by[1]) or "info", default=Severity.INFO))
            out[key] = out.get(key, 0) + int(value)
        return out

    def _per_service(self, build: Callable[[str], str], end_ns: int) -> dict[tuple[str, Severity], int]:
        services = self.plan.services or frozenset(self.loki.services(tenant=self.tenant))
        self.sent.notes.append("counted one service at a time: too many series for one query")
        futures = [
            self.pool.submit(self._instant, build(self._one(s)), end_ns)
            for s in sorted(services)
        ]
        out: dict[tuple[str, Severity], int] = {}
        for future in futures:
            for metric, _, value in _samples(future.result()):
                key = (self._service_of(metric),
                       Severity.parse(metric.get(self.level_label) or "info", default=Severity.INFO))
                out[key] = out.get(key, 0) + int(value)
        return out

    def _series(self, by: list[str], step: int) -> TimeCounts:
        data = self._range(wq.counts(self.selector, by, step, self.stages), step)
        out = TimeCounts(step * NS_PER_SECOND, 0)
        for metric, ts, value in _samples(data):
            service = self._service_of(metric)
            level = Severity.parse(metric.get(by[1]) or "info", default=Severity.INFO)
            # the point at t counts (t - step, t]: its bucket starts at t - step
            out.add(service, level, int(ts * NS_PER_SECOND) - step * NS_PER_SECOND, int(value))
        return out

    def _failure_counts(self, step: int) -> TimeCounts:
        data = self._range(
            wq.counts(self.selector, [self.service_label], step,
                      wq.join(self.stages, wq.level_filter(wq.FAILURE_LEVELS))),
            step,
        )
        out = TimeCounts(step * NS_PER_SECOND, 0)
        for metric, ts, value in _samples(data):
            out.add(self._service_of(metric), Severity.ERROR,
                    int(ts * NS_PER_SECOND) - step * NS_PER_SECOND, int(value))
        return out

    # -- words ----------------------------------------------------------------------------------

    def _onsets(self, profile: WindowProfile, seen: list[LogRecord]) -> list[LogRecord]:
        return self._collect(self._onset_reads(profile, seen), "an onset read")

    def _collect(self, jobs: list[Any], what: str) -> list[LogRecord]:
        out: list[LogRecord] = []
        for job in jobs:
            try:
                out.extend(job.result())
            except AnalyzerError as exc:
                self.sent.notes.append(f"{what} failed: {exc.message}")
        return out

    def _onset_reads(self, profile: WindowProfile, seen: list[LogRecord]) -> list[Any]:
        """First error lines of each incident the edge reads did not cover, and of each service
        whose first error they did not show: narrow forward reads from the failure counts,
        sent now (pending answers)."""
        from analyzer.analysis.catalog import default_catalog
        from analyzer.analysis.window_facts import WindowFacts

        facts = WindowFacts.build(profile, [], default_catalog())
        covered_until = max((r.timestamp_ns for r in seen if r.level >= Severity.ERROR), default=0)
        first_seen = {r.service for r in seen if r.level >= Severity.ERROR}
        jobs = []
        for incident in sorted(facts.incidents, key=lambda i: -i.failures)[:MAX_INCIDENT_READS]:
            start = max(self.window.start_ns, incident.lead_in_ns)
            if start > covered_until or covered_until == 0:
                jobs.append(self.pool.submit(
                    self._lines, wq.failure_lines(self.selector, self.stages), start, incident.end_ns,
                    ONSET_LINES, "forward"))
        failures = profile.failure_series()
        for (service, _), row in sorted(failures.cells.items()):
            if service in first_seen or not row or len(jobs) >= MAX_SERVICE_READS + MAX_INCIDENT_READS:
                continue
            start = max(self.window.start_ns, failures.bucket_start(min(row)))
            jobs.append(self.pool.submit(
                self._lines, wq.failure_lines(self._one(service), self.stages),
                start, self.window.end_ns, self.plan.onset_lines, "forward"))
        return jobs

    def _request_reads(self, seen: list[LogRecord]) -> list[Any]:
        """The lines of the requests that failed first (their correlation ids, a short span
        around each), sent now: who called whom, for the root cause."""
        from analyzer.analysis import anchors
        from analyzer.analysis.evidence import EvidenceBuilder

        builder = EvidenceBuilder()
        builder.extend(seen, why.ONSET)
        found = anchors.choose(builder.build(), Query())
        if not found.request_spans:
            return []
        query = f"{wq.join(self.selector, self.stages)} {wq.ids_filter('correlation_id', found.correlation_ids)}"
        return [
            self.pool.submit(self._lines, query, start, end, 1000, "forward")
            for start, end in found.request_spans[:REQUEST_READS]
        ]

    def _exact_first_errors(self, profile: WindowProfile, records: list[LogRecord]) -> None:
        """A service's earliest error line is its first error, to the nanosecond, when it lies in
        the service's first failing bucket (the reads that found it ran forward from before
        it); otherwise the first error is known to that bucket only, and the notes say so."""
        failures = profile.failure_series()
        earliest: dict[str, LogRecord] = {}
        for record in records:
            if record.level >= Severity.ERROR:
                found = earliest.get(record.service)
                if found is None or record.timestamp_ns < found.timestamp_ns:
                    earliest[record.service] = record
        approximate = []
        for (service, _), row in failures.cells.items():
            if not row:
                continue
            first_bucket = failures.bucket_start(min(row))
            record = earliest.get(service)
            if record is not None and first_bucket <= record.timestamp_ns < first_bucket + failures.step_ns:
                profile.first_ns[(service, record.level)] = record.timestamp_ns
            else:
                profile.first_ns[(service, Severity.ERROR)] = first_bucket
                approximate.append(service)
        if approximate:
            profile.notes.append(
                "first error known to the step of the failure counts for: " + ", ".join(sorted(approximate))
            )

    def _groups(
        self, profile: WindowProfile, records: list[LogRecord], counting: list[tuple[Any, Any]]
    ) -> None:
        """Message groups from the evidence lines; counts from the exact totals, shared by the
        groups' share of the sample, and exact for the messages counted (`counting`)."""
        members = _members(records)
        per_key: dict[tuple[str, Severity], int] = defaultdict(int)
        for (service, level, _), found in members.items():
            per_key[(service, level)] += len(found)
        groups: dict[tuple[str, Severity, str], MessageGroup] = {}
        for (service, level, key), found in members.items():
            total = profile.totals.get((service, level), len(found))
            estimate = max(len(found), round(total * len(found) / per_key[(service, level)]))
            found.sort(key=lambda r: r.timestamp_ns)
            groups[(service, level, key)] = MessageGroup(
                service=service, level=level, key=key, count=estimate,
                first_ns=found[0].timestamp_ns, last_ns=found[-1].timestamp_ns,
                examples=found[:3] + ([found[-1]] if len(found) > 3 else []), exact=False,
            )
        for gkey, job in counting:
            try:
                data = job.result()
            except AnalyzerError as exc:
                self.sent.notes.append(f"a message count failed: {exc.message}")
                continue
            group = groups.get(gkey)
            count = sum(
                int(value) for metric, _, value in _samples(data)
                if Severity.parse(metric.get(self.level_label) or "info", default=Severity.INFO) == gkey[1]
            )
            if group is not None and count:
                group.count, group.exact = count, True
        ordered = sorted(groups.values(), key=lambda g: (g.first_ns, g.service, g.key))
        self._spread(profile, ordered)
        profile.groups = ordered
        profile.groups_complete = False
        profile.notes.append(
            "message groups come from a sample of lines; the most frequent are counted exactly"
        )

    def _count_messages(self, records: list[LogRecord]) -> list[tuple[Any, Any]]:
        """Exact counts of the most frequent messages among `records`, sent now (one instant
        line-filter count each, concurrently): (group key, pending answer)."""
        from analyzer.analysis.rule_export import template_regex

        members = _members(records)
        ranked = sorted(members, key=lambda k: -len(members[k]))[:COUNTED_TEMPLATES]
        seconds = wq.seconds_of(self.window.end_ns - self.window.start_ns)
        jobs = []
        for service, level, key in ranked:
            try:
                query = wq.counts(
                    self._one(service), [self.service_label, self.level_label],
                    seconds, wq.join(self.stages, wq.template_filter(template_regex(key))),
                )
            except AnalyzerError:
                continue
            jobs.append(((service, level, key), self.pool.submit(self._instant, query, self.window.end_ns)))
        return jobs

    def _spread(self, profile: WindowProfile, groups: list[MessageGroup]) -> None:
        """Each group's lines over time, shared out like its service's failures (an estimate
        for bursts and incidents; counts stay as they are)."""
        failures = profile.failure_series()
        step = profile.group_step_ns
        for group in groups:
            row = failures.cells.get((group.service, Severity.ERROR)) or {}
            total = sum(row.values())
            if not total or group.level < Severity.ERROR:
                group.buckets = {group.first_ns // step: group.count}
                continue
            buckets: dict[int, int] = defaultdict(int)
            for i, n in row.items():
                buckets[failures.bucket_start(i) // step] += n
            group.buckets = {b: max(1, round(group.count * n / total)) for b, n in buckets.items()}

    def _tally(self, profile: WindowProfile, tally: Any, builder: EvidenceBuilder) -> None:
        """Performance, audit and conversation figures from the newest lines the mode selects."""
        from analyzer.sources import logql

        query = Query(mode=self.plan.mode, services=sorted(self.plan.services))
        text = logql.log_query(query, service_label=self.service_label)
        lines = self._lines(text, self.window.start_ns, self.window.end_ns, 5000, "backward")
        for record in lines:
            if tally.selects(record):
                tally.add(record)
                builder.add(record, why.MATCH)
        profile.extras["tally"] = tally
        profile.notes.append(
            f"{self.plan.mode.value} figures come from the newest {len(lines)} lines of the window"
        )

    def read_around(
        self, anchors: list[tuple[int, int]], ids: dict[str, set[str]] | None, limit: int
    ) -> EvidenceSample:
        builder = EvidenceBuilder()
        wanted = {name: values for name, values in (ids or {}).items() if values}
        query = wq.join(self.selector, self.stages)
        for name, values in wanted.items():
            query = f"{query} {wq.ids_filter(name, values)}"
        reason = why.REQUEST if wanted else why.CONTEXT
        jobs = [
            self.pool.submit(self._lines, query, start, end, min(limit, 1000), "forward")
            for start, end in anchors[:10]
        ]
        try:
            for job in jobs:
                try:
                    builder.extend(job.result(), reason)
                except AnalyzerError as exc:
                    log.warning("context read failed: %s", exc)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
        return builder.build()


class _ContextPool(ThreadPoolExecutor):
    """Runs each task in a copy of the submitter's context, so the request's deadline (a
    context variable) bounds the concurrent reads too."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def _members(records: list[LogRecord]) -> dict[tuple[str, Severity, str], list[LogRecord]]:
    """Warning and error lines by (service, level, masked message), secrets masked first."""
    out: dict[tuple[str, Severity, str], list[LogRecord]] = defaultdict(list)
    for record in records:
        if record.level >= Severity.WARN:
            out[(record.service, record.level, masked(mask_secrets(record.message)))].append(record)
    return out


def _samples(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    from analyzer.sources.loki_answers import iter_samples

    return iter_samples(data)


def window_of(plan: ReadPlan) -> TimeRange:
    return plan.window
