"""Live logs over a WebSocket: `GET /api/v1/ai_logs/stream` (scope `stream`).

The same filters as `/query`; everything is checked (key, scope, rate limit, parameters) before
the upgrade, so a bad request is a plain JSON 4xx a client can read. After the upgrade every
message is one JSON object with a `type`:

- `subscribed`: what is followed (LogQL or files), the filters and the timings in force;
- `log`: one matching record, PII-masked, shaped like a `/query` log line;
- `insight`: a finding over the last `insight_window` of streamed records (each finding once
  per window, however its counts grow);
- `heartbeat`: sent every `heartbeat_seconds`, with running totals;
- `dropped`: lines lost, either by Loki (`dropped_entries`) or here when the client reads
  slower than lines arrive (the buffer keeps the newest `queue_size` and drops the oldest);
- `notice`: something worth knowing that is not an error (the tail to Loki was resumed);
- `error`: `{"code","message","suggestion"}` as in HTTP answers, then the socket closes.

Reading the source happens on its own thread, into the bounded buffer; this thread only
sends, so a slow client never stalls the tail (Loki would drop lines for it otherwise).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from flask import Blueprint, Flask, g, request
from flask_sock import Sock
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from simple_websocket import ConnectionClosed

from analyzer.analysis.filters import record_filter
from analyzer.analysis.modes import render_record
from analyzer.analysis.normalize import fingerprint
from analyzer.analysis.pipeline import analyze_records
from analyzer.errors import AnalyzerError, InvalidParameter
from analyzer.infra.privacy import mask
from analyzer.model import (
    DURATION_PATTERN,
    ID_FIELDS,
    MAX_WINDOW,
    NS_PER_SECOND,
    SEVERITY_SCHEMA,
    IdText,
    LogRecord,
    Query,
    Span,
    Term,
    TimeRange,
    check_instant,
    format_timestamp,
    instant_ns,
    now_ns,
    parse_duration,
    parse_instant,
)
from analyzer.services import Services
from analyzer.sources.tail import LiveTail, TailBatch, open_tail
from analyzer.web.auth import require
from analyzer.web.context import services
from analyzer.web.params import parse_params, validate

log = logging.getLogger("analyzer.web.stream")

bp = Blueprint("stream", __name__, url_prefix="/api/v1/ai_logs")
sock = Sock()

# the filters /query and /stream share; everything else about a query is about analysis
SHARED_FILTERS = ("services", *ID_FIELDS, "severity_threshold", "exclude_patterns", "highlight")

# WebSocket close codes (RFC 6455): the request was refused / the server failed
CLOSE_REFUSED = 1008
CLOSE_FAILED = 1011


STREAM_FAILED = AnalyzerError(
    "reading the live tail failed; the failure is logged",
    code="STREAM_FAILED",
    status=500,
    suggestion="Reconnect; if it persists, check the analyzer's log.",
)


class StreamParams(BaseModel):
    """What to follow. The filters mean exactly what they mean on /query."""

    model_config = ConfigDict(extra="forbid")

    services: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=50, description="Services to follow; empty means all."
    )
    correlation_id: IdText | None = None
    conversation_id: IdText | None = None
    session_id: IdText | None = None
    workspace_id: IdText | None = None
    user_id: IdText | None = None
    severity_threshold: str | int | None = Field(
        None,
        description="Keep records at or above this level (debug..fatal).",
        json_schema_extra=SEVERITY_SCHEMA,
    )
    exclude_patterns: list[Term] = Field(
        default_factory=list, max_length=10, description="Regexes; matching lines are dropped."
    )
    highlight: list[Term] = Field(
        default_factory=list, max_length=10, description="Terms marked in each record's "
        "`highlights`."
    )
    start: str | None = Field(
        None,
        description="Replay history from here first: RFC 3339, an epoch, or a duration back "
        f"from now such as 15m, at most {MAX_WINDOW} (like Loki's tail `start`). Omitted: live "
        "lines only.",
        json_schema_extra={"anyOf": [
            Span.__metadata__[0].json_schema_extra | {"type": "string"},
            {"type": "string", "format": "date-time"},
            {"type": "null"},
        ]},
    )
    limit: int = Field(100, ge=1, le=5000, description="Most history records replayed.")

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value).strip()
        if re.fullmatch(DURATION_PATTERN, text):
            return TypeAdapter(Span).validate_python(text)  # at most MAX_WINDOW back
        check_instant(parse_instant(text))  # raises ValueError with the accepted forms
        return text

    def query(self) -> Query:
        """The shared filters validated by /query's own model, so both refuse the same input."""
        return validate(Query, self.model_dump(include=set(SHARED_FILTERS), exclude_none=True))

    def start_ns(self, clock_ns: int) -> int | None:
        if self.start is None:
            return None
        if re.fullmatch(DURATION_PATTERN, self.start):
            return clock_ns - parse_duration(self.start) * NS_PER_SECOND
        return instant_ns(self.start)


