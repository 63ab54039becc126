"""Exact per-mode figures, gathered line by line as a source reads the whole window.

Performance, audit and conversation answers are about every line the mode selects (every timed
operation, every audit event, every conversation), not about a sample of them. A tally sees each
such line once, keeps what its summary needs in bounded form (durations as floats, counters,
one row per conversation) and answers the same summary `modes` would compute from all the lines.
"""

from __future__ import annotations

import heapq
import re
import statistics
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.pricing import PriceTable, cost, load_prices
from analyzer.analysis.statistics import percentile
from analyzer.model import LogRecord, Mode, format_timestamp

SLOWEST = 10
MAX_CONVERSATIONS_LISTED = 200

AUDIT_PATTERN = re.compile(
    r"\b(log(?:ged)?[ _-]?in|log(?:ged)?[ _-]?out|sign(?:ed)?[ _-]?(?:in|out)|auth\w*|"
    r"permission|forbidden|unauthori[sz]ed|access denied|denied|role|grant(?:ed)?|revoke[d]?|"
    r"api[ _-]?key|token (?:created|revoked|rotated)|password|admin|privilege|sudo|"
    r"user (?:created|deleted|updated|invited)|settings? (?:changed|updated))\b",
    re.IGNORECASE,
)
AUDIT_TYPES = {"auth", "login", "logout", "admin", "audit", "permission", "security"}
_FAILURE_WORDS = re.compile(r"denied|fail|forbidden|invalid", re.I)


def is_audit_event(record: LogRecord) -> bool:
    if (record.request_type or "").lower() in AUDIT_TYPES:
        return True
    category = str(record.fields.get("category") or record.fields.get("event_type") or "").lower()
    if category in AUDIT_TYPES:
        return True
    return bool(AUDIT_PATTERN.search(record.message))


class Tally(Protocol):
    def selects(self, record: LogRecord) -> bool: ...

    def add(self, record: LogRecord) -> None: ...

    def summary(self) -> dict[str, Any]: ...


def latency_stats(durations: array[float] | list[float]) -> dict[str, Any]:
    ordered = sorted(durations)
    return {
        "count": len(ordered),
        "p50_ms": round((percentile(ordered, 0.50) or 0.0) * 1000, 1),
        "p95_ms": round((percentile(ordered, 0.95) or 0.0) * 1000, 1),
        "p99_ms": round((percentile(ordered, 0.99) or 0.0) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
    }


@dataclass
class PerformanceTally:
    keep: int = SLOWEST  # slowest lines kept (the summary names the first SLOWEST)
    by_service: dict[str, array[float]] = field(default_factory=lambda: defaultdict(lambda: array("d")))
    by_type: dict[str, array[float]] = field(default_factory=lambda: defaultdict(lambda: array("d")))
    slowest: list[tuple[float, int, LogRecord]] = field(default_factory=list)
    seen: int = 0

    def selects(self, record: LogRecord) -> bool:
        return record.duration is not None

    def add(self, record: LogRecord) -> None:
        duration = record.duration or 0.0
        self.by_service[record.service].append(duration)
        self.by_type[record.request_type or "unknown"].append(duration)
        self.seen += 1
        item = (duration, -record.timestamp_ns, record)
        if len(self.slowest) < max(self.keep, SLOWEST):
            heapq.heappush(self.slowest, item)  # type: ignore[misc]
        elif item[:2] > self.slowest[0][:2]:
            heapq.heapreplace(self.slowest, item)  # type: ignore[misc]

    def slowest_records(self) -> list[LogRecord]:
        return [r for _, _, r in sorted(self.slowest, key=lambda t: (-t[0], -t[1]))]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "latency_by_service": {s: latency_stats(v) for s, v in sorted(self.by_service.items())},
            "latency_by_request_type": {t: latency_stats(v) for t, v in sorted(self.by_type.items())},
            "slowest_operations": [
                {
                    "timestamp": format_timestamp(r.timestamp_ns),
                    "service": r.service,
                    "duration_ms": round((r.duration or 0.0) * 1000, 1),
                    "request_type": r.request_type,
                    "correlation_id": r.correlation_id,
                    "message": r.message,
                }
                for r in self.slowest_records()[:SLOWEST]
            ],
        }
        if self.seen:
            every = array("d")
            for values in self.by_service.values():
                every.extend(values)
            out["overall"] = latency_stats(every)
        return out


