from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from actions.knowledge import KnowledgeUnavailable
from actions.live_knowledge import LazyLiveIndex


def test_nothing_published_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeUnavailable, match="cannot be searched"):
        LazyLiveIndex(tmp_path / "knowledge").search("怎么退货", "zh")


def test_pickles_before_and_after_first_use(tmp_path: Path) -> None:
    lazy = LazyLiveIndex(tmp_path)
    with pytest.raises(KnowledgeUnavailable):
        lazy.search("refund")  # creates the LiveIndex (with its thread locks)
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy._index is None
    with pytest.raises(KnowledgeUnavailable):
        copy.search("refund")
