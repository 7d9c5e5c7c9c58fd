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
    assert "_index" not in lazy.__getstate__()  # the loaded index never travels to a worker
    copy = pickle.loads(pickle.dumps(lazy))  # unpickling starts a background warm-up in the worker
    with pytest.raises(KnowledgeUnavailable):
        copy.search("refund")


def test_warm_up_loads_the_index_in_the_background(tmp_path: Path) -> None:
    lazy = LazyLiveIndex(tmp_path)
    lazy.warm_up().join(30)  # no published version: the warm-up logs and leaves the next search to retry
    assert lazy._index is not None  # the LiveIndex exists and will pick up a version once published
