"""Classifiers trained on the knowledge base itself: every entry's question and similar questions.

``TextClassifier``: character n-gram + word TF-IDF with a multinomial logistic regression.
``VectorClassifier``: logistic regression over the concatenated sentence vectors.
Both return (queries x entries) probabilities; entries without training texts get 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _fit_lr(x: sparse.spmatrix | np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression | None:
    if len(np.unique(labels)) < 2:
        return None
    model = LogisticRegression(C=c, max_iter=300, tol=1e-3)
    model.fit(x, labels)
    return model


def _expand(
    model: LogisticRegression | None, x: sparse.spmatrix | np.ndarray, n_entries: int, only: int | None
) -> np.ndarray:
    out = np.zeros((x.shape[0], n_entries), dtype=np.float32)
    if model is None:
        if only is not None:
            out[:, only] = 1.0
        return out
    out[:, model.classes_] = model.predict_proba(x)
    return out


@dataclass
class TextClassifier:
    chars: TfidfVectorizer
    words: TfidfVectorizer
    model: LogisticRegression | None
    only: int | None
    n_entries: int

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        tokens: Sequence[list[str]],
        labels: np.ndarray,
        n_entries: int,
        c: float = 20.0,
    ) -> TextClassifier:
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1)
        words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        x = sparse.hstack([chars.fit_transform(texts), words.fit_transform(tokens)]).tocsr()
        only = int(labels[0]) if len(labels) else None
        return cls(chars, words, _fit_lr(x, labels, c), only, n_entries)

    def proba(self, texts: Sequence[str], tokens: Sequence[list[str]]) -> np.ndarray:
        x = sparse.hstack([self.chars.transform(texts), self.words.transform(tokens)]).tocsr()
        return _expand(self.model, x, self.n_entries, self.only)


@dataclass
class VectorClassifier:
    model: LogisticRegression | None
    only: int | None
    n_entries: int

    @classmethod
    def fit(
        cls, vectors: np.ndarray, labels: np.ndarray, n_entries: int, c: float = 10.0
    ) -> VectorClassifier:
        only = int(labels[0]) if len(labels) else None
        return cls(_fit_lr(vectors, labels, c), only, n_entries)

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        return _expand(self.model, vectors, self.n_entries, self.only)
