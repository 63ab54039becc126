"""A stated confidence means what it says: answers at 0.9-1.0 name the real cause at least nine
times in ten (and likewise per band), over the generated windows of `bench/calibration.py`.
The bench prints the same table over more seeds."""

from __future__ import annotations

from typing import Any

import pytest

FLOORS = {"0.9-1.0": 0.9, "0.7-0.9": 0.7, "0.5-0.7": 0.5}


@pytest.fixture(scope="module")
def report(generated_windows) -> Any:
    import calibration

    report = calibration.Report()
    for window in generated_windows:
        report.outcomes.extend(calibration.score(window.case, window.analysis))
    return report


def test_each_confidence_band_is_right_at_least_as_often_as_it_claims(report) -> None:
    bands = {row["band"]: row for row in report.bands()}
    assert bands["0.9-1.0"]["answers"] >= 30
    for band, floor in FLOORS.items():
        row = bands[band]
        if row["answers"]:
            assert row["accuracy"] >= floor, row


def test_every_incident_with_a_cause_in_its_logs_gets_an_answer(report) -> None:
    for family in ("single", "multi", "window", "silent"):
        outcomes = [o for o in report.outcomes if o.family == family]
        assert outcomes and all(o.stated for o in outcomes), family


def test_a_wrong_answer_from_one_service_says_it_cannot_tell_with_a_low_confidence(report) -> None:
    wrong = [o for o in report.outcomes if o.family == "one-service" and o.stated and not o.right]
    assert wrong, "one caller's logs alone must sometimes point at itself"
    assert all(o.says_cannot_tell and o.confidence <= 0.25 for o in wrong)


def test_a_silent_cause_is_named_from_what_its_callers_say(report) -> None:
    silent = [o for o in report.outcomes if o.family == "silent"]
    assert len(silent) >= 4 and all(o.right and o.confidence >= 0.7 for o in silent)