@dataclass
class AuditTally:
    actors: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    events: int = 0
    # who did what: (actor, action) -> events, and each actor's failures and first and last event
    actor_actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    actor_failures: Counter[str] = field(default_factory=Counter)
    actor_span: dict[str, tuple[int, int]] = field(default_factory=dict)

    def selects(self, record: LogRecord) -> bool:
        return is_audit_event(record)

    def add(self, record: LogRecord) -> None:
        self.events += 1
        actor = record.user_id or str(
            record.fields.get("user") or record.fields.get("user_email") or "unknown"
        )
        self.actors[actor] += 1
        action = (record.request_type or fingerprint(record.message))[:80]
        self.actions[action] += 1
        self.actor_actions[(actor, action)] += 1
        failed = record.success is False or record.is_error or _FAILURE_WORDS.search(record.message)
        self.outcomes["failure" if failed else "success"] += 1
        self.actor_failures[actor] += bool(failed)
        first, last = self.actor_span.get(actor, (record.timestamp_ns, record.timestamp_ns))
        self.actor_span[actor] = (min(first, record.timestamp_ns), max(last, record.timestamp_ns))

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "by_actor": dict(self.actors.most_common(20)),
            "by_action": dict(self.actions.most_common(20)),
            "by_outcome": dict(self.outcomes),
            "actors": [self._actor(actor, n) for actor, n in self.actors.most_common(20)],
        }

    def _actor(self, actor: str, events: int) -> dict[str, Any]:
        """What one actor did: events per action, how many failed, when."""
        actions = Counter({a: n for (who, a), n in self.actor_actions.items() if who == actor})
        first, last = self.actor_span[actor]
        return {
            "actor": actor,
            "events": events,
            "failed": self.actor_failures[actor],
            "actions": dict(actions.most_common(5)),
            "first_seen": format_timestamp(first),
            "last_seen": format_timestamp(last),
        }


@dataclass(slots=True)
class _Conversation:
    records: int = 0
    services: set[str] = field(default_factory=set)
    workspace_id: str | None = None
    models: set[str] = field(default_factory=set)
    tokens: int = 0
    errors: int = 0
    first_ns: int = 0
    last_ns: int = 0
    duration_sum: float = 0.0
    durations: int = 0
    turns: set[str] = field(default_factory=set)  # requests that reached a model
    failed_turns: set[str] = field(default_factory=set)  # requests with an error line
    tokens_by_model: Counter[str] = field(default_factory=Counter)


@dataclass
class ConversationTally:
    conversations: dict[str, _Conversation] = field(default_factory=dict)

    def selects(self, record: LogRecord) -> bool:
        return bool(record.conversation_id)

    def add(self, record: LogRecord) -> None:
        key = record.conversation_id or ""
        conv = self.conversations.get(key)
        if conv is None:
            conv = self.conversations[key] = _Conversation(
                first_ns=record.timestamp_ns, last_ns=record.timestamp_ns
            )
        conv.records += 1
        conv.services.add(record.service)
        conv.workspace_id = conv.workspace_id or record.workspace_id
        if record.model:
            conv.models.add(record.model)
        conv.tokens += record.tokens_used or 0
        conv.errors += record.is_error
        turn = record.correlation_id or f"line:{record.timestamp_ns}"
        if record.model or record.tokens_used is not None:
            conv.turns.add(turn)
        if record.is_error:
            conv.failed_turns.add(turn)
        if record.tokens_used:
            conv.tokens_by_model[record.model or "unknown"] += record.tokens_used
        conv.first_ns = min(conv.first_ns, record.timestamp_ns)
        conv.last_ns = max(conv.last_ns, record.timestamp_ns)
        if record.duration is not None:
            conv.duration_sum += record.duration
            conv.durations += 1

    def summary(self, prices: PriceTable | None = None) -> dict[str, Any]:
        """`prices`: the table costs are priced at (the packaged one by default)."""
        prices = prices or load_prices()
        rows = [
            {
                "conversation_id": cid,
                "records": c.records,
                "services": sorted(c.services),
                "workspace_id": c.workspace_id,
                "models": sorted(c.models),
                "turns": len(c.turns | c.failed_turns),
                "failed_turns": len(c.failed_turns),
                "tokens": c.tokens,
                "cost": _cost(c.tokens_by_model, prices),
                "errors": c.errors,
                "first_seen": format_timestamp(c.first_ns),
                "last_seen": format_timestamp(c.last_ns),
                "mean_duration_ms": round(c.duration_sum / c.durations * 1000, 1)
                if c.durations
                else None,
            }
            for cid, c in self.conversations.items()
        ]
        rows.sort(key=lambda c: (-c["errors"], c["first_seen"]))
        models: Counter[str] = Counter()
        for c in self.conversations.values():
            models.update(c.tokens_by_model)
        out: dict[str, Any] = {
            "conversation_count": len(rows),
            "total_turns": sum(c["turns"] for c in rows),
            "failed_turns": sum(c["failed_turns"] for c in rows),
            "total_tokens": sum(c["tokens"] for c in rows),
            "tokens_by_model": dict(models.most_common()),
            "total_cost": _cost(models, prices),
            "unpriced_models": sorted(m for m in models if prices.lookup(m) is None),
            "conversations_with_errors": sum(1 for c in rows if c["errors"]),
            "conversations": rows[:MAX_CONVERSATIONS_LISTED],
        }
        if len(rows) > MAX_CONVERSATIONS_LISTED:
            out["conversations_listed"] = MAX_CONVERSATIONS_LISTED
        return out


def _cost(tokens_by_model: Counter[str], prices: PriceTable) -> float:
    """What the tokens cost at `prices`, priced as input tokens (lines report one total); models
    without a price add nothing (the summary lists them)."""
    total = 0.0
    for model, tokens in tokens_by_model.items():
        total += cost(model, tokens, 0, prices) or 0.0
    return round(total, 6)


def tally_for(mode: Mode, keep: int = SLOWEST) -> Tally | None:
    if mode is Mode.PERFORMANCE:
        return PerformanceTally(keep=keep)
    if mode is Mode.AUDIT:
        return AuditTally()
    if mode is Mode.CONVERSATION:
        return ConversationTally()
    return None
