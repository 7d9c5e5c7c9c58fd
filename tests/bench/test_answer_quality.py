"""The answer-quality bench's accounting: a clarify is correct only when it offers the right entry,
and every answered out-of-scope question is wrong."""

from __future__ import annotations

from bench.answer_quality import Ranked, figures, outcome
from knowledge.fusion import DecisionRule

RULE = DecisionRule(threshold=0.5, clarify_margin=0.15, clarify_floor=0.6)


def test_outcomes() -> None:
    assert outcome(Ranked("a", ("a", "b"), (0.9, 0.1)), RULE) == "correct"
    assert outcome(Ranked("a", ("b", "a"), (0.9, 0.1)), RULE) == "wrong"
    assert outcome(Ranked("a", ("b", "a"), (0.6, 0.55)), RULE) == "clarified"  # the customer picks a
    assert outcome(Ranked("a", ("b", "c"), (0.6, 0.55)), RULE) == "wrong"  # a is not offered
    assert outcome(Ranked("a", ("a", "b"), (0.2, 0.1)), RULE) == "declined"
    assert outcome(Ranked(None, ("a", "b"), (0.9, 0.1)), RULE) == "wrong"
    assert outcome(Ranked(None, ("a", "b"), (0.6, 0.55)), RULE) == "wrong"  # a clarify is no decline
    assert outcome(Ranked(None, ("a", "b"), (0.2, 0.1)), RULE) == "declined"


def test_figures_split_in_scope_and_out_of_scope() -> None:
    ranked = [
        Ranked("a", ("a", "b"), (0.9, 0.1)),  # correct
        Ranked("a", ("b", "a"), (0.6, 0.55)),  # clarified
        Ranked("b", ("a", "b"), (0.9, 0.1)),  # wrong, top-1 miss
        Ranked("b", ("b", "a"), (0.2, 0.1)),  # declined, top-1 hit
        Ranked(None, ("a", "b"), (0.2, 0.1)),  # declined
        Ranked(None, ("a", "b"), (0.9, 0.1)),  # answered: wrong
    ]
    f = figures(ranked, RULE)
    assert f["in_correct"] == 0.5 and f["in_clarified"] == 0.25
    assert f["in_wrong"] == 0.25 and f["in_declined"] == 0.25
    assert f["oos_declined"] == 0.5 and f["oos_wrong"] == 0.5
    assert f["all_wrong"] == 2 / 6
    assert f["top1"] == 0.5
