"""The stored record of one alert analysis: what it holds from the moment the webhook accepts the
alert, and how two copies of it are reconciled.

Two copies exist when Redis went away mid-flight: the worker carried on in the local store while
the Redis copy stayed as it was. The copy further along wins (done or failed over running over
queued; the later write on a tie), keeping a resolution or an annotation that only the other copy
saw, so neither the alert's end nor its Grafana annotation is lost or made twice.

The annotation is tracked apart from the analysis: `status` of the analysis says whether the
answer was computed and stored; `annotation` says whether Grafana got its mark.
"""

from __future__ import annotations

import time
from typing import Any

from analyzer.alerting.notification import Alert
from analyzer.infra.jobs import Job
from analyzer.model import NS_PER_SECOND, format_timestamp

STATUS_RANK = {"queued": 0, "running": 1, "failed": 2, "done": 3}
# pending: not tried yet; retrying: failed and will be tried again; done; failed: given up;
# disabled: no Grafana configured.
ANNOTATION_STATES = ("pending", "retrying", "done", "failed", "disabled")


def annotation_state(
    status: str, *, attempts: int = 0, error: str | None = None, annotation_id: int | None = None
) -> dict[str, Any]:
    return {"status": status, "attempts": attempts, "error": error, "id": annotation_id}


def new_record(job: Job) -> dict[str, Any]:
    """What `GET /analyses/<id>` shows from the moment the webhook stored the job."""
    alert = Alert.from_dict(job.payload["alert"])
    now = time.time()
    return {
        "id": job.analysis_id,
        "status": "queued",
        "job_id": job.id,
        "tenant": job.payload.get("tenant"),
        "alert": {
            "name": alert.name,
            "status": alert.status,
            "labels": alert.labels,
            "annotations": {k: v for k, v in alert.annotations.items() if not k.startswith("__")},
            "starts_at": alert.starts_at,
            "fingerprint": alert.fingerprint,
            "generator_url": alert.generator_url,
            "dashboard_uid": alert.dashboard_uid,
            "panel_id": alert.panel_id,
            "values": alert.values,
        },
        "receiver": job.payload.get("receiver"),
        "resolved": False,
        "ends_at": None,
        "report_url": job.payload.get("report_url"),
        "grafana_url": job.payload.get("grafana_url") or None,
        "attempts": 0,
        "annotation": annotation_state("pending"),
        "annotation_id": None,
        "created_at": format_timestamp(int(now * NS_PER_SECOND)),
        "created_at_epoch": now,
        "updated_at_epoch": now,
    }


def annotation_of(record: dict[str, Any]) -> dict[str, Any]:
    """The annotation state, also for records stored before it was tracked apart."""
    found = record.get("annotation")
    if isinstance(found, dict):
        return found
    if record.get("annotation_id"):
        return annotation_state("done", attempts=1, annotation_id=record["annotation_id"])
    return annotation_state("pending")


def merge_records(
    first: dict[str, Any] | None, second: dict[str, Any] | None
) -> dict[str, Any] | None:
    if first is None or second is None:
        return first if second is None else second

    def progress(record: dict[str, Any]) -> tuple[int, float]:
        return STATUS_RANK.get(record.get("status", "queued"), 0), float(record.get("updated_at_epoch") or 0)

    base, other = (first, second) if progress(first) >= progress(second) else (second, first)
    merged = dict(base)
    if other.get("resolved") and not base.get("resolved"):
        merged["resolved"], merged["ends_at"] = True, other.get("ends_at")
    if annotation_of(other).get("id") and not annotation_of(base).get("id"):
        merged["annotation"] = annotation_of(other)
        merged["annotation_id"] = annotation_of(other)["id"]
    return merged


def report_link(record: dict[str, Any], public_url: str | None) -> str | None:
    """The report page on the public URL when one is set, else the address the alert was sent to
    (which, behind a proxy or in a container, a browser may not reach)."""
    if public_url:
        return f"{public_url.rstrip('/')}/reports/{record['id']}"
    return record.get("report_url")
