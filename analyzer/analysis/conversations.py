"""AI accounting: what a conversation asked, what it cost, how fast and how reliably it answered.

One AI request is one correlation id: several services log it (browser, api, the LLM gateway), so
counting lines would count every request several times. Tokens come from the line that reports
usage (the largest count when several do), the response time is the longest duration any line of
the request reports (what the user waited end to end), and a request failed when any of its lines
is an error or says `success=false`. Percentiles are nearest-rank.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.analysis.pricing import PriceTable, cost
from analyzer.analysis.statistics import percentile
from analyzer.infra.privacy import mask_text
from analyzer.model import NS_PER_SECOND, LogRecord, format_timestamp

PROMPT_KEYS = ("prompt", "prompt_text", "input_text")
RESPONSE_KEYS = ("response", "response_text", "completion", "output_text")
PROMPT_HASH_KEYS = ("prompt_hash", "prompt_sha256")
RESPONSE_HASH_KEYS = ("response_hash", "response_sha256")
PROMPT_TOKEN_KEYS = ("prompt_tokens", "input_tokens")
COMPLETION_TOKEN_KEYS = ("completion_tokens", "output_tokens")
TIMELINE_LIMIT = 500


@dataclass(slots=True)
class AIRequest:
    """Every line of one request, folded into what accounting needs."""

    key: str  # correlation id, or the line's origin when a line has none
    first_ns: int
    last_ns: int
    records: list[LogRecord] = field(default_factory=list)
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    split_known: bool = False  # prompt/completion reported separately
    response_time: float | None = None  # seconds
    failed: bool = False
    workspace_id: str | None = None
    conversation_id: str | None = None

    def cost(self, prices: PriceTable) -> float | None:
        if not self.total_tokens:
            return 0.0 if prices.lookup(self.model) else None
        if self.split_known:
            return cost(self.model, self.prompt_tokens, self.completion_tokens, prices)
        # only a total: embeddings and most gateways' `tokens_used`; priced as input tokens
        return cost(self.model, self.total_tokens, 0, prices)


def _int_field(record: LogRecord, keys: Sequence[str]) -> int | None:
    for key in keys:
        value = record.fields.get(key)
        if value is None:
            continue
        try:
            return int(float(value))
        except (TypeError, ValueError):
            continue
    return None


def _is_ai(record: LogRecord) -> bool:
    return bool(record.model or record.tokens_used is not None)


def ai_requests(records: Iterable[LogRecord], *, only_ai: bool = True) -> list[AIRequest]:
    """Requests in time order; with `only_ai`, those where some line names a model or reports
    tokens (a conversation turn that failed before reaching the model has neither)."""
    groups: dict[str, list[LogRecord]] = {}
    for index, record in enumerate(records):
        key = record.correlation_id or f"line:{record.timestamp_ns}:{index}"
        groups.setdefault(key, []).append(record)
    out: list[AIRequest] = []
    for key, group in groups.items():
        if only_ai and not any(_is_ai(r) for r in group):
            continue
        group.sort(key=lambda r: r.timestamp_ns)
        request = AIRequest(key, group[0].timestamp_ns, group[-1].timestamp_ns, group)
        usage = max(
            (r for r in group if r.tokens_used is not None or _int_field(r, PROMPT_TOKEN_KEYS)),
            key=lambda r: (r.tokens_used or 0, r.timestamp_ns),
            default=None,
        )
        if usage is not None:
            prompt = _int_field(usage, PROMPT_TOKEN_KEYS)
            completion = _int_field(usage, COMPLETION_TOKEN_KEYS)
            request.split_known = prompt is not None and completion is not None
            request.prompt_tokens = prompt or 0
            request.completion_tokens = completion or 0
            request.total_tokens = usage.tokens_used or (prompt or 0) + (completion or 0)
            request.model = usage.model
        request.model = request.model or next((r.model for r in group if r.model), None)
        durations = [r.duration for r in group if r.duration is not None]
        request.response_time = max(durations) if durations else None
        request.failed = any(r.is_error or r.success is False for r in group)
        request.workspace_id = next((r.workspace_id for r in group if r.workspace_id), None)
        request.conversation_id = next(
            (r.conversation_id for r in group if r.conversation_id), None
        )
        out.append(request)
    out.sort(key=lambda r: (r.first_ns, r.key))
    return out


def usage_metrics(requests: Sequence[AIRequest], prices: PriceTable) -> dict[str, Any]:
    """Tokens, cost, latency and errors of a set of requests, with the prices that were used."""
    total_cost = 0.0
    unpriced: dict[str, int] = {}
    cost_by_model: dict[str, float] = {}
    tokens_by_model: Counter[str] = Counter()
    for request in requests:
        model = request.model or "unknown"
        tokens_by_model[model] += request.total_tokens
        value = request.cost(prices)
        if value is None:
            if request.total_tokens:
                unpriced[model] = unpriced.get(model, 0) + request.total_tokens
            continue
        total_cost += value
        cost_by_model[model] = cost_by_model.get(model, 0.0) + value
    times = [r.response_time for r in requests if r.response_time is not None]
    models = sorted({r.model for r in requests if r.model})
    failed = sum(1 for r in requests if r.failed)
    return {
        "total_requests": len(requests),
        "total_tokens": sum(r.total_tokens for r in requests),
        "prompt_tokens": sum(r.prompt_tokens for r in requests if r.split_known),
        "completion_tokens": sum(r.completion_tokens for r in requests if r.split_known),
        "total_cost": round(total_cost, 6),
        "cost_complete": not unpriced,
        "unpriced_models": [
            {"model": m, "tokens": t, "reason": "no price in the price table"}
            for m, t in sorted(unpriced.items())
        ],
        "cost_by_model": {m: round(v, 6) for m, v in sorted(cost_by_model.items())},
        "tokens_by_model": dict(sorted(tokens_by_model.items())),
        "average_response_time": round(sum(times) / len(times), 3) if times else None,
        "p95_response_time": percentile(times, 0.95),
        "error_count": failed,
        "error_rate": round(failed / len(requests), 4) if requests else 0.0,
        "model_distribution": dict(sorted(Counter(r.model or "unknown" for r in requests).items())),
        "prices_used": prices.describe(models),
        "price_sources": list(prices.sources),
    }


def _first_text(record: LogRecord, keys: Sequence[str]) -> str | None:
    return next(
        (str(record.fields[k]) for k in keys if record.fields.get(k) not in (None, "")), None
    )


def _exchanges(
    records: Sequence[LogRecord], text_keys: Sequence[str], hash_keys: Sequence[str], name: str
) -> list[dict[str, Any]]:
    """Prompts or responses, masked; only the hash where the logs hold only a hash."""
    out = []
    for record in records:
        text = _first_text(record, text_keys)
        digest = _first_text(record, hash_keys)
        if text is None and digest is None:
            continue
        entry: dict[str, Any] = {
            "timestamp": format_timestamp(record.timestamp_ns),
            "correlation_id": record.correlation_id,
            "service": record.service,
        }
        if text is not None:
            entry[name] = mask_text(text)
        if digest is not None:
            entry[f"{name}_hash"] = digest
        out.append(entry)
    return out


def _event(record: LogRecord) -> dict[str, Any]:
    event: dict[str, Any] = {
        "timestamp": format_timestamp(record.timestamp_ns),
        "service": record.service,
        "level": record.level.label,
        "message": mask_text(record.message),
        "correlation_id": record.correlation_id,
    }
    if record.model:
        event["model"] = record.model
    if record.tokens_used is not None:
        event["tokens"] = record.tokens_used
    if record.duration is not None:
        event["duration_ms"] = round(record.duration * 1000, 3)
    return event


def conversation_report(
    records: Iterable[LogRecord],
    conversation_id: str,
    *,
    prices: PriceTable,
    include_prompts: bool = True,
    include_responses: bool = True,
    include_metrics: bool = True,
    include_related_logs: bool = False,
    time_buffer_s: int = 300,
) -> dict[str, Any]:
    """Everything known about one conversation. `records` may hold more than the conversation:
    lines of the same session within `time_buffer_s` of it become `related_logs`."""
    pool = list(records)
    own = sorted(
        (r for r in pool if r.conversation_id == conversation_id),
        key=lambda r: (r.timestamp_ns, r.service),
    )
    # lines of a request that carry the correlation id but not the conversation id
    correlation_ids = {r.correlation_id for r in own if r.correlation_id}
    own_ids = {id(r) for r in own}
    request_lines = [
        r for r in pool if id(r) not in own_ids and r.correlation_id in correlation_ids
    ]
    members = sorted([*own, *request_lines], key=lambda r: (r.timestamp_ns, r.service))
    requests = ai_requests(
        members, only_ai=False
    )  # every turn, even one that never reached a model
    report: dict[str, Any] = {
        "conversation_id": conversation_id,
        "found": bool(own),
        "metadata": _metadata(own, requests),
        "timeline": [_event(r) for r in members[:TIMELINE_LIMIT]],
        "timeline_truncated": len(members) > TIMELINE_LIMIT,
    }
    if include_metrics:
        report["metrics"] = usage_metrics(requests, prices)
    if include_prompts:
        report["prompts"] = _exchanges(members, PROMPT_KEYS, PROMPT_HASH_KEYS, "prompt")
    if include_responses:
        report["responses"] = _exchanges(members, RESPONSE_KEYS, RESPONSE_HASH_KEYS, "response")
    if include_related_logs:
        report["related_logs"] = _related(pool, own, members, time_buffer_s)
    return report


def _metadata(own: Sequence[LogRecord], requests: Sequence[AIRequest]) -> dict[str, Any]:
    def distinct(values: Iterable[str | None]) -> list[str]:
        return sorted({v for v in values if v})

    return {
        "workspace_ids": distinct(r.workspace_id for r in own),
        "user_ids": distinct(r.user_id for r in own),
        "session_ids": distinct(r.session_id for r in own),
        "models": distinct(r.model for r in [*own, *(x for q in requests for x in q.records)]),
        "services": distinct(r.service for r in own),
        "first_activity": format_timestamp(own[0].timestamp_ns) if own else None,
        "last_activity": format_timestamp(own[-1].timestamp_ns) if own else None,
        "turns": len(requests),
        "lines": len(own),
    }


def _related(
    pool: Sequence[LogRecord], own: Sequence[LogRecord], members: Sequence[LogRecord], buffer_s: int
) -> list[dict[str, Any]]:
    if not own:
        return []
    sessions = {r.session_id for r in own if r.session_id}
    lo = own[0].timestamp_ns - buffer_s * NS_PER_SECOND
    hi = own[-1].timestamp_ns + buffer_s * NS_PER_SECOND
    taken = {id(r) for r in members}
    related = [
        r
        for r in pool
        if id(r) not in taken and r.session_id in sessions and lo <= r.timestamp_ns <= hi
    ]
    related.sort(key=lambda r: (r.timestamp_ns, r.service))
    return [_event(r) for r in related[:TIMELINE_LIMIT]]


def usage_series(
    records: Iterable[LogRecord],
    bucket_ns: int,
    by: str = "model",
    *,
    prices: PriceTable | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Tokens, requests (and cost) per time bucket for each model or workspace, for panels.

    Each point is `{"time_ns", "tokens", "requests", "cost"}`; buckets start at multiples of
    `bucket_ns`. A request lands in the bucket of its first line.
    """
    if by not in ("model", "workspace"):
        raise ValueError("usage_series groups by 'model' or 'workspace'")
    if bucket_ns <= 0:
        raise ValueError("bucket_ns must be positive")
    series: dict[str, dict[int, dict[str, Any]]] = {}
    for request in ai_requests(records):
        key = (request.model if by == "model" else request.workspace_id) or "unknown"
        bucket = request.first_ns - request.first_ns % bucket_ns
        point = series.setdefault(key, {}).setdefault(
            bucket, {"time_ns": bucket, "tokens": 0, "requests": 0, "cost": 0.0 if prices else None}
        )
        point["tokens"] += request.total_tokens
        point["requests"] += 1
        if prices is not None:
            value = request.cost(prices)
            if value is not None:
                point["cost"] = round(point["cost"] + value, 6)
    return {key: [points[b] for b in sorted(points)] for key, points in sorted(series.items())}
