"""Correlation on the demo generator's traced requests, whose hops, slow hop and failure are known."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.analysis.correlate import request_flow


def traced(demo: Any, *, failed: bool | None = None, slow: bool | None = None) -> list[dict]:
    out = []
    for request in demo.truth["requests"]:
        if failed is not None and bool(request["failed_hop"]) != failed:
            continue
        if slow is not None and bool(request["slow_hop"]) != slow:
            continue
        out.append(request)
    return out


def test_every_failed_traced_request_reports_its_known_failing_hop(demo: Any) -> None:
    requests = traced(demo, failed=True)
    assert len(requests) >= 7  # one per incident kind
    for request in requests:
        result = request_flow(
            demo.records, request["correlation_id"], known_services=demo.truth["services"]
        )
        failing = result.hops[result.failing_hop]
        # the failed hop, or a dependency behind it with no logs that only it names (its database)
        behind = failing.silent and failing.blamed_by == [request["failed_hop"]]
        assert result.failing_hop == request["failed_hop"] or behind, request


def test_the_known_slow_hop_is_on_the_critical_path_and_a_bottleneck(demo: Any) -> None:
    requests = traced(demo, slow=True)
    assert requests
    for request in requests:
        result = request_flow(
            demo.records, request["correlation_id"], known_services=demo.truth["services"]
        )
        assert request["slow_hop"] in result.critical_path
        assert result.bottlenecks()[0].service == request["slow_hop"]


@pytest.mark.parametrize("index", range(5))
def test_hops_match_the_generated_request(demo: Any, index: int) -> None:
    request = demo.truth["requests"][index]
    result = request_flow(
        demo.records, request["correlation_id"], known_services=demo.truth["services"]
    )
    assert set(result.hops) == set(request["hops"])
    assert result.root == request["hops"][0]
    assert round(result.total_duration_ns / 1_000_000) == request["total_duration_ms"]
