"""One streaming pass over file entries: the window's exact profile plus a bounded evidence sample.

Every line in the window is counted (per service, level and second) without being parsed when
it is not needed: only warnings and errors are parsed, grouped by their masked message (exact
counts, first and last time, counts over time, a few real examples) and watched for the start of
each service's error episodes (the first lines after a quiet gap are kept). Modes that look
inside every line they select (performance, audit, conversation) feed a tally. Memory is bounded
by the caps of the plan, not by the size of the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from analyzer.analysis import evidence as why
from analyzer.analysis.evidence import EvidenceBuilder, EvidenceSample
from analyzer.analysis.plan import ReadPlan
from analyzer.analysis.profile import MessageGroup, TimeCounts, WindowProfile
from analyzer.analysis.tallies import Tally, tally_for
from analyzer.analysis.template_tokens import masked
from analyzer.infra.privacy import mask_secrets
from analyzer.model import NS_PER_SECOND, LogRecord, Mode, Severity
from analyzer.sources.file_scan import Block, Entry, FileNames, entry_mapping, entry_record
from analyzer.sources.records import MESSAGE_KEYS, duration_seconds, mapping_id

MASK_CACHE = 65_536
OTHER = "<other messages>"
_WARN = Severity.WARN
_ERROR = Severity.ERROR

Held = tuple[Entry, FileNames]  # an entry kept for evidence, turned into a record at the end


@dataclass(slots=True)
class _Group:
    count: int
    first_ns: int
    last_ns: int
    examples: list[Held]
    last: Held
    buckets: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Episode:
    """Per file and service: when it last failed, and how many onset lines are still wanted."""

    last_ns: int
    wanted: int


def _message(entry: Entry) -> str:
    item = entry[5]
    if isinstance(item, LogRecord):
        return item.message
    data = entry_mapping(entry)
    if data is not None:
        for key in MESSAGE_KEYS:
            value = data.get(key)
            if value is not None and value != "":
                return value if type(value) is str else str(value)
    return entry[6].decode("utf-8", errors="replace").strip()


def _wanted_by_mode(mode: Mode, data: dict[str, Any]) -> bool:
    """A cheap look at a parsed line: could the mode select it? (the tally decides)."""
    if mode is Mode.PERFORMANCE:
        return duration_seconds(data) is not None
    if mode is Mode.CONVERSATION:
        return mapping_id(data, "conversation_id") is not None
    return True


class WindowReader:
    """Offer it the entries of each file (`read`), then `finish` for profile and evidence."""

    def __init__(self, plan: ReadPlan) -> None:
        self.plan = plan
        self.cells: dict[tuple[str, Severity, int], int] = {}
        self.groups: dict[tuple[str, Severity, str], _Group] = {}
        self.masks: dict[str, str] = {}
        self.episodes: dict[tuple[int, str, bool], _Episode] = {}
        self.onsets: list[Held] = []
        self.recent: dict[str, deque[Held]] = {}
        self.tally: Tally | None = tally_for(plan.mode, plan.match_lines)
        self.matches: deque[Held] = deque(maxlen=plan.match_lines)
        self.lines_read = 0
        self.groups_overflowed = False
        self.keeps = plan.record_filter() if plan.filters_records else None

    # -- the pass ---------------------------------------------------------------------------

    def read(self, blocks: Iterable[Block], names: FileNames, file_key: int) -> int:
        """Count and sample one file's blocks; answers how many records were read."""
        plan = self.plan
        start, end = plan.window.start_ns, plan.window.end_ns
        services = plan.services
        threshold = plan.threshold
        keeps = self.keeps
        cells = self.cells
        tally = self.tally
        every = tally is not None
        mode = plan.mode
        read = 0
        start_s, end_s = start // NS_PER_SECOND, end // NS_PER_SECOND
        for block in blocks:
            read += block.records + block.malformed
            counting = block.counted is None
            if not counting:
                # read by columns: every record counted by second (the window's edge seconds
                # are never read this way), the warnings and errors are in `entries`
                for (second, service, level), n in block.counted.items():  # type: ignore[union-attr]
                    if (second <= start_s or second >= end_s) and not (
                        start <= second * NS_PER_SECOND
                        and (second + 1) * NS_PER_SECOND - 1 <= end
                    ):
                        continue
                    if services and service not in services:
                        continue
                    if threshold is not None and level < threshold:
                        continue
                    key = (service, level, second)
                    cells[key] = cells.get(key, 0) + n
            for entry in block.entries:
                ts = entry[2]
                if ts is None or ts < start or ts > end:
                    continue
                service = entry[3]
                if services and service not in services:
                    continue
                level = entry[4]
                if threshold is not None and level < threshold:  # type: ignore[operator]
                    continue
                record = None
                if keeps is not None:
                    record = entry_record(entry, names)
                    if not keeps(record):
                        continue
                if counting:
                    key = (service, level, ts // NS_PER_SECOND)
                    cells[key] = cells.get(key, 0) + 1  # type: ignore[index]
                if level >= _WARN:  # type: ignore[operator]
                    self._noisy(entry, names, file_key, ts, service, level)  # type: ignore[arg-type]
                if every:
                    self._tallied(entry, names, record, tally, mode)  # type: ignore[arg-type]
        self.lines_read += read
        return read

    def _tallied(
        self, entry: Entry, names: FileNames, record: LogRecord | None, tally: Tally, mode: Mode
    ) -> None:
        """A line the mode may select: parsed, and offered to the tally."""
        if record is None:
            item = entry[5]
            if isinstance(item, LogRecord):
                record = item
            else:
                data = entry_mapping(entry)
                if data is None or not _wanted_by_mode(mode, data):
                    return
                record = entry_record((*entry[:5], data, entry[6]), names)  # type: ignore[arg-type]
        if tally.selects(record):
            tally.add(record)
            self.matches.append(((*entry[:5], record, entry[6]), names))  # type: ignore[arg-type]

    def _noisy(
        self, entry: Entry, names: FileNames, file_key: int, ts: int, service: str, level: Severity
    ) -> None:
        """A warning or error: its message group, the episode watch and the recent lines."""
        plan = self.plan
        message = _message(entry)
        key = self.masks.get(message)
        if key is None:
            # secrets masked first, so none survives as a constant fragment of the key
            key = masked(mask_secrets(message))
            if len(self.masks) < MASK_CACHE:
                self.masks[message] = key
        held = (entry, names)
        gkey = (service, level, key)
        group = self.groups.get(gkey)
        if group is None:
            if len(self.groups) >= plan.max_groups:
                self.groups_overflowed = True
                gkey = (service, level, OTHER)
                group = self.groups.get(gkey)
            if group is None:
                group = self.groups[gkey] = _Group(0, ts, ts, [], held)
        group.count += 1
        if ts < group.first_ns:
            group.first_ns = ts
        if ts >= group.last_ns:
            group.last_ns = ts
            group.last = held
        if len(group.examples) < plan.group_examples:
            group.examples.append(held)
        b = ts // plan.group_step_ns  # epoch-aligned, as Loki aligns its steps
        group.buckets[b] = group.buckets.get(b, 0) + 1
        # the first lines after a quiet gap start an error episode of this service
        failing = level >= _ERROR
        ekey = (file_key, service, failing)
        episode = self.episodes.get(ekey)
        if episode is None or ts - episode.last_ns > plan.episode_gap_ns:
            episode = self.episodes[ekey] = _Episode(ts, plan.onset_lines)
        episode.last_ns = max(episode.last_ns, ts)
        if episode.wanted > 0:
            episode.wanted -= 1
            self.onsets.append(held)
        recent = self.recent.get(service)
        if recent is None:
            recent = self.recent[service] = deque(maxlen=plan.recent_lines)
        recent.append(held)

    # -- the answer ---------------------------------------------------------------------------

    def finish(self, *, source: str, notes: list[str] | None = None) -> tuple[WindowProfile, EvidenceSample]:
        plan = self.plan
        counts = TimeCounts(NS_PER_SECOND, 0)
        totals: dict[tuple[str, Severity], int] = {}
        first: dict[tuple[str, Severity], int] = {}
        last: dict[tuple[str, Severity], int] = {}
        for (service, level, second), n in self.cells.items():
            row = counts.cells.get((service, level))
            if row is None:
                row = counts.cells[(service, level)] = {}
            row[second] = n
            key = (service, level)
            totals[key] = totals.get(key, 0) + n
            at = second * NS_PER_SECOND
            if key not in first or at < first[key]:
                first[key] = at
            if key not in last or at > last[key]:
                last[key] = at
        records: dict[int, LogRecord] = {}

        def record(held: Held) -> LogRecord:
            entry, names = held
            found = records.get(id(entry))
            if found is None:
                found = records[id(entry)] = entry_record(entry, names)
            return found

        groups = []
        exact_first: dict[tuple[str, Severity], int] = {}
        exact_last: dict[tuple[str, Severity], int] = {}
        for (service, level, key), g in self.groups.items():
            examples = [record(h) for h in g.examples]
            tail = record(g.last)
            if tail not in examples:
                examples.append(tail)
            groups.append(
                MessageGroup(
                    service=service,
                    level=level,
                    key=key,
                    count=g.count,
                    first_ns=g.first_ns,
                    last_ns=g.last_ns,
                    examples=examples,
                    buckets=dict(g.buckets),
                )
            )
            # warnings and errors have exact first and last times (counts keep only seconds)
            exact_first[(service, level)] = min(exact_first.get((service, level), g.first_ns), g.first_ns)
            exact_last[(service, level)] = max(exact_last.get((service, level), g.last_ns), g.last_ns)
        first.update(exact_first)
        last.update(exact_last)
        groups.sort(key=lambda g: (g.first_ns, g.service, g.key))
        profile_notes = list(notes or [])
        if self.groups_overflowed:
            profile_notes.append(
                f"more than {plan.max_groups} distinct warning and error messages: the rest are "
                f"counted together as {OTHER!r}"
            )
        profile = WindowProfile(
            window=plan.window,
            counts=counts,
            totals=totals,
            first_ns=first,
            last_ns=last,
            groups=groups,
            groups_complete=True,
            group_step_ns=plan.group_step_ns,
            source=source,
            lines_read=self.lines_read,
            notes=profile_notes,
        )
        builder = EvidenceBuilder()
        for group in groups:
            builder.extend(group.examples, why.GROUP)
        for held in self.onsets:
            builder.add(record(held), why.ONSET)
        for recent in self.recent.values():
            for held in recent:
                builder.add(record(held), why.RECENT)
        for held in self.matches:
            builder.add(record(held), why.MATCH)
        if self.tally is not None:
            profile.extras["tally"] = self.tally
        return profile, builder.build(
            {
                "onset_lines_per_episode": plan.onset_lines,
                "examples_per_group": plan.group_examples + 1,
                "recent_lines_per_service": plan.recent_lines,
                **({"mode_lines": plan.match_lines} if self.tally is not None else {}),
            }
        )
