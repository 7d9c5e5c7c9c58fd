"""Dense channel: per-entry best cosine similarity, exact in numpy or through a FAISS index.

The FAISS index type follows the number of KB texts (``make_index``): an exact flat
inner-product index up to ``EXACT_MAX`` texts, an HNSW graph above it (bench/retrieval_scale.py
measures latency, memory and the recall HNSW keeps against exact search).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

MAX_NEIGHBOURS = 512
EXACT_MAX = 5_000  # exact search stays well inside the latency budget up to here (bench/retrieval_scale.py)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def make_index(vectors: np.ndarray, exact_max: int = EXACT_MAX) -> faiss.Index:
    """Exact flat inner product for up to ``exact_max`` vectors, else HNSW (inner product)."""
    dim = vectors.shape[1]
    index: faiss.Index
    if vectors.shape[0] <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        graph = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        index = graph
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def index_kind(index: faiss.Index) -> str:
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def entry_max(sims: np.ndarray, doc_labels: np.ndarray, n_entries: int, floor: float = -1.0) -> np.ndarray:
    """(queries x docs) similarities -> (queries x entries) best similarity of each entry's docs."""
    out = np.full((sims.shape[0], n_entries), floor, dtype=np.float32)
    for entry in np.unique(doc_labels):
        cols = doc_labels == entry
        out[:, entry] = sims[:, cols].max(axis=1)
    return out


class FaissDense:
    """A FAISS inner-product index (flat or HNSW: ``make_index``) over the vectors of every KB text."""

    def __init__(self, index: faiss.Index, doc_labels: np.ndarray, n_entries: int) -> None:
        self.index = index
        self.doc_labels = doc_labels
        self.n_entries = n_entries

    @classmethod
    def build(
        cls, vectors: np.ndarray, doc_labels: np.ndarray, n_entries: int, exact_max: int = EXACT_MAX
    ) -> FaissDense:
        return cls(make_index(vectors, exact_max), doc_labels, n_entries)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, doc_labels: np.ndarray, n_entries: int) -> FaissDense:
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, doc_labels, n_entries)

    def entry_scores(self, queries: np.ndarray) -> np.ndarray:
        k = min(self.index.ntotal, MAX_NEIGHBOURS)
        sims, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        out = np.empty((queries.shape[0], self.n_entries), dtype=np.float32)
        for q in range(queries.shape[0]):
            found = ids[q] >= 0  # an approximate index may return fewer than k neighbours
            row_ids, row_sims = ids[q][found], sims[q][found]
            out[q] = row_sims[-1] if len(row_sims) else -1.0
            labels = self.doc_labels[row_ids]
            # iterate from the worst to the best so the best similarity of each entry wins
            out[q, labels[::-1]] = row_sims[::-1]
        return out
