"""Grafana Loki over its HTTP API, behind the `LogSource` seam.

Loki's answers shape this module (see tests/fixtures/loki/): results come grouped by label set,
not in time order, and capped per request, so log reads are merged, sorted and paged on the last
timestamp seen; errors are plain text, so their message is passed on verbatim; structured
metadata arrives beside each line only when asked for with the categorize-labels flag, and older
Lokis merge it into the stream labels instead, so both shapes are read.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as url_quote

import httpx
import yaml

from analyzer.analysis.evidence import EvidenceSample
from analyzer.analysis.plan import ReadPlan
from analyzer.analysis.profile import TimeCounts
from analyzer.errors import (
    AnalyzerError,
    BadQuery,
    InvalidParameter,
    QueryTimeout,
    RateLimited,
    SourceUnavailable,
)
from analyzer.infra import deadline
from analyzer.infra.breaker import CircuitBreaker
from analyzer.instrument.httpx_hooks import client_hooks
from analyzer.model import Query
from analyzer.model import now_ns as wall_clock_ns
from analyzer.sources import logql
from analyzer.sources.base import FetchResult, WindowRead, sort_records
from analyzer.sources.loki_answers import (
    LokiEntry,
    _add_stats,
    entries_to_records,
    streams_entries,
)
from analyzer.sources.loki_auth import LokiAuth
from analyzer.sources.loki_shapes import check_shape

API = "/loki/api/v1"
CATEGORIZE_LABELS = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
# Loki's tenant ids: letters, digits and !-_.*'() (a `|` joins tenants for multi-tenant reads)
_TENANT = re.compile(r"[A-Za-z0-9!._*'()|-]{1,150}")
_MESSAGE_LIMIT = 1000
# 400s about the window rather than the expression deserve a different hint
_WINDOW_HINTS = (
    ("time range exceeds the limit", "Narrow the time range; Loki refuses longer queries."),
    ("max entries limit", "Ask for fewer lines per request (Loki caps each request)."),
    ("end timestamp must not be before", "Give an end after the start."),
    ("could not parse 'start'", "Send start/end as RFC 3339 or epoch numbers."),
    ("could not parse 'end'", "Send start/end as RFC 3339 or epoch numbers."),
)
_RULER_LOCAL_STORE = "unsupported in rule local store"
SERVICE_LABEL_TTL = 600.0  # seconds a tenant's discovered service label is reused
SERVICE_LABEL_RETRY = 60.0  # seconds before asking again when /labels did not answer


@dataclass(slots=True)
class LogPage:
    """The merged, de-duplicated result of reading one LogQL query page by page."""

    entries: list[LokiEntry]
    truncated: bool
    malformed: int
    stats: dict[str, Any]


class LokiSource:
    """An httpx client for one Loki; one connection pool, shared by all tenants."""

    name = "loki"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        page_size: int = 5000,
        default_tenant: str = "fake",
        transport: httpx.BaseTransport | None = None,
        backoff: float = 0.25,
        max_entries: int = 50_000,
        selector: str = logql.ANY_SERVICE,
        max_query_bytes: int = 0,
        service_label: str | None = None,
        auth: LokiAuth | None = None,
        tls: ssl.SSLContext | None = None,
        breaker: CircuitBreaker | None = None,
        propagate_trace: bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.page_size = max(1, page_size)
        self.default_tenant = default_tenant
        self.backoff = backoff
        self.max_entries = max_entries
        self.selector = selector  # the streams a window read counts (e.g. `{env="prod"}`)
        self.max_query_bytes = max_query_bytes  # a window holding more is refused; 0: no limit
        self.forced_service_label = service_label
        # progress(done, total, label) of long reads: nanoseconds of the window covered
        self.progress: Callable[[int, int, str], None] | None = None
        self._service_labels: dict[str, tuple[float, str]] = {}
        self._service_labels_lock = threading.Lock()
        # a gateway's auth and TLS apply to every connection, the live tail's included
        self.auth_headers = auth.headers() if auth is not None else {}
        self.tls = tls
        self.breaker = breaker or CircuitBreaker("Loki")
        self._client = httpx.Client(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            headers={"User-Agent": "ai-logs-analyzer", **self.auth_headers},
            verify=tls if tls is not None else True,
            # the request's X-Correlation-ID goes on to Loki (TRACE_PROPAGATION_ENABLED)
            event_hooks=client_hooks() if propagate_trace else None,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LokiSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- transport ---------------------------------------------------------------------------

    def _tenant(self, tenant: str | None) -> str:
        value = tenant or self.default_tenant
        if not _TENANT.fullmatch(value):
            raise InvalidParameter(
                f"{value!r} is not a valid Loki tenant id",
                code="INVALID_TENANT",
                suggestion="Tenant ids use letters, digits and !-_.*'() (at most 150).",
            )
        return value

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        tenant: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        answer_as_is: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send with the tenant header; retry connect errors and 5xx with backoff, nothing else.

        Statuses in `answer_as_is` come back to the caller instead of being retried or mapped.
        Every attempt, and the waits between them, fit in the request's deadline
        (`infra.deadline`); the circuit breaker refuses at once while Loki is known to be down.
        """
        sent_headers = {"X-Scope-OrgID": self._tenant(tenant), **(headers or {})}
        self.breaker.before_call()
        attempt = 0
        while True:
            try:
                response = self._send(method, path, params, content, sent_headers)
            except _DeadlinePassed:
                self.breaker.release_probe()
                raise deadline.expired_error(f"reading {path} from Loki") from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt < self.retries and self._may_wait(attempt):
                    self._sleep(attempt)
                    attempt += 1
                    continue
                self.breaker.record_failure(f"cannot connect: {exc}")
                raise SourceUnavailable(
                    f"cannot reach Loki at {self.url} after {attempt + 1} attempts: {exc}"
                ) from exc
            except httpx.TimeoutException as exc:
                left = deadline.remaining()
                if left is not None and left < 0.1:  # the per-call timeout was the deadline's
                    self.breaker.release_probe()
                    raise deadline.expired_error(f"reading {path} from Loki") from None
                # A query that timed out would time out again: no retry
                self.breaker.record_failure(f"no answer within {self.timeout:g}s")
                raise QueryTimeout(
                    f"Loki did not answer {path} within {self.timeout:g}s",
                    suggestion="Narrow the time range or add service filters, then retry.",
                ) from exc
            except httpx.TransportError as exc:
                self.breaker.record_failure(f"connection failed: {exc}")
                raise SourceUnavailable(f"connection to Loki at {self.url} failed: {exc}") from exc
            status = response.status_code
            if status < 400 or status in answer_as_is:
                self.breaker.record_success()
                return response
            if status >= 500 and status != 504 and attempt < self.retries and self._may_wait(attempt):
                self._sleep(attempt)
                attempt += 1
                continue
            if status >= 500 and status != 504:
                self.breaker.record_failure(f"HTTP {status}")
            else:  # Loki is up: it judged the query (4xx) or ran out of its own time (504)
                self.breaker.record_success()
            raise self._error(response, path, attempts=attempt + 1)

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff * (2**attempt))

    def _error(self, response: httpx.Response, path: str, *, attempts: int) -> AnalyzerError:
        """Loki's plain-text answer as the error a caller can act on."""
        status = response.status_code
        text = response.text.strip()[:_MESSAGE_LIMIT]
        if status == 400:
            hint = next((h for needle, h in _WINDOW_HINTS if needle in text), None)
            return BadQuery(text or "Loki rejected the query", suggestion=hint)
        if status == 404:
            return SourceUnavailable(
                f"Loki answered 404 for {path}: the Loki URL or path looks wrong "
                f"(LOKI_URL is {self.url}; Loki said: {text or 'not found'})",
                code="LOKI_NOT_FOUND",
                status=502,
                suggestion="Set LOKI_URL to Loki's base URL (e.g. http://loki:3100), "
                "without /loki/api/v1, and check that this Loki version has the endpoint.",
            )
        if status == 429:
            return RateLimited(f"Loki is throttling this tenant: {text}", code="LOKI_RATE_LIMITED")
        if status == 504:
            return QueryTimeout(f"Loki timed out on {path}: {text}")
        if status >= 500:
            return SourceUnavailable(
                f"Loki answered {status} for {path} after {attempts} attempts: {text}"
            )
        return AnalyzerError(
            f"Loki refused {path} with {status}: {text}",
            code="LOKI_REJECTED",
            status=502,
            suggestion="Check the tenant (X-Scope-OrgID) and any auth proxy in front of Loki.",
        )

    def _may_wait(self, attempt: int) -> bool:
        """Whether the backoff before another attempt still leaves time for it."""
        left = deadline.remaining()
        return left is None or left > self.backoff * (2**attempt) + 0.05

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """One HTTP exchange, body read in full, cut at the deadline however slowly it trickles.

        httpx's timeouts are per read, so a server that sends a byte a second never trips them.
        With a deadline in force the exchange runs on a helper thread while this one waits for
        what is left of the deadline; when it runs out, the socket is shut so the helper ends
        too, and the caller gets QUERY_TIMEOUT on time.
        """
        left = deadline.remaining()
        if left is None:
            return self._exchange(method, path, params, content, headers, None)
        if left <= 0:
            raise _DeadlinePassed
        per_call = min(self.timeout, left)
        timeout = httpx.Timeout(per_call, connect=min(per_call, 5.0))
        cut = _Cutoff()
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()  # the correlation id travels with the call

        def run() -> None:
            try:
                outcome["response"] = context.run(
                    self._exchange, method, path, params, content, headers, timeout, cut
                )
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="loki-call", daemon=True)
        worker.start()
        worker.join(left)
        if worker.is_alive():
            cut.fire()
            raise _DeadlinePassed
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
        content: bytes | None,
        headers: Mapping[str, str],
        timeout: httpx.Timeout | None,
        cut: _Cutoff | None = None,
    ) -> httpx.Response:
        request = self._client.build_request(
            method,
            path,
            params=params,
            content=content,
            headers=headers,
            **({"timeout": timeout} if timeout is not None else {}),
        )
        if cut is not None:
            request.extensions["trace"] = cut.trace
        response = self._client.send(request, stream=True)
        try:
            if cut is not None:
                cut.watch(response.extensions.get("network_stream"))
            response.read()
        finally:
            response.close()
        return response

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        tenant: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET a Loki JSON endpoint; the `data` of a `{"status","data"}` envelope, else the body."""
        response = self.request("GET", path, params=params, tenant=tenant, headers=headers)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceUnavailable(
                f"Loki answered {path} with something that is not JSON: {response.text[:200]!r}",
                code="LOKI_BAD_RESPONSE",
                status=502,
            ) from exc
        if isinstance(body, dict) and "status" in body and ("data" in body or "error" in body):
            if body["status"] != "success":
                raise _status_error(body, path)
            check_shape(path, body.get("data"))
            return body.get("data")
        check_shape(path, body)
        return body

    # --- queries -----------------------------------------------------------------------------

    def query_range(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        *,
        limit: int | None = None,
        direction: str | None = None,
        step: str | int | None = None,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        """Raw `data` of /query_range (streams for log queries, matrix for metric queries)."""
        params: dict[str, str] = {"query": query, "start": str(start_ns), "end": str(end_ns)}
        if limit is not None:
            params["limit"] = str(limit)
        if direction is not None:
            params["direction"] = direction
        if step is not None:
            params["step"] = str(step)
        return self.get(f"{API}/query_range", params, tenant=tenant, headers=CATEGORIZE_LABELS)

    def query(
        self, query: str, time_ns: int | None = None, *, tenant: str | None = None
    ) -> dict[str, Any]:
        """Raw `data` of the instant /query (vector or scalar)."""
        params = {"query": query}
        if time_ns is not None:
            params["time"] = str(time_ns)
        return self.get(f"{API}/query", params, tenant=tenant, headers=CATEGORIZE_LABELS)

    def read_logs(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        *,
        limit: int,
        direction: str = "backward",
        tenant: str | None = None,
    ) -> LogPage:
        """Up to `limit` entries of a log query, paging past Loki's per-request cap.

        Each page asks for the entries after the last timestamp seen (inclusive, because several
        entries can share a nanosecond), so entries at the boundary come back and are dropped
        by key. One entry beyond `limit` is read so `truncated` is exact.
        """
        backward = direction == "backward"
        target = limit + 1
        entries: list[LokiEntry] = []
        seen: set[tuple[int, str, tuple[tuple[str, str], ...]]] = set()
        malformed = 0
        stats: dict[str, Any] = {"pages": 0}
        low, high = start_ns, end_ns
        boundary: int | None = None
        while low < high and len(entries) < target:
            repeats = 0 if boundary is None else sum(e.timestamp_ns == boundary for e in entries)
            ask = min(self.page_size, target - len(entries) + repeats)
            data = self.query_range(
                query, low, high, limit=ask, direction=direction, tenant=tenant
            )
            page, bad = streams_entries(data)
            malformed += bad
            _add_stats(stats, data)
            page.sort(key=lambda e: e.timestamp_ns, reverse=backward)
            fresh = [e for e in page if e.key not in seen]
            for entry in fresh:
                seen.add(entry.key)
            entries.extend(fresh)
            if len(page) < ask:
                break  # Loki had nothing more in [low, high)
            last = page[-1].timestamp_ns
            if self.progress is not None:
                covered = end_ns - last if backward else last - start_ns
                self.progress(covered, end_ns - start_ns, "reading Loki")
            if not fresh:
                # a full page of one nanosecond already seen: step past it
                if backward:
                    high = last
                else:
                    low = last + 1
                boundary = None
                continue
            boundary = last
            if backward:
                high = last + 1
            else:
                low = last
        entries.sort(key=lambda e: e.timestamp_ns, reverse=backward)
        return LogPage(entries[:limit], len(entries) > limit, malformed, stats)

    def fetch(
        self, query: Query, *, tenant: str | None = None, limit: int | None = None
    ) -> FetchResult:
        """Records for a Query, newest first when over the limit (recent lines matter most)."""
        window = query.window(now=self.now_ns())
        text = logql.log_query(query, service_label=self.service_label(tenant))
        wanted = min(limit or self.max_entries, self.max_entries)
        page = self.read_logs(
            text, window.start_ns, window.end_ns, limit=wanted, direction="backward", tenant=tenant
        )
        records, malformed = entries_to_records(page.entries)
        return FetchResult(
            records=sort_records(records),
            window=window,
            truncated=page.truncated,
            malformed_lines=page.malformed + malformed,
            queries=[text],
            stats=page.stats,
        )

    def read_window(self, query: Query, *, tenant: str | None = None) -> WindowRead:
        """The window's profile from metric queries and its evidence from narrow log reads
        (`loki_window`)."""
        from analyzer.sources.loki_window import LokiWindowReader

        plan = ReadPlan.for_query(query, query.window(now=self.now_ns()))
        return LokiWindowReader(self, plan, tenant=tenant, base_selector=self.selector).read()

    def count_series(self, query: Query, step_s: int, *, tenant: str | None = None) -> TimeCounts:
        """Lines per service and level at `step_s` over the query's window: one metric query."""
        from analyzer.sources.loki_window import LokiWindowReader

        plan = ReadPlan.for_query(query, query.window(now=self.now_ns()))
        reader = LokiWindowReader(self, plan, tenant=tenant, base_selector=self.selector)
        return reader.count_series(max(1, step_s))

    def sum_series(
        self, query: Query, field: str, by: str, step_s: int, *, tenant: str | None = None
    ) -> dict[tuple[str, str], dict[int, float]]:
        """Sums of a numeric field per (`by` value, model) at `step_s`: one metric query."""
        from analyzer.sources.loki_window import LokiWindowReader

        plan = ReadPlan.for_query(query, query.window(now=self.now_ns()))
        reader = LokiWindowReader(self, plan, tenant=tenant, base_selector=self.selector)
        return reader.sum_series(field, by, max(1, step_s))

    def read_around(
        self,
        plan: ReadPlan,
        anchors: list[tuple[int, int]],
        *,
        ids: dict[str, set[str]] | None = None,
        limit: int = 5000,
        tenant: str | None = None,
    ) -> EvidenceSample:
        from analyzer.sources.loki_window import LokiWindowReader

        reader = LokiWindowReader(self, plan, tenant=tenant, base_selector=self.selector)
        return reader.read_around(anchors, ids, limit)

    # --- metadata ----------------------------------------------------------------------------

    @staticmethod
    def _window_params(start_ns: int | None, end_ns: int | None) -> dict[str, str]:
        params = {}
        if start_ns is not None:
            params["start"] = str(start_ns)
        if end_ns is not None:
            params["end"] = str(end_ns)
        return params

    def labels(
        self, *, start_ns: int | None = None, end_ns: int | None = None, tenant: str | None = None
    ) -> list[str]:
        data = self.get(f"{API}/labels", self._window_params(start_ns, end_ns), tenant=tenant)
        return list(data or [])

    def label_values(
        self,
        label: str,
        *,
        tenant: str | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        query: str | None = None,
    ) -> list[str]:
        params = self._window_params(start_ns, end_ns)
        if query:
            params["query"] = query
        path = f"{API}/label/{logql.label_name(label)}/values"
        return list(self.get(path, params, tenant=tenant) or [])

    def services(self, *, tenant: str | None = None) -> list[str]:
        """Values of the tenant's service label, else Loki's derived `service_name`."""
        label = self.service_label(tenant)
        found = self.label_values(label, tenant=tenant)
        if found or label == "service_name" or self.forced_service_label:
            return found
        return self.label_values("service_name", tenant=tenant)

    def service_label(self, tenant: str | None = None) -> str:
        """The label naming services in this tenant, from its label names (cached per tenant).

        A configured label wins. Alloy/OTel stacks often push only `service_name`, which Loki 3
        also derives from `service`; a tenant with `service` keeps it (the shipped pipelines).
        """
        if self.forced_service_label:
            return logql.service_label_from((), self.forced_service_label)
        key = self._tenant(tenant)
        now = time.monotonic()
        with self._service_labels_lock:
            cached = self._service_labels.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        ttl = SERVICE_LABEL_TTL
        try:
            names = self.labels(tenant=key)
        except AnalyzerError as exc:
            if exc.code == SourceUnavailable.code:
                raise  # Loki is down: the query that needs the label fails the same way
            # a gateway that hides /labels, or a slow answer: the shipped pipelines' `service`,
            # asked again soon
            names, ttl = [], SERVICE_LABEL_RETRY
        label = logql.service_label_from(names)
        with self._service_labels_lock:
            self._service_labels[key] = (now + ttl, label)
        return label

    def series(
        self,
        match: str | Sequence[str],
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        tenant: str | None = None,
    ) -> list[dict[str, str]]:
        matches = [match] if isinstance(match, str) else list(match)
        params = [("match[]", m) for m in matches]
        params += list(self._window_params(start_ns, end_ns).items())
        return list(self.get(f"{API}/series", params, tenant=tenant) or [])

    def volume(
        self,
        query: str,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        target_labels: Sequence[str] = (),
        limit: int | None = None,
        step: str | int | None = None,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        """Bytes per label set (`index/volume`, a vector); with `step`, over time (a matrix)."""
        params: dict[str, str] = {"query": query, **self._window_params(start_ns, end_ns)}
        if target_labels:
            params["targetLabels"] = ",".join(logql.label_name(t) for t in target_labels)
        if limit is not None:
            params["limit"] = str(limit)
        path = f"{API}/index/volume"
        if step is not None:
            params["step"] = str(step)
            path = f"{API}/index/volume_range"
        return self.get(path, params, tenant=tenant)

    def index_stats(
        self,
        query: str,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        tenant: str | None = None,
    ) -> dict[str, int]:
        params = {"query": query, **self._window_params(start_ns, end_ns)}
        return self.get(f"{API}/index/stats", params, tenant=tenant)

    def patterns(
        self,
        query: str,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        step: str | int | None = None,
        tenant: str | None = None,
    ) -> list[dict[str, Any]]:
        """Loki's detected patterns: `[{"pattern", "samples": [(unix seconds, count), ...]}]`."""
        params = {"query": query, **self._window_params(start_ns, end_ns)}
        if step is not None:
            params["step"] = str(step)
        out = []
        for item in self.get(f"{API}/patterns", params, tenant=tenant) or []:
            samples = [(int(ts), int(count)) for ts, count in item.get("samples") or []]
            out.append({"pattern": str(item.get("pattern", "")), "samples": samples})
        return out

    def now_ns(self) -> int:
        return wall_clock_ns()

    def check(self) -> dict[str, Any]:
        """GET /ready once, without retries: readiness probes want the current answer.

        An open circuit makes the analyzer not ready whatever /ready says: queries fail fast.
        """
        circuit = self.breaker.to_dict()
        try:
            response = self._client.get(
                "/ready",
                headers={"X-Scope-OrgID": self.default_tenant},
                timeout=min(self.timeout, 5.0),
            )
        except httpx.HTTPError as exc:
            detail = f"cannot reach Loki at {self.url}: {exc}"
            return {"ok": False, "detail": detail, "circuit": circuit}
        detail = response.text.strip()[:200] or f"HTTP {response.status_code}"
        if circuit["state"] == "open":
            detail = f"circuit open after {circuit['last_error']}; retry in {circuit['retry_after']}s"
        ok = response.status_code == 200 and circuit["state"] != "open"
        return {"ok": ok, "detail": detail, "circuit": circuit}

    # --- ruler -------------------------------------------------------------------------------

    def list_rules(self, *, tenant: str | None = None) -> dict[str, Any]:
        """Rule groups by namespace, parsed from the ruler's YAML answer."""
        response = self.request("GET", f"{API}/rules", tenant=tenant, answer_as_is=frozenset({404}))
        if response.status_code == 404:
            if "no rule groups found" in response.text:
                return {}
            raise self._error(response, f"{API}/rules", attempts=1)
        try:
            data = yaml.safe_load(response.text)
        except yaml.YAMLError as exc:
            raise SourceUnavailable(
                f"Loki's ruler answered YAML that does not parse: {exc}",
                code="LOKI_BAD_RESPONSE",
                status=502,
            ) from exc
        return data if isinstance(data, dict) else {}

    def push_rule_group(
        self, namespace: str, yaml_text: str, *, tenant: str | None = None
    ) -> None:
        """POST a rule group; a ruler on local storage is read-only and says so with a 500."""
        tenant_id = self._tenant(tenant)
        path = f"{API}/rules/{url_quote(namespace, safe='')}"
        response = self.request(
            "POST",
            path,
            tenant=tenant_id,
            content=yaml_text.encode(),
            headers={"Content-Type": "application/yaml"},
            answer_as_is=frozenset({500}),
        )
        if response.status_code != 500:
            return
        text = response.text.strip()
        if _RULER_LOCAL_STORE in text:
            raise AnalyzerError(
                f"Loki's ruler uses local rule storage, which is read-only over the API "
                f"(Loki said: {text})",
                code="RULER_READ_ONLY",
                status=409,
                suggestion=f"Place the YAML in ruler_rules/{tenant_id}/ (Loki's rules "
                "directory); Loki loads it at its next poll.",
            )
        raise self._error(response, path, attempts=1)


class _DeadlinePassed(Exception):
    """The request's deadline ran out during a Loki call."""


class _Cutoff:
    """Shuts the socket of one exchange when the deadline passes, so a blocked read ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.fired = False

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        # httpcore's trace hook: the socket of a new connection as soon as it exists
        if event == "connection.connect_tcp.complete":
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._socket = sock
            fired = self.fired
        if fired:
            self._shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self._socket
        if sock is not None:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _status_error(body: Mapping[str, Any], path: str) -> AnalyzerError:
    """`{"status": "error"}` arrives with HTTP 200 from some proxies and older Lokis."""
    message = str(body.get("error") or body.get("message") or "no message")[:_MESSAGE_LIMIT]
    kind = str(body.get("errorType") or "")
    if kind in ("bad_data", "invalid_argument"):
        return BadQuery(message)
    if kind == "timeout":
        return QueryTimeout(f"Loki timed out on {path}: {message}")
    return SourceUnavailable(
        f"Loki answered {path} with status {body.get('status')!r}: {message}",
        code="LOKI_ERROR",
        status=502,
        suggestion="Loki reported an error inside a 200 answer; check Loki's log and retry.",
    )
