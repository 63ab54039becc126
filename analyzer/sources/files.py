"""Local log files as a `LogSource`: the embedded default when no Loki is configured.

A path is a file, a directory (searched recursively) or a glob. How a line is read is
`line_formats`' and `file_scan`'s business; this module finds the files, keeps an index of each
and answers the two kinds of read:

- `read_window(plan)`: the window's profile and evidence, in one streaming pass over the parts
  of the files that overlap the window (`file_profile.WindowReader`): every line is counted,
  only warnings, errors and the lines a mode selects are parsed, and memory is bounded by the
  evidence caps, not by the window;
- `fetch(query, limit)`: the records a narrow question selects (one correlation id, one
  conversation), the newest `limit` when there are more.

The first read of a file builds its index entry (keyed by size and mtime, so an unchanged file is
never read whole again): its time span, services, and byte offsets of blocks of `BLOCK_RECORDS`
records with each block's time span, so later reads seek straight to the blocks that overlap the
window (compressed files, which cannot seek, are read whole). Small files keep their entries in
memory (bounded by `max_cached_records` across files). `malformed_lines` counts the lines that
could not be read in every file whose time span meets the window.

Each file's format is detected from its first lines (or declared: `formats`), and its index
entry keeps the account of its lines; `input_account()` lists every file read and every file
skipped with its reason, and the answers carry it (`stats["input"]`, the profile's notes).
"""

from __future__ import annotations

import heapq
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from analyzer.analysis.evidence import EvidenceBuilder, EvidenceSample
from analyzer.analysis.filters import record_filter
from analyzer.analysis.plan import ReadPlan
from analyzer.analysis.profile import TimeCounts
from analyzer.errors import SourceUnavailable
from analyzer.model import NS_PER_SECOND, LogRecord, Query, Severity, TimeRange
from analyzer.model import now_ns as wall_clock_ns
from analyzer.sources.base import FetchResult, WindowRead
from analyzer.sources.file_profile import WindowReader
from analyzer.sources.file_scan import (
    Block,
    ColumnarRead,
    Entry,
    FileNames,
    LineScanner,
    entry_mapping,
    entry_record,
    scan,
)
from analyzer.sources.formats import FileAccount, FormatRules, InputAccount, ScanCounts
from analyzer.sources.formats.detect import detect_path
from analyzer.sources.formats.sniff import compression, discover, open_log, without_bom
from analyzer.sources.line_formats import (
    LineContext,
    parse_line,
    service_from_filename,
)
from analyzer.sources.records import mapping_id

__all__ = ["BLOCK_RECORDS", "FileSource", "service_from_filename"]

SKIPPED_FILES = {"ground_truth.json": "not a log: the demo generator's ground truth"}
BLOCK_RECORDS = 1024
LABEL_FIELDS = ("service", "level", "workspace_id", "model", "request_type", "job", "env")
MAX_LABEL_VALUES = 1000
TAIL_PROBE_BYTES = 65_536  # read from the end of a new file to guess the newest line's time


@dataclass(slots=True)
class _Block:
    offset: int  # byte offset of the block's first line
    line: int  # its line number (1-based)
    min_ts: int
    max_ts: int
    end_offset: int = 0


@dataclass
class _FileIndex:
    path: Path
    size: int
    mtime_ns: int
    first_ts: int | None = None
    last_ts: int | None = None
    records: int = 0
    malformed: int = 0
    services: set[str] = field(default_factory=set)
    blocks: list[_Block] = field(default_factory=list)
    cached: list[Entry] | None = None  # every entry of a small file
    account: FileAccount | None = None  # its format and what its lines became
    label_values: dict[str, set[str]] | None = None  # built on first ask

    def overlaps(self, window: TimeRange) -> bool:
        if self.first_ts is None or self.last_ts is None:
            return False
        return self.first_ts <= window.end_ns and self.last_ts >= window.start_ns


def _label_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


COLUMNAR_MIN_BYTES = 4 << 20  # smaller files are read line by line and kept in memory


