"""Dense channel: per-entry best cosine similarity, exact in numpy or through a FAISS flat index."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

MAX_NEIGHBOURS = 512


def entry_max(sims: np.ndarray, doc_labels: np.ndarray, n_entries: int, floor: float = -1.0) -> np.ndarray:
    """(queries x docs) similarities -> (queries x entries) best similarity of each entry's docs."""
    out = np.full((sims.shape[0], n_entries), floor, dtype=np.float32)
    for entry in np.unique(doc_labels):
        cols = doc_labels == entry
        out[:, entry] = sims[:, cols].max(axis=1)
    return out


class FaissDense:
    """A flat inner-product index over one encoder's vectors of every KB text."""

    def __init__(self, index: faiss.Index, doc_labels: np.ndarray, n_entries: int) -> None:
        self.index = index
        self.doc_labels = doc_labels
        self.n_entries = n_entries

    @classmethod
    def build(cls, vectors: np.ndarray, doc_labels: np.ndarray, n_entries: int) -> FaissDense:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, doc_labels, n_entries)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, doc_labels: np.ndarray, n_entries: int) -> FaissDense:
        return cls(faiss.read_index(str(path)), doc_labels, n_entries)

    def entry_scores(self, queries: np.ndarray) -> np.ndarray:
        k = min(self.index.ntotal, MAX_NEIGHBOURS)
        sims, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        out = np.empty((queries.shape[0], self.n_entries), dtype=np.float32)
        for q in range(queries.shape[0]):
            out[q] = sims[q, -1] if k else -1.0
            labels = self.doc_labels[ids[q]]
            # iterate from the worst to the best so the best similarity of each entry wins
            out[q, labels[::-1]] = sims[q, ::-1]
        return out
