"""TRACE_PROPAGATION_ENABLED=false: the request's X-Correlation-ID is not sent on to Loki."""

from __future__ import annotations

API = "/api/v1/ai_logs"


def test_trace_propagation_off_sends_no_correlation_id_to_loki(recorded_loki, tmp_path) -> None:
    from analyzer.app import create_app
    from analyzer.config import Settings
    from analyzer.services import build_services

    for propagate in (True, False):
        settings = Settings(loki_url=recorded_loki.url, data_dir=str(tmp_path),
                            trace_propagation=propagate)  # fmt: skip
        client = create_app(settings, services=build_services(settings)).test_client()
        recorded_loki.requests.clear()
        client.get(f"{API}/query?cache=false", headers={"X-Correlation-ID": "trace-me-123"})
        sent = {r.headers.get("x-correlation-id") for r in recorded_loki.requests}
        assert ("trace-me-123" in sent) is propagate
