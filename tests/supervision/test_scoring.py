"""The rubric's parts and their weighting, worked out by hand."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from supervision.scoring import (
    DEFAULT_WEIGHTS,
    accuracy_part,
    attitude_part,
    check_rubric,
    combine,
    process_part,
)


def test_process_is_full_within_the_target_and_falls_to_zero_at_four_times_it() -> None:
    assert process_part(30, 60, 0) == 100.0
    assert process_part(60, 60, 0) == 100.0
    assert process_part(150, 60, 0) == 50.0  # 90 s over, of 180 s from full to nothing
    assert process_part(240, 60, 0) == 0.0
    assert process_part(30, 60, 1) == 80.0  # a missing greeting or closing costs 20
    assert process_part(None, 60, 0) is None  # no signal at all


def test_attitude_counts_words_and_averages_with_csat() -> None:
    assert attitude_part(0, 0, None) == 100.0
    assert attitude_part(1, 1, None) == 30.0  # 100 - 50 - 20
    assert attitude_part(0, 0, 1) == 50.0  # (100 + 0) / 2
    assert attitude_part(3, 0, 5) == 50.0  # (0 + 100) / 2


def test_the_customers_mood_joins_the_attitude_when_they_wrote_to_the_agent() -> None:
    assert attitude_part(0, 0, None, (1, 4)) == 87.5  # (100 + 75) / 2
    assert attitude_part(0, 0, 5, (2, 2)) == pytest.approx(200 / 3)  # (100 + 100 + 0) / 3
    assert attitude_part(0, 0, None, (0, 0)) == 100.0  # wrote nothing to the agent: no signal
    assert attitude_part(1, 0, None, None) == 50.0


def test_accuracy_comes_from_the_suggestions_the_agent_sent() -> None:
    assert accuracy_part(0, 0) is None
    assert accuracy_part(1, 1) == 90.0


def test_parts_without_a_signal_are_left_out_of_the_weights() -> None:
    # attitude 40 %, accuracy 40 %, process 20 %; accuracy unknown -> (40*50 + 20*100) / 60
    assert combine({"attitude": 50.0, "accuracy": None, "process": 100.0}, DEFAULT_WEIGHTS) == 66.7
    assert combine({"attitude": 50.0, "accuracy": 100.0, "process": 0.0}, DEFAULT_WEIGHTS) == 60.0


@pytest.mark.parametrize(
    "body",
    [
        {"weights": {"speed": 10}},
        {"weights": {"attitude": -1}},
        {"weights": {"attitude": 0, "accuracy": 0, "process": 0}},
        {"targets": {"first_response_seconds": 0}},
        {"weights": {"attitude": True}},
    ],
)
def test_a_bad_rubric_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        check_rubric(body)
