"""Lexical channel: jieba words plus character n-grams, scored with BM25 (sparse, vectorised)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jieba
import numpy as np
from scipy import sparse

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z0-9]+")
_jieba_lock = threading.Lock()
K1 = 1.2
B = 0.75


@cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def tokens(text: str) -> list[str]:
    """Tokens of already-normalised text: words, CJK character bigrams, Latin character trigrams."""
    with _jieba_lock:
        words = [w for w in _tokenizer().lcut(text) if w.strip()]
    out = [f"w:{w}" for w in words]
    for run in _CJK_RUN.findall(text):
        out.extend(f"c:{run[i : i + 2]}" for i in range(len(run) - 1))
        if len(run) == 1:
            out.append(f"c:{run}")
    for word in _LATIN.findall(text):
        padded = f"<{word}>"
        out.extend(f"t:{padded[i : i + 3]}" for i in range(len(padded) - 2))
    return out


@dataclass(frozen=True)
class Bm25:
    vocab: dict[str, int]
    weights: sparse.csr_matrix  # docs x terms, BM25 term weights
    idf: np.ndarray

    @classmethod
    def fit(cls, docs: Sequence[Sequence[str]]) -> Bm25:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        for d, doc in enumerate(docs):
            counts: dict[int, int] = {}
            for tok in doc:
                t = vocab.setdefault(tok, len(vocab))
                counts[t] = counts.get(t, 0) + 1
            rows.extend([d] * len(counts))
            cols.extend(counts)
            vals.extend(counts.values())
        tf = sparse.csr_matrix(
            (np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(docs), len(vocab))
        )
        n_docs = max(len(docs), 1)
        df = np.bincount(tf.indices, minlength=len(vocab)).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if len(docs) else 1.0, 1e-6))
        tf = tf.tocoo()
        data = idf[tf.col] * tf.data * (K1 + 1) / (tf.data + norm[tf.row])
        weights = sparse.csr_matrix((data.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(vocab, weights, idf)

    def query_matrix(self, queries: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        for q, toks in enumerate(queries):
            ids = {self.vocab[t] for t in toks if t in self.vocab}
            rows.extend([q] * len(ids))
            cols.extend(ids)
        data = np.ones(len(rows), dtype=np.float32)
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(queries), len(self.vocab)))

    def scores(self, queries: Sequence[Sequence[str]]) -> np.ndarray:
        """BM25 of each query against each doc, divided by the query's best possible score
        (the sum of its known terms' idf * (k1 + 1)), so values sit roughly in 0..1."""
        q = self.query_matrix(queries)
        raw = np.asarray((q @ self.weights.T).todense(), dtype=np.float32)
        ceiling = np.asarray(q @ (self.idf * (K1 + 1)), dtype=np.float32).ravel()
        # queries made only of unknown tokens get zeros; count unknown tokens against coverage
        total = np.array([max(len(set(t)), 1) for t in queries], dtype=np.float32)
        known = np.asarray(q.sum(axis=1), dtype=np.float32).ravel()
        coverage = known / total
        return raw / np.maximum(ceiling, 1e-6)[:, None] * coverage[:, None]
