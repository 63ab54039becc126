"""The production-sized window's outages: apart from each other and inside the window, however
many are asked for, so each has one true root cause."""

from __future__ import annotations

import itertools
import random

import pytest

from analyzer.demo.window import QUIET_AFTER_S, _schedule

HOUR = 3600


@pytest.mark.parametrize(("hours", "count"), [(3, 1), (3, 3), (2, 3), (1, 2), (1, 4), (2, 6), (8, 12)])
def test_outages_never_overlap_and_leave_quiet_time_between(hours: int, count: int) -> None:
    schedule = _schedule(random.Random(0), hours * HOUR, count)
    assert len(schedule) == count
    for (start, length, _), (following, _, _) in itertools.pairwise(schedule):
        assert start + length + QUIET_AFTER_S <= following
    last_start, last_length, _ = schedule[-1]
    assert last_start + last_length <= hours * HOUR


def test_an_outage_keeps_its_own_length_when_its_slot_has_room() -> None:
    [(_, length, kind)] = _schedule(random.Random(0), 3 * HOUR, 1)
    assert length == kind.minutes * 60
