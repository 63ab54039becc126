from __future__ import annotations

import pytest

from scoring import f1_grouping_accuracy, grouping_accuracy, normalise_template, parsing_accuracy


def test_grouping_accuracy_ignores_how_groups_are_named() -> None:
    assert grouping_accuracy(["a", "a", "b"], ["x", "x", "y"]) == 1.0


def test_splitting_a_true_group_makes_all_its_messages_wrong() -> None:
    assert grouping_accuracy(["a", "a", "a", "b"], ["x", "x", "z", "y"]) == pytest.approx(0.25)


def test_merging_two_true_groups_makes_all_their_messages_wrong() -> None:
    assert grouping_accuracy(["a", "a", "b", "c"], ["x", "x", "x", "y"]) == pytest.approx(0.25)


def test_f1_grouping_accuracy_counts_groups_not_messages() -> None:
    # predicted groups {0,1} right, {2}, {3} wrong; true groups {0,1}, {2,3}
    precision, recall = 1 / 3, 1 / 2
    expected = 2 * precision * recall / (precision + recall)
    assert f1_grouping_accuracy(["a", "a", "b", "b"], ["x", "x", "y", "z"]) == pytest.approx(expected)


def test_parsing_accuracy_folds_white_space_and_mask_names() -> None:
    assert normalise_template("Received  block <NUM> from <IP> ") == "Received block <*> from <*>"
    assert parsing_accuracy(["Received block <*>", "b <*>"], ["Received   block <NUM>", "c"]) == 0.5


def test_scores_refuse_label_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError):
        grouping_accuracy(["a"], ["x", "y"])
