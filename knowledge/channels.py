"""All retrieval channels fitted together on one set of KB texts, scored per entry.

The same code runs at build time (cross-validation folds, exact numpy dense search) and in a
loaded index (FAISS dense search), so the calibrator sees the features it will see in service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge.adapter import LinearAdapter
from knowledge.classifier import TextClassifier, VectorClassifier
from knowledge.dense import entry_max
from knowledge.lexical import Bm25


@dataclass(frozen=True)
class Texts:
    """Normalised texts with their tokens and one vector per encoder (row-aligned)."""

    texts: list[str]
    tokens: list[list[str]]
    vectors: Mapping[str, np.ndarray]

    def subset(self, rows: np.ndarray) -> Texts:
        return Texts(
            [self.texts[i] for i in rows],
            [self.tokens[i] for i in rows],
            {name: v[rows] for name, v in self.vectors.items()},
        )


class DenseScorer(Protocol):
    def entry_scores(self, queries: np.ndarray) -> np.ndarray: ...


class NumpyDense:
    def __init__(self, vectors: np.ndarray, labels: np.ndarray, n_entries: int) -> None:
        self.vectors = vectors
        self.labels = labels
        self.n_entries = n_entries

    def entry_scores(self, queries: np.ndarray) -> np.ndarray:
        return entry_max(queries @ self.vectors.T, self.labels, self.n_entries)


@dataclass
class Channels:
    n_entries: int
    doc_labels: np.ndarray
    bm25: Bm25
    text_clf: TextClassifier
    vector_clf: VectorClassifier | None
    dense: dict[str, DenseScorer]
    encoders: tuple[str, ...]
    answers: Texts | None = None  # one normalised answer per entry (row = entry id)
    answer_bm25: Bm25 | None = None
    # per encoder: a learned linear map and the KB vectors through it ("adapted:<encoder>")
    adapters: dict[str, LinearAdapter] | None = None
    adapted: dict[str, NumpyDense] | None = None

    @classmethod
    def fit(
        cls,
        docs: Texts,
        labels: np.ndarray,
        n_entries: int,
        encoders: Sequence[str],
        answers: Texts | None = None,
    ) -> Channels:
        vector_clf = None
        if encoders:
            vector_clf = VectorClassifier.fit([docs.vectors[name] for name in encoders], labels, n_entries)
        adapters = {name: LinearAdapter.fit(docs.vectors[name], labels) for name in encoders}
        return cls(
            n_entries=n_entries,
            doc_labels=labels,
            bm25=Bm25.fit(docs.tokens),
            text_clf=TextClassifier.fit(docs.texts, docs.tokens, labels, n_entries),
            vector_clf=vector_clf,
            dense={name: NumpyDense(docs.vectors[name], labels, n_entries) for name in encoders},
            encoders=tuple(encoders),
            answers=answers,
            answer_bm25=Bm25.fit(answers.tokens) if answers is not None else None,
            adapters=adapters,
            adapted={
                name: NumpyDense(adapters[name].apply(docs.vectors[name]), labels, n_entries)
                for name in encoders
            },
        )

    def scores(self, queries: Texts) -> dict[str, np.ndarray]:
        """Channel name -> (queries x entries) scores."""
        lexical = entry_max(self.bm25.scores(queries.tokens), self.doc_labels, self.n_entries, floor=0.0)
        out = {"lexical": lexical, "text_clf": self.text_clf.proba(queries.texts, queries.tokens)}
        if self.vector_clf is not None:
            out["vector_clf"] = self.vector_clf.proba([queries.vectors[name] for name in self.encoders])
        for name in self.encoders:
            out[f"dense:{name}"] = self.dense[name].entry_scores(queries.vectors[name])
        if self.adapters is not None and self.adapted is not None:
            for name in self.encoders:
                mapped = self.adapters[name].apply(queries.vectors[name])
                out[f"adapted:{name}"] = self.adapted[name].entry_scores(mapped)
        if self.answers is not None and self.answer_bm25 is not None:
            out["answer:lexical"] = self.answer_bm25.scores(queries.tokens)
            for name in self.encoders:
                out[f"answer:{name}"] = queries.vectors[name] @ self.answers.vectors[name].T
        return out


def without(scores: Mapping[str, np.ndarray], disabled: Sequence[str]) -> dict[str, np.ndarray]:
    """Drop the channels named in ``disabled`` ("dense" drops every dense:<encoder>)."""
    return {k: v for k, v in scores.items() if k.split(":")[0] not in disabled}