def _large(path: Path) -> bool:
    try:
        return path.stat().st_size >= COLUMNAR_MIN_BYTES and compression(path) is None
    except OSError:
        return False


def _columnar_read(plan: ReadPlan) -> ColumnarRead | None:
    """Columns suffice when only warnings and errors need reading whole: the window's edges
    are compared to the nanosecond, every other line is counted by its second."""
    if plan.needs_every_record:
        return None
    edges = frozenset({plan.window.start_ns // NS_PER_SECOND, plan.window.end_ns // NS_PER_SECOND})
    floor = max(plan.threshold or Severity.WARN, Severity.WARN)
    return ColumnarRead(edges, frozenset(level for level in Severity if level >= floor))


class _Collector:
    """The newest `limit` records in the window that the query keeps (all of them without one).

    The query's service, severity and id filters are checked on a line's mapping, so a LogRecord
    is built only for a line that is kept (and, with exclude patterns, for each candidate).
    """

    def __init__(self, query: Query, window: TimeRange, limit: int | None) -> None:
        self.start = window.start_ns
        self.end = window.end_ns
        self.limit = limit
        self.services = set(query.services)
        self.threshold = query.severity_threshold
        self.ids = query.ids()
        self.excludes = bool(query.exclude_patterns)
        self.matches = record_filter(query)
        self.kept: list[tuple[int, int, LogRecord]] = []
        self.seq = 0
        self.matched = 0

    def offer(self, entry: Entry, names: FileNames) -> None:
        _, _, ts, service, level, item, _ = entry
        if ts is None or ts < self.start or ts > self.end:
            return
        if self.services and service not in self.services:
            return
        if self.threshold is not None and level < self.threshold:  # type: ignore[operator]
            return
        if isinstance(item, LogRecord):
            if not self.matches(item):
                return
            record = item
        else:
            if self.ids:
                data = entry_mapping(entry)
                if data is None or any(
                    mapping_id(data, name) != wanted for name, wanted in self.ids.items()
                ):
                    return
            record = None
            if self.excludes:
                record = entry_record(entry, names)
                if not self.matches(record):
                    return
            if not self._room_for(ts):
                return
            self._push(ts, record or entry_record(entry, names))
            return
        if self._room_for(ts):
            self._push(ts, record)

    def _room_for(self, ts: int) -> bool:
        """Count a match; False when the heap is full of records at least as new."""
        self.matched += 1
        kept = self.kept
        # later offers win ties (their sequence number is higher), hence `<` and not `<=`
        return self.limit is None or len(kept) < self.limit or ts >= kept[0][0]

    def _push(self, ts: int, record: LogRecord) -> None:
        self.seq += 1
        item = (ts, self.seq, record)
        if self.limit is None:
            self.kept.append(item)
        elif len(self.kept) < self.limit:
            heapq.heappush(self.kept, item)
        else:
            heapq.heapreplace(self.kept, item)

    def records(self) -> list[LogRecord]:
        return [record for _, _, record in sorted(self.kept, key=lambda e: e[:2])]


class FileSource:
    """Log files on disk behind the `LogSource` seam; `tenant` is ignored (files have none)."""

    name = "files"

    def __init__(
        self,
        path: str,
        *,
        clock: str = "latest",
        max_cached_records: int = 50_000,
        formats: FormatRules | None = None,
    ) -> None:
        if clock not in ("latest", "wall"):
            raise ValueError("clock must be 'latest' or 'wall'")
        self.path = path
        self.clock = clock
        self.max_cached_records = max_cached_records
        self.formats = formats or FormatRules()
        self._skipped: list[tuple[Path, str]] = []
        self._index: dict[Path, _FileIndex] = {}
        self._tails: dict[Path, tuple[int, int, int | None]] = {}  # (size, mtime, newest time)
        self._lock = threading.Lock()

    # ----- discovery and index ------------------------------------------------------------

    def files(self) -> list[Path]:
        """The log files the path names today (a directory or glob may gain files); the others
        are kept, with the reason each is skipped, for `input_account`."""
        found = discover(self.path, self._has_time, SKIPPED_FILES)
        self._skipped = found.skipped
        return found.files

    def _has_time(self, path: Path) -> bool:
        ctx = self._bare_context(path)
        if self.formats.rule_for(path, ctx.origin_name) is not None:
            return True
        return not detect_path(path, ctx).timeless

    def skipped(self) -> list[dict[str, str]]:
        """The files the last `files()` left out, each with its reason."""
        return [{"file": self._origin_name(p), "reason": reason} for p, reason in self._skipped]

    def input_account(self, paths: list[Path] | None = None) -> InputAccount:
        """Every file read (its format, lines, records, joined and unparsed lines) and every
        file skipped with its reason; files not read yet are read (and indexed) now."""
        if paths is None:
            paths = self.files()
        accounts = []
        for path in paths:
            entry = self._current_index(path) or self._build(path)
            if entry.account is not None:
                accounts.append(entry.account)
        return InputAccount(accounts, self.skipped())

    def _origin_name(self, path: Path) -> str:
        root = Path(self.path).expanduser()
        if root.is_dir():
            try:
                return str(path.relative_to(root))
            except ValueError:
                return path.name
        return path.name

    def _bare_context(self, path: Path) -> LineContext:
        stat = path.stat()
        origin = self._origin_name(path)
        tz = self.formats.tz(path, origin)
        year = datetime.fromtimestamp(stat.st_mtime, tz=tz).year
        return LineContext(service_from_filename(path), origin, year, stat.st_mtime_ns, tz=tz)

    def line_context(self, path: Path) -> LineContext:
        """The file's context with its format, for a reader that follows it line by line."""
        return self._context(path)

    def _context(self, path: Path) -> LineContext:
        """The file's context with its format: declared for it, or detected from its head."""
        ctx = self._bare_context(path)
        rule = self.formats.rule_for(path, ctx.origin_name)
        ctx.format = rule.bind(ctx) if rule is not None else detect_path(path, ctx)
        return ctx

    def _names(self, path: Path) -> FileNames:
        return FileNames(service_from_filename(path), self._origin_name(path))

    def _current_index(self, path: Path) -> _FileIndex | None:
        """The index entry if the file is unchanged since it was built."""
        try:
            stat = path.stat()
        except OSError:
            return None
        entry = self._index.get(path)
        if entry is not None and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
            return entry
        return None

    def _cached_total(self, excluding: Path) -> int:
        return sum(
            len(e.cached) for p, e in self._index.items() if e.cached is not None and p != excluding
        )

    def _scan(
        self,
        path: Path,
        start: int = 0,
        end: int | None = None,
        first_line: int = 1,
        columnar: ColumnarRead | None = None,
        counts: ScanCounts | None = None,
        ctx: LineContext | None = None,
    ) -> Iterator[Block]:
        return scan(
            path, ctx or self._context(path), start=start, end=end, first_line=first_line,
            batch=BLOCK_RECORDS, columnar=columnar, counts=counts,
        )

    def _indexed(
        self, path: Path, out: _FileIndex, columnar: ColumnarRead | None = None
    ) -> Iterator[Block]:
        """The file's blocks, building its index entry `out` as they pass (one full read)."""
        budget = self.max_cached_records - self._cached_total(path)
        cached: list[Entry] | None = [] if budget > 0 else None
        seekable = compression(path) is None
        first_ts = last_ts = None
        records = malformed = 0
        counts = ScanCounts()
        ctx = self._context(path)
        for block in self._scan(path, columnar=columnar, counts=counts, ctx=ctx):
            records += block.records
            malformed += block.malformed
            out.services |= block.services
            if block.min_ts is not None and block.max_ts is not None:
                first_ts = block.min_ts if first_ts is None else min(first_ts, block.min_ts)
                last_ts = block.max_ts if last_ts is None else max(last_ts, block.max_ts)
                if seekable:
                    out.blocks.append(
                        _Block(block.offset, block.first_line, block.min_ts, block.max_ts,
                               block.end_offset)
                    )
            if cached is not None:
                if block.counted is not None:
                    cached = None  # read by columns: not every record is at hand
                else:
                    cached.extend(block.entries)
                    if len(cached) > budget or (
                        records >= BLOCK_RECORDS and block.end_offset * budget < records * out.size
                    ):
                        cached = None  # at this many bytes a record, the file will not fit
            yield block
        out.first_ts, out.last_ts = first_ts, last_ts
        out.records, out.malformed = records, malformed
        out.cached = cached
        assert ctx.format is not None
        rule = self.formats.rule_for(path, ctx.origin_name)
        out.account = FileAccount(
            ctx.origin_name,
            rule.label if rule is not None else ctx.format.name,
            counts,
            ctx.format.notes(),
        )
        with self._lock:
            self._index[path] = out

    def _new_index(self, path: Path) -> _FileIndex:
        stat = path.stat()
        return _FileIndex(path, stat.st_size, stat.st_mtime_ns)

    def _build(self, path: Path) -> _FileIndex:
        out = self._new_index(path)
        for _ in self._indexed(path, out):
            pass
        return out

    def _entries(self) -> list[_FileIndex]:
        """Index entries for every file, building those that are new or changed."""
        return [self._current_index(path) or self._build(path) for path in self.files()]

    def _window_blocks(
        self, path: Path, entry: _FileIndex, window: TimeRange, columnar: ColumnarRead | None = None
    ) -> Iterator[Block]:
        """The blocks of an indexed file that may hold lines in the window."""
        if entry.cached is not None:
            return iter([Block(0, entry.size, 1, entry.cached, entry.records, entry.malformed)])
        return self._ranges(path, self._block_ranges(entry, window), columnar)

    def _ranges(
        self, path: Path, ranges: list[tuple[int, int | None, int]], columnar: ColumnarRead | None
    ) -> Iterator[Block]:
        for start, end, line in ranges:
            yield from self._scan(path, start, end, line, columnar)

    def _window_entries(self, path: Path, entry: _FileIndex, window: TimeRange) -> Iterator[Entry]:
        for block in self._window_blocks(path, entry, window):
            yield from block.entries

    @staticmethod
    def _block_ranges(entry: _FileIndex, window: TimeRange) -> list[tuple[int, int | None, int]]:
        """Byte ranges of the blocks that may hold lines in the window (adjacent ones merged)."""
        if not entry.blocks:
            return [(0, None, 1)]
        ranges: list[tuple[int, int | None, int]] = []
        for block in entry.blocks:
            if block.max_ts < window.start_ns or block.min_ts > window.end_ns:
                continue
            if ranges and ranges[-1][1] == block.offset:
                ranges[-1] = (ranges[-1][0], block.end_offset, ranges[-1][2])
            else:
                ranges.append((block.offset, block.end_offset, block.line))
        return ranges

    def _newest_in_tail(self, path: Path) -> int | None:
        """The newest time among a file's last lines: what `now_ns` will most likely say once the
        whole file is read, found without reading it (None for compressed files, which cannot
        seek)."""
        if compression(path) is not None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        known = self._tails.get(path)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        ctx = self._context(path)
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_PROBE_BYTES))
            chunk = handle.read(TAIL_PROBE_BYTES)
        lines = chunk.splitlines()
        if size > TAIL_PROBE_BYTES:
            lines = lines[1:]  # the first is cut
        elif lines:
            lines[0] = without_bom(lines[0])
        newest = None
        for line in lines:
            parsed = parse_line(line.decode("utf-8", errors="replace"), ctx, "")
            if isinstance(parsed, LogRecord):
                newest = parsed.timestamp_ns if newest is None else max(newest, parsed.timestamp_ns)
        self._tails[path] = (stat.st_size, stat.st_mtime_ns, newest)
        return newest

    def _likely_now(self, paths: list[Path]) -> int:
        """`now_ns` without a first read of new files: indexed files say, new ones are probed."""
        newest = []
        for path in paths:
            entry = self._current_index(path)
            stamp = entry.last_ts if entry is not None else self._newest_in_tail(path)
            if stamp is not None:
                newest.append(stamp)
        return max(newest) if newest else wall_clock_ns()

    def _paths_or_fail(self) -> list[Path]:
        paths = self.files()
        if not paths:
            skipped = "; ".join(f"{s['file']}: {s['reason']}" for s in self.skipped()[:5])
            raise SourceUnavailable(
                f"no log files found at {self.path}" + (f" (skipped {skipped})" if skipped else ""),
                code="NO_LOG_FILES",
                suggestion="Point --source (or AI_LOGS_SOURCE) at a file, directory or glob of "
                "*.log / *.jsonl files.",
                status=404,
            )
        return paths

    def _resolve(self, query: Query, read: Any) -> Any:
        """Run `read(paths, window)` for the query's window. A relative window ends at the newest
        line: new files are read once, building their index and answering together, for the
        window their last lines suggest; should a line elsewhere be newer, the answer is read
        again from the now complete index."""
        paths = self._paths_or_fail()
        if query.start and query.end:
            return read(paths, query.window())
        if self.clock == "wall":
            return read(paths, query.window(now=wall_clock_ns()))
        guessed = query.window(now=self._likely_now(paths))
        result = read(paths, guessed)
        exact = query.window(now=self.now_ns())
        if exact == guessed:
            return result
        return read(self.files(), exact)

    # ----- LogSource ----------------------------------------------------------------------

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult:
        return self._resolve(query, lambda paths, window: self._collect(paths, query, window, limit))

    def _collect(
        self, paths: list[Path], query: Query, window: TimeRange, limit: int | None
    ) -> FetchResult:
        collector = _Collector(query, window, limit)
        wanted = set(query.services)
        malformed = read_files = parsed = 0
        for path in paths:
            names = self._names(path)
            entry = self._current_index(path)
            if entry is None:
                read_files += 1
                entry = self._new_index(path)
                for block in self._indexed(path, entry):
                    parsed += len(block.entries)
                    for item in block.entries:
                        collector.offer(item, names)
                if entry.overlaps(window):
                    malformed += entry.malformed
                continue
            if not entry.overlaps(window) or (wanted and not wanted & entry.services):
                continue
            malformed += entry.malformed
            read_files += entry.cached is None
            for block in self._window_blocks(path, entry, window):
                parsed += len(block.entries) if entry.cached is None else 0
                for item in block.entries:
                    collector.offer(item, names)
        return FetchResult(
            records=collector.records(),
            window=window,
            truncated=limit is not None and collector.matched > limit,
            malformed_lines=malformed,
            stats={
                "files": len(paths),
                "files_read": read_files,
                "records_parsed": parsed,
                "matched": collector.matched,
                "input": self.input_account(paths).to_dict(),
            },
        )

    def read_window(self, query: Query, *, tenant: str | None = None) -> WindowRead:
        """Profile and evidence of the query's window, in one pass over what overlaps it."""
        return self._resolve(
            query, lambda paths, window: self._read_window(paths, ReadPlan.for_query(query, window))
        )

    def _read_window(self, paths: list[Path], plan: ReadPlan) -> WindowRead:
        reader = WindowReader(plan)
        malformed = read_files = 0
        files: list[dict[str, Any]] = []
        columnar = _columnar_read(plan)
        for key, path in enumerate(paths):
            names = self._names(path)
            entry = self._current_index(path)
            by_columns = columnar if _large(path) else None
            if entry is None:
                read_files += 1
                entry = self._new_index(path)
                reader.read(self._indexed(path, entry, by_columns), names, key)
            elif entry.overlaps(plan.window) and (
                not plan.services or plan.services & entry.services
            ):
                read_files += entry.cached is None
                reader.read(self._window_blocks(path, entry, plan.window, by_columns), names, key)
            else:
                continue
            if entry.overlaps(plan.window):
                malformed += entry.malformed
                files.append(
                    {"file": names.origin_name, "records": entry.records, "malformed": entry.malformed}
                )
        account = self.input_account(paths)
        profile, evidence = reader.finish(
            source=f"files: one pass over {len(files)} file(s)", notes=account.notes()
        )
        profile.label_values["service"] = sorted(
            {s for p in paths if (e := self._current_index(p)) for s in e.services}
        )
        return WindowRead(
            plan=plan,
            profile=profile,
            evidence=evidence,
            malformed_lines=malformed,
            stats={
                "files": len(paths),
                "files_read": read_files,
                "files_in_window": files,
                "input": account.to_dict(),
            },
        )

    def count_series(self, query: Query, step_s: int, *, tenant: str | None = None) -> TimeCounts:
        """Lines per service and level over the query's window, to the second (the caller
        buckets them): the counts of a window read."""
        return self.read_window(query, tenant=tenant).profile.counts

    def sum_series(
        self, query: Query, field: str, by: str, step_s: int, *, tenant: str | None = None
    ) -> dict[tuple[str, str], dict[int, float]]:
        """Sums of a numeric field per (`by` value, model) in buckets of `step_s` (bucket start
        // step), over every line of the window that carries the field."""
        needle = f'"{field}"'.encode()
        step_ns = max(1, step_s) * NS_PER_SECOND

        def read(paths: list[Path], window: TimeRange) -> dict[tuple[str, str], dict[int, float]]:
            keeps = ReadPlan.for_query(query, window).record_filter()
            out: dict[tuple[str, str], dict[int, float]] = {}
            for path in paths:
                entry = self._current_index(path) or self._build(path)
                if not entry.overlaps(window):
                    continue
                names = self._names(path)
                for item in self._window_entries(path, entry, window):
                    ts = item[2]
                    if ts is None or ts < window.start_ns or ts > window.end_ns:
                        continue
                    if not isinstance(item[5], LogRecord) and needle not in item[6]:
                        continue
                    record = entry_record(item, names)
                    value = getattr(record, field, None)
                    if value is None:
                        value = record.fields.get(field)
                    if value is None or not keeps(record):
                        continue
                    try:
                        amount = float(value)
                    except (TypeError, ValueError):
                        continue
                    label = getattr(record, by, None) or record.fields.get(by) or "unknown"
                    key = (str(label), record.model or "unknown")
                    row = out.setdefault(key, {})
                    bucket = ts // step_ns
                    row[bucket] = row.get(bucket, 0.0) + amount
            return out

        return self._resolve(query, read)

    def read_around(
        self, plan: ReadPlan, anchors: list[tuple[int, int]], *, ids: dict[str, set[str]] | None = None,
        limit: int = 5000, tenant: str | None = None,
    ) -> EvidenceSample:
        """Lines inside the `(start_ns, end_ns)` spans, narrowed to `ids` (field -> values) when
        given: the second, narrow read for context around anchors and failing requests."""
        from analyzer.analysis import evidence as why

        builder = EvidenceBuilder()
        if not anchors:
            return builder.build()
        keeps = plan.record_filter()
        wanted_ids = {name: values for name, values in (ids or {}).items() if values}
        needles = [v.encode() for values in wanted_ids.values() for v in values]
        reason = why.REQUEST if wanted_ids else why.CONTEXT
        for path in self.files():
            entry = self._current_index(path)
            if entry is None:
                continue
            names = self._names(path)
            for start, end in anchors:
                span = TimeRange(start, max(end, start + 1))
                if not entry.overlaps(span):
                    continue
                if needles and entry.cached is None:
                    items = self._grep(path, self._block_ranges(entry, span), needles)
                else:
                    items = self._window_entries(path, entry, span)
                for item in items:
                    ts = item[2]
                    if ts is None or ts < start or ts > end:
                        continue
                    if plan.services and item[3] not in plan.services:
                        continue
                    if needles and not any(n in item[6] for n in needles):
                        continue
                    record = entry_record(item, names)
                    if wanted_ids and not any(
                        getattr(record, n) in v for n, v in wanted_ids.items()
                    ):
                        continue
                    if keeps(record):
                        builder.add(record, reason)
                    if len(builder) >= limit:
                        return builder.build({"context_lines": limit})
        return builder.build()

    def _grep(
        self, path: Path, ranges: list[tuple[int, int | None, int]], needles: list[bytes]
    ) -> Iterator[Entry]:
        """The records of the byte ranges whose line holds one of `needles`, found by a byte
        search instead of reading every line (continuation lines are not joined here)."""
        scanner = LineScanner(self._context(path))
        with open_log(path) as handle:
            for start, end, first_line in ranges:
                handle.seek(start)
                body = handle.read((end if end is not None else 1 << 62) - start)
                starts: set[int] = set()
                for needle in needles:
                    at = body.find(needle)
                    while at >= 0:
                        line_start = body.rfind(b"\n", 0, at) + 1
                        starts.add(line_start)
                        stop = body.find(b"\n", at)
                        at = body.find(needle, stop) if stop >= 0 else -1
                found: list[Entry] = []
                previous, number = 0, first_line - 1
                for line_start in sorted(starts):
                    number += body.count(b"\n", previous, line_start)
                    previous = line_start
                    stop = body.find(b"\n", line_start)
                    raw = body[line_start : stop if stop >= 0 else len(body)]
                    scanner.feed(start + line_start, [raw], number, found)
                scanner.flush(found)
                yield from found

    def services(self, *, tenant: str | None = None) -> list[str]:
        found: set[str] = set()
        for entry in self._entries():
            found |= entry.services
        return sorted(found)

    def label_values(self, label: str, *, tenant: str | None = None) -> list[str]:
        found: set[str] = set()
        for path in self.files():
            entry = self._current_index(path) or self._build(path)
            if entry.label_values is None:
                entry.label_values = self._read_label_values(path)
            found |= entry.label_values.get(label, set())
        return sorted(found)

    def _read_label_values(self, path: Path) -> dict[str, set[str]]:
        """The `LABEL_FIELDS` values of a file, each set bounded: one more read, on first ask."""
        out: dict[str, set[str]] = {name: set() for name in LABEL_FIELDS}
        names = self._names(path)
        seen: set[tuple[str | None, ...]] = set()
        for entry in (e for block in self._scan(path) for e in block.entries):
            if entry[2] is None:
                continue
            data = entry_mapping(entry)
            if data is not None:
                get = data.get
                values: tuple[str | None, ...] = (
                    entry[3],
                    entry[4].label,  # type: ignore[union-attr]
                    _label_text(mapping_id(data, "workspace_id")),
                    _label_text(get("model")),
                    _label_text(get("request_type")),
                    _label_text(get("job")),
                    _label_text(get("env")),
                )
            else:
                record = entry_record(entry, names)
                values = (
                    record.service,
                    record.level.label,
                    _label_text(record.workspace_id),
                    _label_text(record.model),
                    _label_text(record.request_type),
                    _label_text(record.fields.get("job") or record.labels.get("job")),
                    _label_text(record.fields.get("env") or record.labels.get("env")),
                )
            if values in seen:
                continue
            if len(seen) < 100_000:
                seen.add(values)
            for name, value in zip(LABEL_FIELDS, values, strict=True):
                if value and len(out[name]) < MAX_LABEL_VALUES:
                    out[name].add(value)
        return out

    def now_ns(self) -> int:
        """`latest`: the newest line, so "last 2h" over a dump means its last two hours.

        Files not read yet are not read for this: their last lines say (exact for files
        written in time order); `read_window` and `fetch` correct the window if a newer
        line turns up while they read."""
        if self.clock == "wall":
            return wall_clock_ns()
        return self._likely_now(self.files())

    def check(self) -> dict[str, Any]:
        paths = self.files()
        if not paths:
            return {"ok": False, "detail": f"no log files at {self.path}"}
        unreadable = [p.name for p in paths if not os.access(p, os.R_OK)]
        if unreadable:
            return {"ok": False, "detail": f"cannot read {', '.join(unreadable[:5])}"}
        return {"ok": True, "detail": f"{len(paths)} log file(s) at {self.path}"}

