"""A service filter that names no service is a mistake to report, not an empty answer.

`--services nosuch` used to read nothing and answer "nothing stands out"; `api,nosuch` quietly
read only api. Before reading, the names asked for are compared with the services the source
knows (over Loki: those with lines in the query's window); any unknown name is a 404 (like an id that
does not exist) that lists the known ones. When the source knows no service at all (nothing logged yet, or the
label call failed) nothing is checked: the answer then says there were no lines.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from analyzer.errors import NotFound
from analyzer.model import TimeRange
from analyzer.sources.base import LogSource

SHOWN = 30  # known services listed in the error, at most


def known_services(source: LogSource, tenant: str | None, window: TimeRange | None) -> list[str]:
    """The services the source has lines for (in `window` when it can tell); [] if unknown."""
    try:
        takes_window = "start_ns" in inspect.signature(source.label_values).parameters
        if window is not None and takes_window:
            bounds = {"start_ns": window.start_ns, "end_ns": window.end_ns}
            return list(
                source.label_values("service", tenant=tenant, **bounds)  # type: ignore[call-arg]
                or source.label_values("service_name", tenant=tenant, **bounds)  # type: ignore[call-arg]
            )
        return list(source.services(tenant=tenant))
    except Exception:  # the check only helps; an unreadable list never fails the query
        return []


def require_known_services(
    source: LogSource,
    services: Sequence[str],
    *,
    tenant: str | None,
    window: TimeRange | None = None,
) -> None:
    """Raise 404 UNKNOWN_SERVICE when any asked-for service is not one the source knows."""
    if not services:
        return
    known = known_services(source, tenant, window)
    if not known:
        return
    unknown = [name for name in services if name not in known]
    if not unknown:
        return
    where = "with lines in this window" if window is not None and source.name == "loki" else ""
    listed = ", ".join(sorted(known)[:SHOWN]) + (", ..." if len(known) > SHOWN else "")
    names = ", ".join(repr(name) for name in unknown)
    raise NotFound(
        f"unknown service{'s' if len(unknown) > 1 else ''} {names}; known services"
        f"{' ' + where if where else ''}: {listed}",
        code="UNKNOWN_SERVICE",
        suggestion="Pick names from the known services (GET /grafana/variable lists them), "
        "or widen the time range.",
        details={"unknown": unknown, "known": sorted(known)[:SHOWN]},
    )
