"""Bursts against a robust baseline, novel templates against a baseline, cascades in order."""

from __future__ import annotations

from analyzer.analysis.anomalies import novel_templates
from analyzer.analysis.cascades import detect_cascades
from analyzer.analysis.root_cause import accuse
from analyzer.analysis.temporal import detect_bursts
from analyzer.model import NS_PER_SECOND, LogRecord, Severity, TimeRange

T0 = 1_700_000_000 * NS_PER_SECOND
WINDOW = TimeRange(T0, T0 + 3600 * NS_PER_SECOND)


def _rec(second: float, service: str, message: str, level: Severity = Severity.ERROR) -> LogRecord:
    return LogRecord(timestamp_ns=T0 + int(second * NS_PER_SECOND), service=service, level=level, message=message)


def _steady(service: str, per_minute: int, minutes: range, message: str = "request failed with status 500") -> list[LogRecord]:
    return [_rec(m * 60 + k * (60 / per_minute), service, message) for m in minutes for k in range(per_minute)]


def test_rate_jump_is_a_burst_with_the_start_of_the_change() -> None:
    records = _steady("api", 2, range(0, 60)) + _steady("api", 30, range(40, 45))
    records.sort(key=lambda r: r.timestamp_ns)
    bursts = detect_bursts(records, WINDOW, lambda r: r.service, dimension="service")
    assert [b.key for b in bursts] == ["api"]
    assert abs(bursts[0].start_ns - (T0 + 40 * 60 * NS_PER_SECOND)) <= bursts[0].bucket_seconds * NS_PER_SECOND
    assert bursts[0].baseline <= 2


def test_a_steadily_loud_service_is_not_a_burst() -> None:
    records = _steady("api", 20, range(0, 60))
    assert detect_bursts(records, WINDOW, lambda r: r.service, dimension="service") == []


def test_a_single_earlier_spike_does_not_hide_the_later_change() -> None:
    records = _steady("api", 1, range(0, 60)) + _steady("api", 5, range(10, 11)) + _steady("api", 25, range(50, 52))
    records.sort(key=lambda r: r.timestamp_ns)
    burst = detect_bursts(records, WINDOW, lambda r: r.service, dimension="service")[0]
    assert burst.start_ns <= T0 + 11 * 60 * NS_PER_SECOND or burst.peak >= 20


def test_message_absent_from_the_baseline_half_is_novel_and_old_ones_are_not() -> None:
    old = [_rec(m * 60, "api", f"cache miss for key k{m}", Severity.WARN) for m in range(60)]
    new = [_rec(2400 + i, "worker", f"disk write failed on /data/part{i}: no space left on device") for i in range(5)]
    found = novel_templates(sorted(old + new, key=lambda r: r.timestamp_ns), WINDOW)
    assert [n.services for n in found] == [["worker"]]
    assert found[0].count == 5


def test_tfidf_method_also_finds_the_new_message() -> None:
    old = [_rec(m * 60, "api", f"cache miss for key k{m}", Severity.WARN) for m in range(60)]
    new = [_rec(2400 + i, "worker", f"disk write failed on /data/part{i}: no space left on device") for i in range(5)]
    found = novel_templates(sorted(old + new, key=lambda r: r.timestamp_ns), WINDOW, method="tfidf")
    assert [n.services for n in found] == [["worker"]]


def test_cascade_orders_services_by_first_failure_and_names_the_referenced_one() -> None:
    records = [
        _rec(10, "db", "could not extend file: No space left on device"),
        _rec(20, "api", "query failed: connection refused db:5432"),
        _rec(25, "api", "query failed: connection refused db:5432"),
        _rec(30, "web", "upstream api returned 502"),
        _rec(3000, "mailer", "smtp relay rejected message"),
    ]
    cascades = detect_cascades(accuse(records))
    assert len(cascades) == 1
    assert cascades[0].services == ["db", "api", "web"]
    assert cascades[0].earliest == "db"
    assert cascades[0].most_referenced == "db"
