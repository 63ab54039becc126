"""Following one request across services: the call graph, where time went and where it failed.

Logs rarely carry a full trace, so calls are inferred from the strongest evidence present, in
order: span/parent ids, fields that name a peer (`upstream`, `target_service`, a URL), the message
(`calling X`, `request to X`, `X returned 500`, `host:port`), and only then time order (a service
that starts while another is busy was probably called by it). Each edge says which evidence it
came from, so a reader can weigh it.

A peer that writes no line of its own (managed Redis, a database, a SaaS API) still becomes a
node when a caller names it as a connection target (`redis:6379`, a URL, see `dependencies`): an
inferred hop, unreachable once a caller's error line names it, and so the failing hop.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import networkx as nx

from analyzer.analysis.dependencies import named_services
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, format_timestamp

NS_PER_MS = 1_000_000
# A service is a bottleneck when its own time (not waiting on callees) is this share of the total.
BOTTLENECK_SHARE = 0.4
# Answers that refuse a request rather than break on it: the fault lies with what was sent.
REJECTION_STATUSES = frozenset({401, 403, 429})
SLOW_REQUEST_NS = 1_000 * NS_PER_MS

SPAN_KEYS = ("span_id", "spanId", "span")
PARENT_KEYS = ("parent_span_id", "parentSpanId", "parent_id", "parent_span")
CALLER_KEYS = ("caller", "caller_service", "source_service", "from_service", "client_service")

_NAME = r"([A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])"
_CALL_VERBS = re.compile(
    r"(?i)\b(?:calling|call(?:ed)? to|requests? to|forward(?:ing|ed)? to|proxy(?:ing)? to"
    r"|sending to|sent to|connect(?:ing|ion)? to|timed out (?:calling|waiting for)|waiting for"
    r"|submitting to|submission to)\s+" + _NAME
)
_RETURNED = re.compile(r"\b" + _NAME + r"\s+(?:returned|responded|answered|replied|failed)\b")


@dataclass(slots=True)
class Hop:
    """One service's part in the request: its lines, its span and how it ended."""

    service: str
    first_ns: int
    last_ns: int
    start_ns: int  # earlier than first_ns when a line reports how long the work took
    lines: int = 0
    errors: int = 0
    level: Severity = Severity.INFO
    first_error: str | None = None
    first_error_ns: int | None = None
    error_type: str | None = None
    status_code: int | None = None
    inferred: bool = False  # named by a caller but wrote no line for this request
    silent: bool = False  # wrote no line at all among the services read: a silent dependency
    blamed_by: list[str] = field(default_factory=list)  # callers whose error lines name it
    blamed_lines: int = 0  # callers' error lines that name it
    rejections: int = 0  # errors that answered 401/403/429
    self_ns: int = 0

    @property
    def end_ns(self) -> int:
        return self.last_ns

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def unreachable(self) -> bool:
        return self.inferred and bool(self.blamed_by)

    @property
    def failed(self) -> bool:
        return self.errors > 0 or bool(self.blamed_by)

    @property
    def only_rejected(self) -> bool:
        """It refused the request (auth, rate limit) rather than failing on it."""
        return self.errors > 0 and self.rejections == self.errors

    @property
    def status(self) -> str:
        if self.errors:
            return "rejected" if self.only_rejected else "error"
        if self.blamed_by:
            return "unreachable" if self.inferred else "failed_per_caller"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.service,
            "service": self.service,
            "first_seen": format_timestamp(self.first_ns),
            "last_seen": format_timestamp(self.last_ns),
            "start": format_timestamp(self.start_ns),
            "duration_ms": _ms(self.duration_ns),
            "self_ms": _ms(self.self_ns),
            "lines": self.lines,
            "errors": self.errors,
            "level": self.level.label,
            "status": self.status,
            "inferred": self.inferred,
        }
        if self.silent:
            data["silent"] = True
        if self.first_error:
            data["first_error"] = self.first_error
            data["first_error_at"] = format_timestamp(self.first_error_ns or self.first_ns)
        if self.blamed_by:
            data["blamed_by"] = self.blamed_by
            data["named_by_errors"] = self.blamed_lines
        if self.error_type:
            data["error_type"] = self.error_type
        if self.status_code is not None:
            data["status_code"] = self.status_code
        return data