@dataclass(frozen=True)
class StreamSettings:
    """Timings and bounds of every stream; a deployment may replace them in
    `services.extras["stream_settings"]`."""

    heartbeat_seconds: float = 15.0
    insight_every_seconds: float = 5.0
    insight_window: str = "5m"
    queue_size: int = 1000
    max_window_records: int = 20_000
    poll_interval: float = 0.25
    send_batch: int = 256


@dataclass
class Taken:
    records: list[LogRecord] = field(default_factory=list)
    dropped: int = 0  # lost here: the client read slower than lines arrived
    source_dropped: int = 0  # lost by the source (Loki's dropped_entries)
    notices: list[str] = field(default_factory=list)
    error: AnalyzerError | None = None


class StreamBuffer:
    """Bounded hand-over from the tail thread to the sending thread; drops the oldest."""

    def __init__(self, size: int) -> None:
        self._records: deque[LogRecord] = deque()
        self._size = max(1, size)
        self._cond = threading.Condition()
        self._dropped = 0
        self._source_dropped = 0
        self._notices: list[str] = []
        self._error: AnalyzerError | None = None

    def put(self, records: list[LogRecord], *, source_dropped: int = 0,
            notice: str | None = None) -> None:
        with self._cond:
            self._records.extend(records)
            overflow = len(self._records) - self._size
            for _ in range(max(0, overflow)):
                self._records.popleft()
            self._dropped += max(0, overflow)
            self._source_dropped += source_dropped
            if notice:
                self._notices.append(notice)
            self._cond.notify()

    def fail(self, error: AnalyzerError) -> None:
        with self._cond:
            self._error = error
            self._cond.notify()

    def take(self, most: int, timeout: float) -> Taken:
        with self._cond:
            if not self._pending():
                self._cond.wait(timeout=max(0.0, timeout))
            out = Taken()
            while self._records and len(out.records) < most:
                out.records.append(self._records.popleft())
            out.dropped, self._dropped = self._dropped, 0
            out.source_dropped, self._source_dropped = self._source_dropped, 0
            out.notices, self._notices = self._notices, []
            if not self._records:
                out.error = self._error  # records before the failure are delivered first
            return out

    def _pending(self) -> bool:
        return bool(self._records or self._dropped or self._source_dropped or self._notices
                    or self._error)


class InsightWindow:
    """The last `span` of streamed records, by record time, and the findings already sent."""

    def __init__(self, query: Query, span_ns: int, max_records: int) -> None:
        self.query = query
        self.span_ns = span_ns
        self._records: deque[LogRecord] = deque(maxlen=max_records)
        self._sent: dict[str, int] = {}  # finding key -> record time when sent
        self._newest: int | None = None
        self._changed = False

    def add(self, record: LogRecord) -> None:
        self._records.append(record)
        ts = record.timestamp_ns
        self._newest = ts if self._newest is None else max(self._newest, ts)
        self._changed = True

    def new_insights(self) -> list[tuple[dict[str, Any], TimeRange]]:
        """Findings not sent within the window; each is keyed by kind and title shape, so
        "12 errors in api" and "13 errors in api" are the same finding."""
        if not self._changed or self._newest is None:
            return []
        self._changed = False
        cutoff = self._newest - self.span_ns
        while self._records and self._records[0].timestamp_ns < cutoff:
            self._records.popleft()
        current = sorted(
            (r for r in self._records if r.timestamp_ns >= cutoff), key=lambda r: r.timestamp_ns
        )
        self._sent = {k: t for k, t in self._sent.items() if t > cutoff}
        if not current:
            return []
        window = TimeRange(cutoff, self._newest + 1)
        out = []
        for insight in analyze_records(current, self.query, window).insights:
            key = f"{insight.kind}:{insight.service}:{fingerprint(insight.title)}"
            if key in self._sent:
                continue
            self._sent[key] = self._newest
            out.append((insight.to_dict(), window))
        return out


