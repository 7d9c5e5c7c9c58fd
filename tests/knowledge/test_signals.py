"""Character n-grams, per-entry caps in cross-validation, agreement features, the encoder memo."""

from collections.abc import Callable

import numpy as np

from knowledge.calibrate import _cap_per_entry
from knowledge.classifier import VectorClassifier, char_ngrams
from knowledge.encoders import LazyEncoder
from knowledge.features import candidates, feature_names


def test_char_ngrams_split_by_script() -> None:
    grams = char_ngrams("退款 ok")
    assert {"退", "款", "退款"} <= set(grams)
    assert "退款 " not in grams and " ok " in grams and " o" in grams


def test_cap_keeps_at_most_limit_rows_per_entry() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    kept = _cap_per_entry(np.arange(7), labels, 2, np.random.default_rng(0))
    assert np.bincount(labels[kept]).tolist() == [2, 2, 1]
    assert np.all(np.diff(kept) > 0)


def test_agreement_counts_channels_that_rank_the_entry_first() -> None:
    scores = {
        "a": np.array([[0.9, 0.1, 0.0]]),
        "b": np.array([[0.8, 0.3, 0.0]]),
        "c": np.array([[0.1, 0.5, 0.0]]),
    }
    ids, feats = candidates(scores, np.zeros((1, 3), dtype=bool), k=3)
    names = feature_names(sorted(scores))
    top1, lead = names.index("agree:top1"), names.index("agree:query")
    assert ids[0, 0] == 0 and feats[0, 0, top1] == 2 and feats[0, 1, top1] == 1
    assert feats[0, 0, lead] == feats[0, 2, lead] == 2


def test_vector_classifier_weighs_a_narrow_band_encoder_like_a_wide_one() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 10)
    wide = rng.normal(size=(40, 8))  # noise only
    signal = np.eye(4)[labels] + rng.normal(scale=0.1, size=(40, 4))
    narrow = 0.9 + 0.001 * signal  # all information inside a tiny band, like e5's scores
    clf = VectorClassifier.fit([wide, narrow], labels, 4, c=1.0)
    assert (clf.proba([wide, narrow]).argmax(axis=1) == labels).mean() > 0.9


def test_encoder_remembers_vectors_and_forgets_on_request() -> None:
    calls: list[list[str]] = []

    def load() -> Callable[[list[str]], np.ndarray]:
        def fn(texts: list[str]) -> np.ndarray:
            calls.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts])

        return fn

    encoder = LazyEncoder("fake", load, 2, "fake:1")
    first = encoder.encode(["ab", "c", "ab"])
    again = encoder.encode(["c", "ab"])
    assert calls == [["ab", "c"]] and np.allclose(first[[1, 0]], again)
    encoder.forget(["c"])
    encoder.encode(["c", "ab"])
    assert calls[-1] == ["c"]