@dataclass(slots=True)
class CorrelationResult:
    correlation_id: str
    graph: nx.DiGraph
    hops: dict[str, Hop]
    root: str | None
    critical_path: list[str]
    failing_hop: str | None
    errors: list[LogRecord]
    recommendations: list[str] = field(default_factory=list)
    start_ns: int = 0
    end_ns: int = 0

    @property
    def total_duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def timeline(self) -> list[Hop]:
        return sorted(self.hops.values(), key=lambda h: (h.start_ns, h.first_ns, h.service))

    def bottlenecks(self) -> list[Hop]:
        total = self.total_duration_ns
        if total <= 0:
            return []
        heavy = [h for h in self.hops.values() if h.self_ns / total >= BOTTLENECK_SHARE]
        return sorted(heavy, key=lambda h: (-h.self_ns, h.service))

    def edges(self) -> list[dict[str, Any]]:
        out = []
        for source, target, data in sorted(self.graph.edges(data=True)):
            out.append(
                {
                    "id": f"{source}->{target}",
                    "source": source,
                    "target": target,
                    "inferred_from": data["inferred_from"],
                    "calls": data["calls"],
                    "failed": self.hops[target].failed,
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        total = self.total_duration_ns
        return {
            "correlation_id": self.correlation_id,
            "found": bool(self.hops),
            "request_flow": {
                "root": self.root,
                "nodes": [hop.to_dict() for hop in self.timeline()],
                "edges": self.edges(),
            },
            "service_timeline": [
                {
                    "service": hop.service,
                    "start": format_timestamp(hop.start_ns),
                    "end": format_timestamp(hop.end_ns),
                    "offset_ms": _ms(hop.start_ns - self.start_ns),
                    "duration_ms": _ms(hop.duration_ns),
                    "lines": hop.lines,
                    "errors": hop.errors,
                    "status": hop.status,
                }
                for hop in self.timeline()
            ],
            "critical_path": [
                {
                    "service": name,
                    "duration_ms": _ms(self.hops[name].duration_ns),
                    "self_ms": _ms(self.hops[name].self_ns),
                    "status": self.hops[name].status,
                }
                for name in self.critical_path
            ],
            "failing_hop": self.failing_hop,
            "bottlenecks": [
                {
                    "service": hop.service,
                    "self_ms": _ms(hop.self_ns),
                    "share": round(hop.self_ns / total, 3) if total else 0.0,
                }
                for hop in self.bottlenecks()
            ],
            "errors": [_error_dict(record) for record in self.errors],
            "total_duration_ms": _ms(total),
            "service_durations": {
                name: _ms(hop.duration_ns) for name, hop in sorted(self.hops.items())
            },
            "start": format_timestamp(self.start_ns) if self.hops else None,
            "end": format_timestamp(self.end_ns) if self.hops else None,
            "recommendations": self.recommendations,
        }


def request_flow(
    records: Iterable[LogRecord],
    correlation_id: str,
    *,
    known_services: Sequence[str] = (),
) -> CorrelationResult:
    """The call graph of one request. `known_services` lets a peer that logged nothing for this
    request (a crashed cache, say) still appear when a caller names it by `host:port`."""
    records = list(records)
    own = sorted(
        (r for r in records if r.correlation_id == correlation_id),
        key=lambda r: (r.timestamp_ns, r.service),
    )
    hops = _hops(own)
    names = set(hops) | set(known_services)
    graph: nx.DiGraph = nx.DiGraph()
    for name in hops:
        graph.add_node(name)
    _explicit_edges(graph, own, hops, names)
    _time_order_edges(graph, hops)
    _blame(graph, own, hops)
    known = set(known_services) | {r.service for r in records}
    for hop in hops.values():
        hop.silent = hop.inferred and hop.service not in known
    root = _root(graph, hops)
    _self_times(graph, hops)
    path = _critical_path(graph, hops, root)
    failing = _failing_hop(graph, hops, path)
    errors = [r for r in own if r.is_error][:50]
    start = min((h.start_ns for h in hops.values()), default=0)
    end = max((h.end_ns for h in hops.values()), default=0)
    result = CorrelationResult(
        correlation_id=correlation_id,
        graph=graph,
        hops=hops,
        root=root,
        critical_path=path,
        failing_hop=failing,
        errors=errors,
        start_ns=start,
        end_ns=end,
    )
    result.recommendations = _recommendations(result)
    return result


def _hops(records: list[LogRecord]) -> dict[str, Hop]:
    hops: dict[str, Hop] = {}
    for record in records:
        hop = hops.get(record.service)
        if hop is None:
            hop = hops[record.service] = Hop(
                record.service, record.timestamp_ns, record.timestamp_ns, record.timestamp_ns
            )
        hop.lines += 1
        hop.last_ns = max(hop.last_ns, record.timestamp_ns)
        if record.duration is not None and record.duration > 0:
            hop.start_ns = min(
                hop.start_ns, record.timestamp_ns - int(record.duration * NS_PER_SECOND)
            )
        hop.level = max(hop.level, record.level)
        status = _status_code(record)
        if record.is_error:
            hop.errors += 1
            hop.rejections += status in REJECTION_STATUSES
            if hop.first_error is None:
                hop.first_error = record.message
                hop.first_error_ns = record.timestamp_ns
                hop.error_type = _text(record.fields.get("error_type"))
                hop.status_code = status
    return hops


def _status_code(record: LogRecord) -> int | None:
    value = record.fields.get("status_code", record.fields.get("status"))
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _add_edge(graph: nx.DiGraph, source: str, target: str, evidence: str) -> None:
    if source == target:
        return
    if graph.has_edge(source, target):
        graph[source][target]["calls"] += 1
        return
    if graph.has_edge(target, source):
        return  # the first evidence decides the direction between two services
    graph.add_edge(source, target, inferred_from=evidence, calls=1)


def _peer(value: object, names: set[str]) -> str | None:
    """A service name from a field value: a bare name, `host:port` or a URL."""
    text = _text(value)
    if text is None:
        return None
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split(":", 1)[0].strip().lower()
    return next((name for name in names if name.lower() == text), None)


def _explicit_edges(
    graph: nx.DiGraph, records: list[LogRecord], hops: dict[str, Hop], names: set[str]
) -> None:
    span_owner: dict[str, str] = {}
    for record in records:
        for key in SPAN_KEYS:
            if (span := _text(record.fields.get(key))) is not None:
                span_owner.setdefault(span, record.service)
    for record in records:
        for key in PARENT_KEYS:
            parent = span_owner.get(_text(record.fields.get(key)) or "")
            if parent is not None:
                _add_edge(graph, parent, record.service, "span_ids")
        for peer in named_services("", record.fields, names):
            _link(graph, hops, record, peer, "fields")
        for key in CALLER_KEYS:
            peer = _peer(record.fields.get(key), names)
            if peer is not None:
                _add_edge(graph, peer, record.service, "fields")
        for peer in _message_peers(record.message, names):
            _link(graph, hops, record, peer, "message")


def _message_peers(message: str, names: set[str]) -> list[str]:
    """Known services named by a call phrase, then every connection target the line names
    (a known service or a silent dependency)."""
    lowered = {name.lower(): name for name in names}
    found: list[str] = []
    for pattern in (_CALL_VERBS, _RETURNED):
        for match in pattern.finditer(message):
            name = lowered.get(match.group(1).lower())
            if name and name not in found:
                found.append(name)
    for name in named_services(message, None, names):
        if name not in found:
            found.append(name)
    return found


def _link(
    graph: nx.DiGraph, hops: dict[str, Hop], record: LogRecord, peer: str, evidence: str
) -> None:
    """An edge from the logging service to the peer it names; a silent peer becomes an inferred
    hop (unreachable once a caller's error line names it)."""
    if peer == record.service:
        return
    hop = hops.get(peer)
    if hop is None:
        hop = hops[peer] = Hop(
            peer, record.timestamp_ns, record.timestamp_ns, record.timestamp_ns, inferred=True
        )
        graph.add_node(peer)
    if hop.inferred:
        hop.first_ns = min(hop.first_ns, record.timestamp_ns)
        hop.start_ns = min(hop.start_ns, record.timestamp_ns)
        hop.last_ns = max(hop.last_ns, record.timestamp_ns)
    _add_edge(graph, record.service, peer, evidence)


def _blame(graph: nx.DiGraph, records: list[LogRecord], hops: dict[str, Hop]) -> None:
    """A caller's error line that names one of its callees points at that callee, which matters
    most when the callee itself logged nothing about the failure."""
    for record in records:
        if not record.is_error:
            continue
        for callee in graph.successors(record.service):
            if not re.search(rf"(?<![\w-]){re.escape(callee)}(?![\w-])", record.message, re.I):
                continue
            hop = hops[callee]
            hop.blamed_lines += 1
            if record.service not in hop.blamed_by:
                hop.blamed_by.append(record.service)
            if hop.first_error is None and not hop.errors:
                hop.first_error = f"{record.service}: {record.message}"
                hop.first_error_ns = record.timestamp_ns
                hop.level = max(hop.level, record.level)


def _time_order_edges(graph: nx.DiGraph, hops: dict[str, Hop]) -> None:
    """Attach every service nobody is known to call to the one that was busy when it started."""
    order = sorted(hops.values(), key=lambda h: (h.start_ns, h.first_ns, h.service))
    if not order:
        return
    for index, hop in enumerate(order[1:], start=1):
        if graph.in_degree(hop.service) > 0:
            continue
        earlier = order[:index]
        busy = [h for h in earlier if h.end_ns >= hop.start_ns]
        caller = max(busy or earlier, key=lambda h: (h.start_ns, h.first_ns, h.service))
        if nx.has_path(graph, hop.service, caller.service):
            continue  # would close a cycle: it already calls that service
        _add_edge(graph, caller.service, hop.service, "time_order")


def _root(graph: nx.DiGraph, hops: dict[str, Hop]) -> str | None:
    if not hops:
        return None
    sources = [name for name in hops if graph.in_degree(name) == 0] or list(hops)
    return min(sources, key=lambda name: (hops[name].start_ns, hops[name].first_ns, name))


def _self_times(graph: nx.DiGraph, hops: dict[str, Hop]) -> None:
    """A span minus the parts of it covered by its callees' spans."""
    for name, hop in hops.items():
        covered: list[tuple[int, int]] = []
        for child in graph.successors(name):
            other = hops[child]
            lo, hi = max(hop.start_ns, other.start_ns), min(hop.end_ns, other.end_ns)
            if hi > lo:
                covered.append((lo, hi))
        hop.self_ns = hop.duration_ns - _union_length(covered)


def _union_length(intervals: list[tuple[int, int]]) -> int:
    total, current_end = 0, None
    for lo, hi in sorted(intervals):
        if current_end is None or lo > current_end:
            total += hi - lo
            current_end = hi
        elif hi > current_end:
            total += hi - current_end
            current_end = hi
    return total


def _critical_path(graph: nx.DiGraph, hops: dict[str, Hop], root: str | None) -> list[str]:
    """From the root, keep following the callee the caller waited on longest: the one that
    finished last, then the longest."""
    path: list[str] = []
    current = root
    while current is not None and current not in path:
        path.append(current)
        children = [c for c in graph.successors(current) if c not in path]
        if not children:
            break
        current = max(
            children,
            key=lambda c: (hops[c].end_ns, hops[c].duration_ns, hops[c].failed, c),
        )
    return path


def _failing_hop(graph: nx.DiGraph, hops: dict[str, Hop], path: list[str]) -> str | None:
    """The failed service furthest downstream: a failed hop none of whose callees failed.

    Hops that only refused the request (401/403/429) are not faults; when every failed hop only
    refused, the request was turned away and the entry-most refusing hop is reported."""
    failed = [name for name, hop in hops.items() if hop.failed]
    if not failed:
        return None
    faults = [name for name in failed if not hops[name].only_rejected]
    if not faults:
        return min(failed, key=lambda n: (_depth(graph, path, n), hops[n].first_ns, n))
    leaves = [n for n in faults if not any(c in faults for c in nx.descendants(graph, n))]
    candidates = leaves or faults

    def rank(name: str) -> tuple[int, int, int, str]:
        hop = hops[name]
        on_path = 0 if name in path else 1
        return (on_path, -_depth(graph, path, name), hop.first_error_ns or hop.first_ns, name)

    return min(candidates, key=rank)


def _depth(graph: nx.DiGraph, path: list[str], name: str) -> int:
    if name in path:
        return path.index(name)
    root = path[0] if path else None
    if root is None or not nx.has_path(graph, root, name):
        return 0
    return nx.shortest_path_length(graph, root, name)


def _recommendations(result: CorrelationResult) -> list[str]:
    out: list[str] = []
    hops = result.hops
    failing = result.failing_hop
    if failing is not None:
        hop = hops[failing]
        callers = sorted(result.graph.predecessors(failing))
        if hop.silent:
            out.append(
                f"{failing} has no logs of its own here and {', '.join(callers) or 'its caller'} "
                f"could not reach it: check that {failing} is up and accepting connections (its "
                "metrics, its provider's status page), and the network path to it."
            )
        elif hop.inferred:
            out.append(
                f"{failing} wrote no line for this request and "
                f"{', '.join(callers) or 'its caller'} could not reach it: check that {failing} "
                "is up and accepting connections."
            )
        else:
            out.append(
                f"Start at {failing}: its first error at "
                f"{format_timestamp(hop.first_error_ns or 0)}"
                f' was "{_clip(hop.first_error or "")}".'
            )
        upstream_failed = [n for n in nx.ancestors(result.graph, failing) if hops[n].failed]
        if upstream_failed:
            out.append(
                f"The errors in {', '.join(sorted(upstream_failed))} follow from {failing}; "
                "fix that first before chasing them."
            )
    # own time only matters once a request is slow enough for a person to notice
    slow = result.total_duration_ns >= SLOW_REQUEST_NS
    for hop in result.bottlenecks() if slow else []:
        out.append(
            f"{hop.service} spent {_ms(hop.self_ns):.1f} ms of {_ms(result.total_duration_ns):.1f} ms in "
            "its own work: profile it, cache its results or give it a tighter timeout."
        )
    timeouts = Counter(
        h.service
        for h in hops.values()
        if "timeout" in (h.first_error or "").lower()
        or "timed out" in (h.first_error or "").lower()
    )
    if len(timeouts) > 1:
        out.append(
            "Several hops timed out (" + ", ".join(sorted(timeouts)) + "): make each caller's "
            "timeout longer than its callee's, or the caller gives up before the real error "
            "appears."
        )
    if not hops:
        out.append("No line carries this correlation id: widen time_window or check the id.")
    return out


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_dict(record: LogRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "timestamp": format_timestamp(record.timestamp_ns),
        "service": record.service,
        "level": record.level.label,
        "message": record.message,
    }
    for key in ("error_type", "status_code"):
        if record.fields.get(key) is not None:
            data[key] = record.fields[key]
    return data


def _ms(ns: int) -> float:
    return round(ns / NS_PER_MS, 3)


# Grafana's Node Graph panel reads these exact field names (case-insensitively in recent versions).
_OK_COLOR = "green"
_ERROR_COLOR = "red"


def node_graph_frames(
    result: CorrelationResult,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The graph as the two data frames (nodes, edges) the Node Graph panel draws."""
    hops = result.timeline()
    error_share = [
        hop.errors / hop.lines if hop.errors else (1.0 if hop.blamed_by else 0.0) for hop in hops
    ]
    nodes = [
        _field("id", "string", [h.service for h in hops]),
        _field("title", "string", [h.service for h in hops]),
        _field(
            "subtitle",
            "string",
            [
                f"{h.lines} lines, {h.errors} errors"
                + (" (no logs of its own)" if h.silent else " (inferred)" if h.inferred else "")
                for h in hops
            ],
        ),
        _field(
            "mainstat",
            "number",
            [_ms(h.duration_ns) for h in hops],
            {"displayName": "duration", "unit": "ms"},
        ),
        _field(
            "secondarystat",
            "number",
            [_ms(h.self_ns) for h in hops],
            {"displayName": "own time", "unit": "ms"},
        ),
        _field(
            "arc__ok",
            "number",
            [round(1.0 - share, 6) for share in error_share],
            {"displayName": "ok", "color": {"mode": "fixed", "fixedColor": _OK_COLOR}},
        ),
        _field(
            "arc__errors",
            "number",
            [round(share, 6) for share in error_share],
            {"displayName": "errors", "color": {"mode": "fixed", "fixedColor": _ERROR_COLOR}},
        ),
        _field("color", "string", [_ERROR_COLOR if h.failed else _OK_COLOR for h in hops]),
        _field(
            "detail__first_error",
            "string",
            [h.first_error or "" for h in hops],
            {"displayName": "first error"},
        ),
    ]
    edges_list = result.edges()
    edges = [
        _field("id", "string", [e["id"] for e in edges_list]),
        _field("source", "string", [e["source"] for e in edges_list]),
        _field("target", "string", [e["target"] for e in edges_list]),
        _field("mainstat", "number", [e["calls"] for e in edges_list], {"displayName": "lines"}),
        _field(
            "secondarystat",
            "string",
            [e["inferred_from"] for e in edges_list],
            {"displayName": "inferred from"},
        ),
    ]
    return nodes, edges


def _field(
    name: str, kind: str, values: list[Any], config: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"name": name, "type": kind, "values": values, "config": config or {}}