class StreamSession:
    """One connected client: pumps the tail into the buffer and sends what comes out."""

    def __init__(
        self,
        ws: Any,
        tail: LiveTail,
        query: Query,
        settings: StreamSettings,
        *,
        subscribed: dict[str, Any],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.tail = tail
        self.query = query
        self.settings = settings
        self.subscribed = subscribed
        self.clock = clock
        self.matches = record_filter(query)
        self.buffer = StreamBuffer(settings.queue_size)
        self.window = InsightWindow(
            query, parse_duration(settings.insight_window) * NS_PER_SECOND,
            settings.max_window_records,
        )
        self._stop = threading.Event()
        self.sent_logs = 0
        self.dropped = 0

    def run(self) -> None:
        try:
            self.tail.open()
        except AnalyzerError as exc:
            self._fail(exc)
            return
        except Exception:
            # after the upgrade an HTTP 500 cannot be sent: the error goes as a message
            log.exception("opening the live tail failed")
            self._fail(STREAM_FAILED)
            return
        pump = threading.Thread(target=self._pump, name="ai-logs-stream-tail", daemon=True)
        pump.start()
        try:
            self._send({"type": "subscribed", **self.subscribed})
            self._serve()
        except ConnectionClosed:
            raise  # the client left; flask-sock ends the request quietly
        except Exception:
            log.exception("live stream failed")
            self._fail(STREAM_FAILED)
        finally:
            self._stop.set()
            pump.join(timeout=5)
            self.tail.close()

    def _pump(self) -> None:
        """Tail thread: source -> filter -> buffer, until the session stops or the tail fails."""
        try:
            while not self._stop.is_set():
                batch: TailBatch | None = self.tail.next_batch(timeout=0.5)
                if batch is None:
                    continue
                kept = [r for r in batch.records if self.matches(r)]
                if kept or batch.dropped or batch.notice:
                    self.buffer.put(kept, source_dropped=batch.dropped, notice=batch.notice)
        except AnalyzerError as exc:
            self.buffer.fail(exc)
        except Exception:
            log.exception("live tail failed")
            self.buffer.fail(STREAM_FAILED)

    def _serve(self) -> None:
        settings = self.settings
        next_heartbeat = self.clock() + settings.heartbeat_seconds
        next_insight = self.clock() + settings.insight_every_seconds
        while self.ws.connected:
            wait = min(next_heartbeat, next_insight) - self.clock()
            taken = self.buffer.take(settings.send_batch, timeout=min(max(wait, 0.0), 0.5))
            if taken.source_dropped:
                self._dropped(taken.source_dropped, "source")
            if taken.dropped:
                self._dropped(taken.dropped, "buffer")
            for notice in taken.notices:
                self._send({"type": "notice", "message": notice})
            for record in taken.records:
                self.window.add(record)
                self._send({"type": "log", "record": render_record(record, self.query)})
                self.sent_logs += 1
            if taken.error is not None:
                self._fail(taken.error)
                return
            now = self.clock()
            if now >= next_insight:
                for insight, window in self.window.new_insights():
                    self._send({"type": "insight", "insight": insight, "window": window.to_dict()})
                next_insight = now + settings.insight_every_seconds
            if now >= next_heartbeat:
                self._send({
                    "type": "heartbeat",
                    "time": format_timestamp(now_ns()),
                    "sent": self.sent_logs,
                    "dropped": self.dropped,
                })
                next_heartbeat = now + settings.heartbeat_seconds
            self._read_client()

    def _dropped(self, count: int, where: str) -> None:
        self.dropped += count
        self._send({"type": "dropped", "count": count, "where": where})

    def _read_client(self) -> None:
        """Clients need not say anything; what they send is read and ignored."""
        with contextlib.suppress(Exception):
            while self.ws.receive(timeout=0) is not None:
                pass

    def _send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(mask(message), default=str))

    def _fail(self, exc: AnalyzerError) -> None:
        close_with_error(self.ws, exc)


