"""Unanswered questions grouped by meaning, so an editor resolves a pile of them in one step.

Greedy single pass over the open questions (oldest first): a question joins the first cluster
whose centroid is at least ``SIMILARITY`` cosine away in the multilingual USE space, otherwise
it starts a cluster. Exact duplicates (after normalisation) always share a cluster. A few
hundred open questions cluster in well under a second once the encoder is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.encoders import get_encoder
from knowledge.normalise import normalise
from knowledge.tables import UnansweredQuestion

SIMILARITY = 0.72
ENCODER = "use"
SAMPLES = 5
Encode = Callable[[list[str]], np.ndarray]


@dataclass
class Cluster:
    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    total: np.ndarray | None = None

    def centroid(self) -> np.ndarray:
        assert self.total is not None
        return self.total / max(float(np.linalg.norm(self.total)), 1e-12)

    def representative(self) -> str:
        """The most common wording, then the shortest."""
        counts: dict[str, int] = {}
        for text in self.texts:
            counts[text] = counts.get(text, 0) + 1
        return min(counts, key=lambda t: (-counts[t], len(t)))


def default_encode(texts: list[str]) -> np.ndarray:
    return get_encoder(ENCODER).encode(texts)


def cluster(
    questions: Sequence[UnansweredQuestion], encode: Encode = default_encode, similarity: float = SIMILARITY
) -> list[Cluster]:
    """Clusters, largest first (ties: the one with the oldest question first)."""
    rows = sorted(questions, key=lambda q: q.id)
    if not rows:
        return []
    norm = [normalise(q.text) or q.text for q in rows]
    vectors = encode(norm)
    clusters: list[Cluster] = []
    by_text: dict[str, Cluster] = {}
    for row, text, vector in zip(rows, norm, vectors, strict=True):
        target = by_text.get(text)
        if target is None and clusters:
            sims = np.array([float(c.centroid() @ vector) for c in clusters])
            best = int(np.argmax(sims))
            if sims[best] >= similarity:
                target = clusters[best]
        if target is None:
            target = Cluster()
            clusters.append(target)
        target.ids.append(row.id)
        target.texts.append(row.text)
        target.langs.append(row.lang)
        target.total = vector.copy() if target.total is None else target.total + vector
        by_text.setdefault(text, target)
    return sorted(clusters, key=lambda c: (-len(c.ids), c.ids[0]))


def samples(c: Cluster, n: int = SAMPLES) -> list[str]:
    return list(dict.fromkeys(c.texts))[:n]
