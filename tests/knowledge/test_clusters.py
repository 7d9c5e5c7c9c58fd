"""Unanswered questions grouped by meaning: a fixed toy encoder makes the geometry explicit."""

from __future__ import annotations

import numpy as np

from knowledge.clusters import cluster, samples
from knowledge.tables import UnansweredQuestion

# two topics far apart; the second wording of each is close to the first
VECTORS = {
    "refund": [1.0, 0.0, 0.0],
    "money back": [0.95, 0.31, 0.0],
    "poem": [0.0, 0.0, 1.0],
    "write verse": [0.0, 0.3, 0.95],
}


def encode(texts: list[str]) -> np.ndarray:
    rows = np.array([VECTORS[t] for t in texts], dtype=np.float32)
    out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def q(i: int, text: str) -> UnansweredQuestion:
    return UnansweredQuestion(id=i, conversation_id=f"c{i}", text=text, lang="en", top_score=0.1)


def test_close_wordings_share_a_cluster_and_the_largest_comes_first() -> None:
    rows = [q(1, "poem"), q(2, "refund"), q(3, "money back"), q(4, "refund"), q(5, "write verse")]
    found = cluster(rows, encode, similarity=0.9)
    assert [c.ids for c in found] == [[2, 3, 4], [1, 5]]
    assert found[0].representative() == "refund"
    assert samples(found[0]) == ["refund", "money back"]


def test_a_strict_threshold_keeps_only_identical_wordings_together() -> None:
    rows = [q(1, "refund"), q(2, "money back"), q(3, "refund")]
    assert [c.ids for c in cluster(rows, encode, similarity=0.999)] == [[1, 3], [2]]
    assert cluster([], encode) == []
