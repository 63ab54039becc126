"""Grafana's annotations HTTP API: mark an analysed alert on the dashboard it came from.

`POST /api/annotations` with `dashboardUID`/`panelId` when the alert names them (an organisation
annotation otherwise, shown by tag), `time`/`timeEnd` in epoch milliseconds; `PATCH
/api/annotations/:id` sets `timeEnd` once the alert resolves. Auth is a service-account token
(`annotations:write`); `GrafanaError.permanent` says when trying again cannot help (a refused
token, a dashboard that does not exist) and the caller should record the failure instead.
"""

from __future__ import annotations

from typing import Any

import httpx

from analyzer.instrument.httpx_hooks import client_hooks

# Answers worth another try: Grafana or a proxy in front of it busy, restarting or timing out.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class GrafanaError(RuntimeError):
    """Grafana refused or did not answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # None: no answer at all

    @property
    def permanent(self) -> bool:
        return self.status is not None and self.status not in TRANSIENT_STATUSES


class GrafanaClient:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, event_hooks=client_hooks()
        )

    def create_annotation(
        self,
        *,
        text: str,
        tags: list[str],
        time_ms: int,
        time_end_ms: int | None = None,
        dashboard_uid: str | None = None,
        panel_id: int | None = None,
    ) -> int | None:
        body: dict[str, Any] = {"time": time_ms, "tags": tags, "text": text}
        if time_end_ms is not None and time_end_ms > time_ms:
            body["timeEnd"] = time_end_ms
        if dashboard_uid:
            body["dashboardUID"] = dashboard_uid
            if panel_id is not None:
                body["panelId"] = panel_id
        answer = self._send("POST", "/api/annotations", body)
        found = answer.get("id") if isinstance(answer, dict) else None
        return int(found) if isinstance(found, int) else None

    def end_annotation(self, annotation_id: int, time_end_ms: int) -> None:
        self._send("PATCH", f"/api/annotations/{int(annotation_id)}", {"timeEnd": time_end_ms})

    def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise GrafanaError(f"Grafana did not answer {method} {path}: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            # Grafana's errors are {"message": ...}; never echo our own headers back
            raise GrafanaError(
                f"Grafana answered {response.status_code} to {method} {path}: {response.text[:300]}",
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            return None

    def close(self) -> None:
        self._http.close()
