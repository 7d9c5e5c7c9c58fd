import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.index import build_index
from knowledge.live import LiveIndex, NoKnowledgeVersion, next_version_dir, read_current, write_current
from tests.knowledge.kb import ENTRIES, FAST


def test_next_version_dir_counts_up_and_current_is_replaced(tmp_path: Path) -> None:
    assert next_version_dir(tmp_path) == (1, tmp_path / "versions" / "1")
    assert next_version_dir(tmp_path)[0] == 2
    assert read_current(tmp_path) is None
    write_current(tmp_path, 2)
    write_current(tmp_path, 1)
    assert read_current(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_search_before_any_publish_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(NoKnowledgeVersion):
        LiveIndex(tmp_path, FAST).search("hello")


def test_hot_swap_while_searching(tmp_path: Path) -> None:
    version, out = next_version_dir(tmp_path)
    build_index(ENTRIES, out, FAST)
    write_current(tmp_path, version)
    live = LiveIndex(tmp_path, FAST, check_every=0.05)
    assert not live.ready
    assert live.search("怎么开发票").candidates[0].answer == ENTRIES[1].answer
    assert live.ready and live.version == 1

    new_answer = "新版本：在订单页申请发票。"
    v2_entries = [replace(e, answer=new_answer) if e.key == "invoice" else e for e in ENTRIES]
    failures: list[BaseException] = []
    answers: list[str] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                answers.append(live.search("发票怎么开").candidates[0].answer)
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    version2, out2 = next_version_dir(tmp_path)
    build_index(v2_entries, out2, FAST)
    write_current(tmp_path, version2)
    deadline = time.monotonic() + 60
    while live.version != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert live.version == 2
    assert ENTRIES[1].answer in answers and new_answer in answers
    assert live.search("发票怎么开").candidates[0].answer == new_answer