def close_with_error(ws: Any, exc: AnalyzerError) -> None:
    """The error as the last message (the shape HTTP errors have), then the close."""
    with contextlib.suppress(Exception):
        ws.send(json.dumps(mask({"type": "error", **exc.to_dict()}), default=str))
        ws.close(reason=CLOSE_REFUSED if exc.status < 500 else CLOSE_FAILED, message=exc.code)
    # RFC 6455 7.1.1: the server closes the TCP connection first. Without this a client that
    # answered the close frame can wait out its close timeout while the server thread winds down.
    with contextlib.suppress(Exception):
        ws.sock.shutdown(socket.SHUT_WR)


def stream_settings(svc: Services) -> StreamSettings:
    return svc.extras.get("stream_settings") or StreamSettings()


def _prepare() -> None:
    """Key, scope, rate limit and parameters, all before the upgrade (so errors are HTTP)."""
    params = parse_params(StreamParams, request)
    g.stream_query = params.query()
    g.stream_params = params


@bp.before_request
def _check_request() -> None:
    require("stream")(_prepare)()


@bp.route("/stream", methods=["GET"], endpoint="stream_http")
def stream_without_upgrade() -> None:
    raise AnalyzerError(
        "/api/v1/ai_logs/stream is a WebSocket endpoint; the parameters are valid",
        code="UPGRADE_REQUIRED",
        status=426,
        suggestion="Connect with a WebSocket client (ws://host/api/v1/ai_logs/stream?...); "
        "use /api/v1/ai_logs/query for a one-off answer.",
        # no `Connection: Upgrade`: nothing is upgraded, and servers that see it hold the
        # connection open for a switch that never comes (keep-alive clients hang)
        headers={"Upgrade": "websocket"},
    )


stream_without_upgrade.required_scope = "stream"  # type: ignore[attr-defined]  # checked above


@sock.route("/stream", bp=bp, endpoint="stream")
def stream_logs(ws: Any) -> None:
    svc = services()
    params: StreamParams = g.stream_params
    query: Query = g.stream_query
    settings = stream_settings(svc)
    try:
        start_ns = params.start_ns(svc.source.now_ns())
        tail = open_tail(
            svc.source, query, tenant=g.tenant, start_ns=start_ns, limit=params.limit,
            poll_interval=settings.poll_interval,
        )
    except (AnalyzerError, ValueError) as exc:
        close_with_error(ws, exc if isinstance(exc, AnalyzerError) else InvalidParameter(str(exc)))
        return
    subscribed = {
        "source": tail.name,
        "following": tail.description,
        "filters": _filters(query),
        "start": format_timestamp(start_ns) if start_ns is not None else None,
        "limit": params.limit,
        "heartbeat_seconds": settings.heartbeat_seconds,
        "insight_window": settings.insight_window,
        "queue_size": settings.queue_size,
    }
    StreamSession(ws, tail, query, settings, subscribed=subscribed).run()


def _filters(query: Query) -> dict[str, Any]:
    shown = query.model_dump(mode="json", include=set(SHARED_FILTERS), exclude_none=True)
    if query.severity_threshold is not None:
        shown["severity_threshold"] = query.severity_threshold.label
    return {k: v for k, v in shown.items() if v not in ([], None)}


OPENAPI = [
    (
        "GET",
        "/api/v1/ai_logs/stream",
        StreamParams,
        "WebSocket (scope stream): live matching records as JSON messages of type subscribed, "
        "log, insight, heartbeat, dropped, notice and error; `start` replays history first.",
    ),
]


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
    sock.init_app(app)
