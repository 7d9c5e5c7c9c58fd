"""Classifiers trained on the knowledge base itself: every entry's question and similar questions.

``TextClassifier``: character n-gram + word TF-IDF with a multinomial logistic regression.
``VectorClassifier``: logistic regression over the concatenated sentence vectors.
Both return (queries x entries) probabilities; entries without training texts get 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
CJK_NGRAMS = (1, 2)  # measured on zh_shop val: 1-2 beat char_wb 1-4 (TF-IDF LR top-1 66 % vs 62 %)
LATIN_NGRAMS = (1, 4)
TOL = 1e-3  # the logistic regressions' stopping tolerance (L-BFGS: largest gradient entry)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def char_ngrams(text: str) -> list[str]:
    """Character n-grams per script: CJK runs give 1-2 grams, Latin words (space padded) 1-4 grams."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        for n in range(CJK_NGRAMS[0], CJK_NGRAMS[1] + 1):
            out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    for word in _LATIN_WORD.findall(text):
        padded = f" {word} "
        for n in range(LATIN_NGRAMS[0], LATIN_NGRAMS[1] + 1):
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


class UniformModel:
    """What the logistic regression predicts when L-BFGS stops at its first step (every weight
    still 0): the same probability for every class it saw. With many entries of few texts each
    (measured: about 300 entries and more) the first gradient of scikit-learn's averaged loss is
    already under ``TOL``, so the fit is skipped, costing texts x entries for nothing."""

    def __init__(self, classes: np.ndarray) -> None:
        self.classes_ = classes

    def predict_proba(self, x: sparse.spmatrix | np.ndarray) -> np.ndarray:
        return np.full((x.shape[0], len(self.classes_)), 1.0 / len(self.classes_))


Model: TypeAlias = LogisticRegression | UniformModel


def first_gradient(x: sparse.spmatrix | np.ndarray, labels: np.ndarray) -> float:
    """The largest entry of the gradient, at zero, of the averaged multinomial log loss that
    scikit-learn's L-BFGS minimises (the L2 term vanishes there): per feature and class,
    (column sum / classes - the class's sum) / texts; per intercept, 1 / classes - class share."""
    classes, rows = np.unique(labels, return_inverse=True)
    n, k = x.shape[0], len(classes)
    members = sparse.csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(k, n))
    per_class = members @ x
    per_class = per_class.toarray() if sparse.issparse(per_class) else np.asarray(per_class)
    columns = np.asarray(x.sum(axis=0)).ravel()
    weights = np.abs(columns[None, :] / k - per_class).max() / n
    intercepts = np.abs(1.0 / k - np.bincount(rows) / n).max()
    return float(max(weights, intercepts))


def _fit_lr(x: sparse.spmatrix | np.ndarray, labels: np.ndarray, c: float) -> Model | None:
    classes = np.unique(labels)
    if len(classes) < 2:
        return None
    if first_gradient(x, labels) <= TOL:
        return UniformModel(classes)
    model = LogisticRegression(C=c, max_iter=300, tol=TOL)
    model.fit(x, labels)
    return model


def _expand(
    model: Model | None, x: sparse.spmatrix | np.ndarray, n_entries: int, only: int | None
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
    model: Model | None
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
        chars = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=1)
        words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        x = sparse.hstack([chars.fit_transform(texts), words.fit_transform(tokens)]).tocsr()
        only = int(labels[0]) if len(labels) else None
        return cls(chars, words, _fit_lr(x, labels, c), only, n_entries)

    def proba(self, texts: Sequence[str], tokens: Sequence[list[str]]) -> np.ndarray:
        x = sparse.hstack([self.chars.transform(texts), self.words.transform(tokens)]).tocsr()
        return _expand(self.model, x, self.n_entries, self.only)


def _spread(block: np.ndarray, centre: np.ndarray) -> float:
    """Root mean squared distance of the vectors from their centre."""
    return max(float(np.sqrt(((block - centre) ** 2).sum(axis=1).mean())), 1e-6)


@dataclass
class VectorClassifier:
    """Each encoder's vectors are centred and scaled to unit mean norm before they are joined,
    so every encoder weighs the same (e5's scores sit in a narrow band; measured on zh_shop
    val: top-1 82.5 % against 79.6 % for the raw concatenation)."""

    model: Model | None
    only: int | None
    n_entries: int
    centres: list[np.ndarray]
    scales: list[float]

    @classmethod
    def fit(
        cls, blocks: Sequence[np.ndarray], labels: np.ndarray, n_entries: int, c: float = 10.0
    ) -> VectorClassifier:
        only = int(labels[0]) if len(labels) else None
        centres = [b.mean(axis=0) for b in blocks]
        scales = [_spread(b, m) for b, m in zip(blocks, centres, strict=True)]
        clf = cls(None, only, n_entries, centres, scales)
        clf.model = _fit_lr(clf._join(blocks), labels, c)
        return clf

    def _join(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        parts = [(b - m) / s for b, m, s in zip(blocks, self.centres, self.scales, strict=True)]
        return np.hstack(parts).astype(np.float32)

    def proba(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        return _expand(self.model, self._join(blocks), self.n_entries, self.only)
