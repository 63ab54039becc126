"""Generated windows with known causes, analysed once for the narrative and confidence tests.

The windows are the calibration bench's (`bench/calibration.py`): every incident kind alone,
all kinds in one window, production-sized windows with outages, a silent dependency, one
service's logs alone and the first minutes of an incident.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

SEEDS = (7, 23)


@dataclass
class Window:
    case: Any  # calibration.Case
    analysis: Any  # pipeline.Analysis

    @property
    def name(self) -> str:
        return self.case.name


@pytest.fixture(scope="session")
def generated_windows(tmp_path_factory: pytest.TempPathFactory) -> list[Window]:
    import calibration

    work = tmp_path_factory.mktemp("windows")
    return [Window(case, calibration.analyse(case)) for case in calibration.cases(work, SEEDS)]
