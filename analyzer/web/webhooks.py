"""`POST /webhooks/grafana`: Grafana alerting's webhook contact point.

Grafana does not retry a failed delivery at once: it sends the group again at the next group
interval (5 minutes by default). So every alert is stored durably (Redis stream or SQLite spool)
before the 202, and anything that keeps us from storing it is a 5xx, never a 2xx.

One job per alert, keyed by sha256(tenant, fingerprint, startsAt): a Grafana retry or a repeated
notification of the same firing answers 202 with the existing ids and `duplicate: true`. A
resolved alert closes its analysis (and, through a job, the end of its Grafana annotation).

Auth is the contact point's, and the credential decides the tenant, never the caller: the
`webhook_auth` credential ("Bearer <token>" or "user:password") writes to `default_tenant`; an API
key with the `webhook` scope writes to its one tenant (a key holding several is refused). An
`X-Scope-OrgID` naming another tenant is a 403. Open mode (no keys, loopback only) takes the
header or the default. With `webhook_secret` set, Grafana's HMAC-SHA256 signature is checked too.

Report links go on `public_url` when set (the address the request came to is a container's name
in a compose stack); the notification's `externalURL` is kept for Explore links.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, g, jsonify, request

from analyzer.alerting.notification import Alert, PayloadError, parse_notification
from analyzer.alerting.records import annotation_of, new_record
from analyzer.alerting.stores import alert_stores
from analyzer.errors import AnalyzerError, Forbidden, InvalidParameter, Unauthorized
from analyzer.infra import metrics
from analyzer.infra.jobs import Job, QueueUnavailable
from analyzer.infra.keys import Principal
from analyzer.infra.results import ResultsUnavailable
from analyzer.model import format_timestamp, now_ns
from analyzer.services import Services
from analyzer.web.auth import apply_rate_limit, authenticate
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
        svc = services()
        settings = svc.settings
        presented = request.headers.get("Authorization", "")
        if settings.webhook_auth and credential_matches(settings.webhook_auth, presented):
            g.principal = None
            apply_rate_limit(None, "webhook")
            g.tenant = _checked_tenant(settings.default_tenant, "the AI_LOGS_WEBHOOK_AUTH credential")
        elif settings.webhook_auth and svc.keys is None:
            raise Unauthorized(
                "the webhook credential is missing or wrong",
                suggestion="Set the contact point's authorization (or basic auth) to the analyzer's "
                "AI_LOGS_WEBHOOK_AUTH.",
            )
        else:
            principal = authenticate("webhook")
            g.principal = principal
            apply_rate_limit(principal, "webhook")
            g.tenant = webhook_tenant(principal)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def webhook_tenant(principal: Principal | None) -> str:
    """The tenant a webhook caller writes to: its key's only tenant. The caller does not choose
    (the worker reads Loki as this tenant), except in open mode, which is loopback only."""
    default = services().settings.default_tenant
    if principal is None:
        return request.headers.get("X-Scope-OrgID") or default
    tenant = principal.sole_tenant(default)
    if tenant is None:
        raise Forbidden(
            f"key '{principal.name}' holds several tenants; a webhook key must hold exactly one",
            code="WEBHOOK_TENANT_AMBIGUOUS",
            suggestion="Give the contact point a key of its own tenant: "
            "`ai-logs keys create NAME --tenant TENANT --scope webhook`.",
        )
    return _checked_tenant(tenant, f"key '{principal.name}'")


def _checked_tenant(tenant: str, holder: str) -> str:
    asked = request.headers.get("X-Scope-OrgID")
    if asked and asked != tenant:
        raise Forbidden(
            f"{holder} writes alerts to tenant '{tenant}', not '{asked}'",
            code="TENANT_MISMATCH",
            suggestion="Drop the X-Scope-OrgID header, or use the webhook key made for that tenant.",
        )
    return tenant


def credential_matches(expected: str, presented: str) -> bool:
    """`expected` is "Bearer <token>" (or any "<scheme> <credentials>") or "user:password"."""
    if " " in expected.strip():
        wanted = expected.strip()
    else:
        wanted = "Basic " + base64.b64encode(expected.encode()).decode()
    cut = wanted.index(" ")
    scheme_ok = presented[:cut].lower() == wanted[:cut].lower()
    value_ok = hmac.compare_digest(presented[cut:].strip().encode(), wanted[cut:].strip().encode())
    return scheme_ok and value_ok


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
    report_base = (settings.public_url or request.host_url).rstrip("/") + "/reports/"
    outcomes = []
    for alert in notification.alerts:
        analysis_id = alert.analysis_id(g.tenant)
        common = {"tenant": g.tenant, "receiver": notification.receiver,
                  "report_url": report_base + analysis_id, "grafana_url": notification.external_url}
        if alert.status == "firing":
            outcomes.append(accept_firing(alert, analysis_id, common))
        else:
            outcomes.append(accept_resolved(alert, analysis_id, common))
    for outcome in outcomes:
        metrics.WEBHOOKS.labels(status=outcome["outcome"]).inc()
    first = next((o for o in outcomes if o.get("job_id")), outcomes[0])
    return jsonify({
        "job_id": first.get("job_id"),
        "analysis_id": first["analysis_id"],
        "duplicate": all(o["duplicate"] for o in outcomes),
        "alerts": outcomes,
    }), 202


def accept_firing(alert: Alert, analysis_id: str, common: dict[str, Any]) -> dict[str, Any]:
    queue, results = alert_stores(services())
    job = Job(kind="analyze", analysis_id=analysis_id, payload={"alert": alert.to_dict(), **common})
    try:
        created: bool | None = results.create(analysis_id, new_record(job))
    except ResultsUnavailable:  # no store took the record: the job, once stored, carries it
        created = None
    if created is False:
        try:
            existing = results.get(analysis_id) or {}
        except ResultsUnavailable:
            existing = {}
        return _outcome(alert, analysis_id, existing.get("job_id"), "duplicate", duplicate=True)
    try:
        stored = queue.enqueue(job)
    except QueueUnavailable as exc:
        if created:
            with contextlib.suppress(ResultsUnavailable):
                results.delete(analysis_id)  # so that Grafana's re-send is not taken as a repeat
        raise StoreUnavailable(str(exc)) from None
    if stored.duplicate:
        return _outcome(alert, analysis_id, stored.job_id, "duplicate", duplicate=True, backend=stored.backend)
    return _outcome(alert, analysis_id, stored.job_id, "queued", backend=stored.backend)


def accept_resolved(alert: Alert, analysis_id: str, common: dict[str, Any]) -> dict[str, Any]:
    """Close the analysis at once when its record can be read; a job ends the Grafana annotation
    when one was posted (one still to come is posted with its end), or closes the analysis later
    when the store is out of reach now."""
    queue, results = alert_stores(services())
    ends_at = alert.ends_at or format_timestamp(now_ns())
    job = Job(kind="resolve", analysis_id=analysis_id, payload={"ends_at": ends_at, **common})
    try:
        record = results.get(analysis_id)
    except ResultsUnavailable:
        record = {"status": "unknown"}
    if record is None:
        return _outcome(alert, analysis_id, None, "ignored")  # never seen firing: nothing to close
    if record.get("resolved"):
        return _outcome(alert, analysis_id, None, "duplicate", duplicate=True)
    if record["status"] != "unknown":
        try:
            results.update(analysis_id, resolved=True, ends_at=ends_at)
        except ResultsUnavailable:
            pass  # the job below closes it
        else:
            if not (services().settings.grafana_url and annotation_of(record).get("id")):
                return _outcome(alert, analysis_id, None, "resolved")
    try:
        stored = queue.enqueue(job)
    except QueueUnavailable as exc:
        raise StoreUnavailable(str(exc)) from None
    return _outcome(alert, analysis_id, stored.job_id, "resolved", duplicate=stored.duplicate,
                    backend=stored.backend)


def _outcome(alert: Alert, analysis_id: str, job_id: str | None, outcome: str, *,
             duplicate: bool = False, backend: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "analysis_id": analysis_id,
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
    alert_stores(services)
    app.register_blueprint(bp)
