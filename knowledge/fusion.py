"""One calibrated score per candidate, and the answer / clarify / decline rule.

The calibrator is a logistic regression over the candidate features, trained at build time on
held-out KB questions (positives for their own entry) and on questions the KB cannot answer.
Its output estimates the chance that the candidate answers the query, so one threshold means
the same thing in every knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.types import Decision


@dataclass(frozen=True)
class Calibrator:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, feats: np.ndarray) -> np.ndarray:
        z = ((feats - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))), dtype=np.float32)

    def to_json(self) -> dict[str, object]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Calibrator:
        def arr(key: str) -> np.ndarray:
            return np.asarray(data[key], dtype=np.float64)

        return cls(arr("mean"), arr("scale"), arr("coef"), float(data["intercept"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class DecisionRule:
    threshold: float
    clarify_margin: float
    clarify_floor: float  # the second candidate must reach threshold * clarify_floor

    def decide(self, scores: np.ndarray) -> Decision:
        """``scores`` are calibrated candidate scores, best first."""
        if len(scores) == 0 or scores[0] < self.threshold * (self.clarify_floor if len(scores) > 1 else 1.0):
            return "decline"
        close = len(scores) > 1 and scores[0] - scores[1] < self.clarify_margin
        if close and scores[1] >= self.threshold * self.clarify_floor:
            return "clarify"
        return "answer" if scores[0] >= self.threshold else "decline"
