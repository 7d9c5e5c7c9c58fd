import numpy as np

from knowledge.features import candidates, feature_names
from knowledge.fusion import Calibrator, DecisionRule

RULE = DecisionRule(threshold=0.5, clarify_margin=0.15, clarify_floor=0.6)


def test_confident_single_candidate_is_answered() -> None:
    assert RULE.decide(np.array([0.9, 0.1])) == "answer"


def test_low_scores_are_declined() -> None:
    assert RULE.decide(np.array([0.2, 0.1])) == "decline"
    assert RULE.decide(np.array([])) == "decline"


def test_two_close_plausible_candidates_ask_the_customer() -> None:
    assert RULE.decide(np.array([0.55, 0.5])) == "clarify"
    assert RULE.decide(np.array([0.4, 0.35])) == "clarify"  # split between two, each plausible


def test_close_but_implausible_second_does_not_clarify() -> None:
    assert RULE.decide(np.array([0.6, 0.2])) == "answer"
    assert RULE.decide(np.array([0.25, 0.2])) == "decline"


def test_calibrator_is_a_monotone_logistic_and_round_trips() -> None:
    cal = Calibrator(np.zeros(2), np.ones(2), np.array([2.0, 0.0]), 0.0)
    probs = cal.probability(np.array([[-1.0, 5.0], [0.0, 5.0], [1.0, 5.0]]))
    assert probs[0] < probs[1] < probs[2] and abs(probs[1] - 0.5) < 1e-6
    again = Calibrator.from_json(cal.to_json())
    assert np.allclose(again.probability(np.array([[1.0, 0.0]])), cal.probability(np.array([[1.0, 0.0]])))


def test_candidates_rank_by_the_summed_channels_and_respect_the_mask() -> None:
    scores = {"a": np.array([[0.1, 0.9, 0.5]]), "b": np.array([[0.2, 0.8, 0.7]])}
    ids, feats = candidates(scores, np.array([[False, False, False]]), k=3)
    assert ids[0].tolist() == [1, 2, 0]
    assert feats.shape == (1, 3, len(feature_names(["a", "b"])))
    margin_a = feats[0, 0, 1]  # channel a: best entry's lead over the runner-up
    assert np.isclose(margin_a, 0.4)
    ids, _ = candidates(scores, np.array([[False, True, False]]), k=3)
    assert ids[0, 0] == 2 and ids[0, 2] == -1
