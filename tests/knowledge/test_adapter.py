"""The linear adapter learns, from the KB's own groups, which directions separate entries."""

from __future__ import annotations

import numpy as np

from knowledge.adapter import LinearAdapter


def _clusters(rng: np.random.Generator, n_entries: int, per_entry: int) -> tuple[np.ndarray, np.ndarray]:
    """Entries differ in 4 weak dimensions; 28 loud dimensions are noise shared by nobody."""
    centres = rng.normal(size=(n_entries, 4))
    labels = np.repeat(np.arange(n_entries), per_entry)
    signal = centres[labels] + 0.15 * rng.normal(size=(len(labels), 4))
    noise = 0.6 * rng.normal(size=(len(labels), 28))
    x = np.hstack([signal, noise]).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def _nn_accuracy(kb: np.ndarray, kb_labels: np.ndarray, queries: np.ndarray, gold: np.ndarray) -> float:
    return float(np.mean(kb_labels[(queries @ kb.T).argmax(axis=1)] == gold))


def test_the_map_beats_raw_vectors_on_unseen_questions() -> None:
    rng = np.random.default_rng(3)
    vectors, labels = _clusters(rng, n_entries=40, per_entry=9)
    train = np.arange(len(labels)) % 9 < 6  # six texts per entry in the KB, three held out
    adapter = LinearAdapter.fit(vectors[train], labels[train])
    raw = _nn_accuracy(vectors[train], labels[train], vectors[~train], labels[~train])
    kb, queries = adapter.apply(vectors[train]), adapter.apply(vectors[~train])
    mapped = _nn_accuracy(kb, labels[train], queries, labels[~train])
    assert mapped > raw + 0.1, (raw, mapped)
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)


def test_too_few_entries_with_two_texts_keep_the_vectors_as_they_are() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    adapter = LinearAdapter.fit(vectors, np.array([0, 0, 1, 2, 3]))
    assert adapter.weight is None
    assert adapter.apply(vectors) is vectors
