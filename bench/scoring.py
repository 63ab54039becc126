"""Grouping accuracy (GA), its F1 form (FGA) and parsing accuracy (PA) of a template miner.

The definitions follow the Loghub benchmark (see the loghub2k dataset README): a message counts
for GA only when the miner's group and the true group are the very same set of messages, so one
split or merge costs every message of the groups involved.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

_MASK_TOKEN = re.compile(r"<[A-Za-z*][A-Za-z0-9_*]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Scores:
    ga: float
    fga: float
    pa: float


def _groups(labels: Sequence[Hashable]) -> dict[Hashable, frozenset[int]]:
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[label].append(index)
    return {label: frozenset(idx) for label, idx in members.items()}


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of messages whose predicted group equals their true group exactly."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must have one label per message")
    if not truth:
        return 1.0
    true_groups = set(_groups(truth).values())
    right = sum(len(g) for g in _groups(predicted).values() if g in true_groups)
    return right / len(truth)


def f1_grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Harmonic mean of group precision and recall, where a group is right if it is a true group."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must have one label per message")
    true_groups = set(_groups(truth).values())
    predicted_groups = list(_groups(predicted).values())
    if not true_groups or not predicted_groups:
        return 1.0 if not true_groups and not predicted_groups else 0.0
    right = sum(1 for g in predicted_groups if g in true_groups)
    precision = right / len(predicted_groups)
    recall = right / len(true_groups)
    return 0.0 if right == 0 else 2 * precision * recall / (precision + recall)


def normalise_template(template: str) -> str:
    """Fold white space and write every mask token (`<*>`, `<NUM>`, ...) as `<*>`."""
    return _SPACE.sub(" ", _MASK_TOKEN.sub("<*>", template)).strip()


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of messages whose template text equals the true template after normalising both."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must have one template per message")
    if not truth:
        return 1.0
    same = sum(
        1 for t, p in zip(truth, predicted, strict=True)
        if normalise_template(t) == normalise_template(p)
    )
    return same / len(truth)


def score(
    true_ids: Sequence[Hashable],
    true_templates: Sequence[str],
    predicted_ids: Sequence[Hashable],
    predicted_templates: Sequence[str],
) -> Scores:
    return Scores(
        ga=grouping_accuracy(true_ids, predicted_ids),
        fga=f1_grouping_accuracy(true_ids, predicted_ids),
        pa=parsing_accuracy(true_templates, predicted_templates),
    )
