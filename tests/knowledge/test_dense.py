"""The FAISS index type follows the KB's size, and both types give the same per-entry scores on
clearly separated data (an approximate graph must still find each query's own entry)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.dense import FaissDense, entry_max, index_kind


def _data(n: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, np.arange(n, dtype=np.int64) // 2  # two texts per entry


def test_small_kbs_get_an_exact_index_large_ones_a_graph(tmp_path: Path) -> None:
    vectors, labels = _data(600)
    exact = FaissDense.build(vectors, labels, 300, exact_max=1000)
    graph = FaissDense.build(vectors, labels, 300, exact_max=500)
    assert (index_kind(exact.index), index_kind(graph.index)) == ("flat", "hnsw")
    graph.save(tmp_path / "g.faiss")
    loaded = FaissDense.load(tmp_path / "g.faiss", labels, 300)
    assert index_kind(loaded.index) == "hnsw"


def test_both_index_types_find_the_entry_of_each_query() -> None:
    vectors, labels = _data(600)
    queries = vectors[::7] + 0.05 * np.random.default_rng(1).normal(size=vectors[::7].shape).astype(
        np.float32
    )
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    reference = entry_max(queries @ vectors.T, labels, 300)
    for exact_max in (1000, 500):
        scores = FaissDense.build(vectors, labels, 300, exact_max=exact_max).entry_scores(queries)
        assert (scores.argmax(axis=1) == reference.argmax(axis=1)).all()
        assert np.allclose(scores.max(axis=1), reference.max(axis=1), atol=1e-5)
