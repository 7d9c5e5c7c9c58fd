"""Saved vectors: a publish encodes only the texts no earlier publish on this host encoded, and
builds the same index as a cold one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from knowledge.encoders import get_encoder
from knowledge.index import build_index, load_index
from knowledge.saved_vectors import SavedVectors
from tests.knowledge.kb import ENTRIES, FAST


class Counting:
    """An encoder double: a fixed vector per text, and the texts it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


def test_only_new_texts_are_encoded_and_only_used_ones_are_kept(tmp_path: Path) -> None:
    first, encoder = SavedVectors(tmp_path), Counting()
    cold = first.encode("m:1", ["a", "bb", "a"], encoder)
    assert encoder.asked == ["a", "bb"]
    first.save()

    second, encoder = SavedVectors(tmp_path), Counting()
    warm = second.encode("m:1", ["bb", "ccc", "a"], encoder)
    assert encoder.asked == ["ccc"]
    np.testing.assert_array_equal(warm, np.vstack([cold[1], Counting()(["ccc"]), cold[0]]))
    second.save()

    third, encoder = SavedVectors(tmp_path), Counting()
    third.encode("m:1", ["a", "bb", "ccc"], encoder)
    assert encoder.asked == []
    third.encode("m:2", ["a"], encoder)  # another model (or version): nothing reused
    assert encoder.asked == ["a"]


def test_a_damaged_file_is_ignored(tmp_path: Path) -> None:
    saved = SavedVectors(tmp_path)
    saved.encode("m", ["a"], Counting())
    saved.save()
    [path] = tmp_path.glob("*.npz")
    path.write_bytes(b"not numpy")
    encoder = Counting()
    SavedVectors(tmp_path).encode("m", ["a"], encoder)
    assert encoder.asked == ["a"]


def test_a_warm_build_encodes_only_the_edited_texts_and_answers_like_a_cold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors = tmp_path / "vectors"
    build_index(ENTRIES, tmp_path / "v1", FAST, saved=SavedVectors(vectors))
    edited = [
        dataclasses.replace(e, similar=(*e.similar, "退款究竟要几天")) if e.key == "refund-time" else e
        for e in ENTRIES
    ]

    use = get_encoder("use")
    asked: list[str] = []
    real = use.encode

    def counted(texts: list[str]) -> np.ndarray:
        asked.extend(texts)
        return real(texts)

    monkeypatch.setattr(use, "encode", counted)
    steps: list[tuple[str, int, int]] = []
    build_index(edited, tmp_path / "v2", FAST, lambda *s: steps.append(s), saved=SavedVectors(vectors))
    assert asked == ["退款究竟要几天"]
    assert ("encode:use", 1, 1) in steps
    monkeypatch.undo()

    cold = tmp_path / "cold"
    build_index(edited, cold, FAST)
    for question in ("退款究竟要几天", "發票怎麼開", "I lost my debit card"):
        warm_result, cold_result = (
            load_index(tmp_path / "v2", FAST).search(question),
            load_index(cold, FAST).search(question),
        )
        assert warm_result.decision == cold_result.decision
        assert [c.key for c in warm_result.candidates] == [c.key for c in cold_result.candidates]
