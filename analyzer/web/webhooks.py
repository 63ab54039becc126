"""`POST /webhooks/grafana`: Grafana alerting's webhook contact point.

Grafana does not retry a failed delivery at once: it sends the group again at the next group
interval (5 minutes by default). So every alert is stored durably (Redis stream or SQLite spool)
before the 202, and anything that keeps us from storing it is a 5xx, never a 2xx.

One job per alert, keyed by sha256(fingerprint, startsAt): a Grafana retry or a repeated
notification of the same firing answers 202 with the existing ids and `duplicate: true`. A
resolved alert closes its analysis (and, through a job, the end of its Grafana annotation).

Auth is the contact point's: with `webhook_auth` set ("Bearer <token>" or "user:password"), that
credential; otherwise an API key with the `webhook` scope (open mode: loopback only). With
`webhook_secret` set, the HMAC-SHA256 signature Grafana computes is checked as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, g, jsonify, request

from analyzer.alerting import Alert, PayloadError, parse_notification
from analyzer.errors import AnalyzerError, InvalidParameter, Unauthorized
from analyzer.infra import metrics
from analyzer.infra.jobs import Job, QueueUnavailable
from analyzer.model import format_timestamp, now_ns
from analyzer.services import Services
from analyzer.web.auth import apply_rate_limit, authenticate, resolve_tenant
from analyzer.web.context import services

bp = Blueprint("webhooks", __name__)

OPENAPI = [
    ("POST", "/webhooks/grafana", None, "Grafana alerting webhook: stores one analysis job per alert."),
]

MAX_BODY_BYTES = 2 * 1024 * 1024
SIGNATURE_MAX_AGE_SECONDS = 300  # timestamped signatures older than this are replays

F = TypeVar("F", bound=Callable[..., Any])


class StoreUnavailable(AnalyzerError):
    status = 503
    code = "QUEUE_UNAVAILABLE"
    suggestion = "Grafana re-sends at the next group interval; check Redis and the data directory."


def contact_point_auth(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = services().settings
        if settings.webhook_auth:
            check_credential(settings.webhook_auth, request.headers.get("Authorization", ""))
            g.principal = None
            apply_rate_limit(None, "webhook")
            g.tenant = request.headers.get("X-Scope-OrgID") or settings.default_tenant
        else:
            principal = authenticate("webhook")
            g.principal = principal
            apply_rate_limit(principal, "webhook")
            g.tenant = resolve_tenant(principal)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def check_credential(expected: str, presented: str) -> None:
    """`expected` is "Bearer <token>" (or any "<scheme> <credentials>") or "user:password"."""
    if " " in expected.strip():
        wanted = expected.strip()
    else:
        wanted = "Basic " + base64.b64encode(expected.encode()).decode()
    scheme_ok = presented[: wanted.index(" ")].lower() == wanted[: wanted.index(" ")].lower()
    value_ok = hmac.compare_digest(
        presented[wanted.index(" ") :].strip().encode(), wanted[wanted.index(" ") :].strip().encode()
    )
    if not (scheme_ok and value_ok):
        raise Unauthorized(
            "the webhook credential is missing or wrong",
            suggestion="Set the contact point's authorization (or basic auth) to the analyzer's "
            "AI_LOGS_WEBHOOK_AUTH.",
        )


def verify_signature(secret: str, body: bytes, headers: Any, *, signature_headers: tuple[str, ...],
                     timestamp_header: str | None, now: float | None = None) -> None:
    """Grafana's HMAC: hex SHA-256 of the body, or of "<unix seconds>:" + body when a
    timestamp header is configured (then a stale timestamp is refused as a replay)."""
    signature = next((headers.get(name) for name in signature_headers if headers.get(name)), None)
    if not signature:
        raise Unauthorized(
            f"no signature in {' or '.join(signature_headers)}",
            code="SIGNATURE_MISSING",
            suggestion="Configure the contact point's HMAC secret to match AI_LOGS_WEBHOOK_SECRET.",
        )
    message = body
    if timestamp_header:
        stamp = (headers.get(timestamp_header) or "").strip()
        if not stamp.isdigit():
            raise Unauthorized(
                f"no unix timestamp in {timestamp_header}",
                code="SIGNATURE_MISSING",
                suggestion="Set the contact point's HMAC timestamp header to the same name.",
            )
        if abs((now or time.time()) - int(stamp)) > SIGNATURE_MAX_AGE_SECONDS:
            raise Unauthorized(
                "the signature timestamp is too old or in the future",
                code="SIGNATURE_EXPIRED",
                suggestion="Check the clocks of Grafana and the analyzer.",
            )
        message = stamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    presented = signature.strip().lower().removeprefix("sha256=")
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise Unauthorized(
            "the webhook signature does not match the body",
            code="SIGNATURE_INVALID",
            suggestion="Use the same HMAC secret in Grafana's contact point and the analyzer.",
        )


@bp.post("/webhooks/grafana")
@contact_point_auth
def grafana_webhook() -> tuple[Response, int]:
    settings = services().settings
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise InvalidParameter("the notification is larger than 2 MiB", code="PAYLOAD_TOO_LARGE",
                               status=413, suggestion="Lower the contact point's max alerts.")
    body = request.get_data(cache=True)
    if settings.webhook_secret:
        verify_signature(
            settings.webhook_secret, body, request.headers,
            signature_headers=tuple(settings.webhook_signature_headers),
            timestamp_header=settings.webhook_timestamp_header,
        )
    try:
        notification = parse_notification(request.get_json(force=True, silent=True))
    except PayloadError as exc:
        metrics.WEBHOOKS.labels(status="invalid").inc()
        raise InvalidParameter(
            f"not a Grafana alerting notification: {exc}", code="INVALID_PAYLOAD",
            suggestion="Send Grafana's webhook JSON (receiver, status, alerts[] with labels, "
            "startsAt, fingerprint).",
        ) from None
    report_base = request.host_url.rstrip("/") + "/reports/"
    outcomes = []
    for alert in notification.alerts:
        common = {"tenant": g.tenant, "receiver": notification.receiver,
                  "report_url": report_base + alert.key}
        if alert.status == "firing":
            outcomes.append(accept_firing(alert, common))
        else:
            outcomes.append(accept_resolved(alert, common))
    for outcome in outcomes:
        metrics.WEBHOOKS.labels(status=outcome["outcome"]).inc()
    first = next((o for o in outcomes if o.get("job_id")), outcomes[0])
    return jsonify({
        "job_id": first.get("job_id"),
        "analysis_id": first["analysis_id"],
        "duplicate": all(o["duplicate"] for o in outcomes),
        "alerts": outcomes,
    }), 202


def accept_firing(alert: Alert, common: dict[str, Any]) -> dict[str, Any]:
    from analyzer.worker import alert_stores, new_record

    queue, results = alert_stores(services())
    job = Job(kind="analyze", analysis_id=alert.key, payload={"alert": alert.to_dict(), **common})
    try:
        created: bool | None = results.create(job.analysis_id, new_record(job))
    except Exception:  # store down: the spooled job creates the record later
        created = None
    if created is False:
        existing = results.get(job.analysis_id) or {}
        return _outcome(alert, existing.get("job_id"), "duplicate", duplicate=True)
    try:
        stored = queue.enqueue(job)
    except QueueUnavailable as exc:
        if created:
            results.delete(job.analysis_id)  # so that Grafana's re-send is not taken as a repeat
        raise StoreUnavailable(str(exc)) from None
    if stored.duplicate:
        return _outcome(alert, stored.job_id, "duplicate", duplicate=True, backend=stored.backend)
    return _outcome(alert, stored.job_id, "queued", backend=stored.backend)


def accept_resolved(alert: Alert, common: dict[str, Any]) -> dict[str, Any]:
    from analyzer.worker import alert_stores

    queue, results = alert_stores(services())
    ends_at = alert.ends_at or format_timestamp(now_ns())
    job = Job(kind="resolve", analysis_id=alert.key, payload={"ends_at": ends_at, **common})
    try:
        record = results.get(alert.key)
    except Exception:  # store down: let the worker close it once it is back
        record = {"status": "unknown"}
    if record is None:
        return _outcome(alert, None, "ignored")  # never seen firing: there is nothing to close
    if record.get("resolved"):
        return _outcome(alert, None, "duplicate", duplicate=True)
    if record["status"] != "unknown":
        results.update(alert.key, resolved=True, ends_at=ends_at)
        if not services().settings.grafana_url or record["status"] == "failed":
            return _outcome(alert, None, "resolved")
    try:
        stored = queue.enqueue(job)
    except QueueUnavailable as exc:
        raise StoreUnavailable(str(exc)) from None
    return _outcome(alert, stored.job_id, "resolved", duplicate=stored.duplicate, backend=stored.backend)


def _outcome(alert: Alert, job_id: str | None, outcome: str, *, duplicate: bool = False,
             backend: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "analysis_id": alert.key,
        "job_id": job_id,
        "alertname": alert.name,
        "status": alert.status,
        "outcome": outcome,
        "duplicate": duplicate,
    }
    if backend:
        out["queue"] = backend
    return out


def register(app: Flask, services: Services) -> None:
    from analyzer.worker import alert_stores

    alert_stores(services)
    app.register_blueprint(bp)
