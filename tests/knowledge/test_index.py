import json
from pathlib import Path

import pytest

from knowledge import index as index_module
from knowledge.index import KnowledgeIndex, build_index, load_index
from tests.knowledge.kb import ENTRIES, FAST


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    out = tmp_path_factory.mktemp("kb") / "v1"
    steps: list[tuple[str, int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "ENCODE_CHUNK", 7)  # several progress steps per encoding stage
        manifest = build_index(ENTRIES, out, FAST, progress=lambda *step: steps.append(step))
    assert manifest.entry_count == len(ENTRIES) and manifest.encoders == ("use",)
    assert "calibrate" in [stage for stage, _, _ in steps]
    texts = sum(len(e.texts()) for e in ENTRIES)
    encoding = [done for stage, done, total in steps if stage == "encode:use" and total == texts]
    assert encoding == [*range(7, texts, 7), texts]
    return load_index(out, FAST)


def test_artifact_is_self_contained(index: KnowledgeIndex, tmp_path: Path) -> None:
    body = json.loads((Path(index.directory) / "manifest.json").read_text(encoding="utf-8"))
    assert body["entry_count"] == len(ENTRIES) and 0 < body["threshold"] < 1
    assert (Path(index.directory) / "dense-0.faiss").is_file()


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("退款几天能到我账上", "refund-time"),
        ("發票怎麼開", "invoice"),
        ("密码忘记了咋办", "password"),
        ("I lost my debit card", "card-lost"),
        ("what does it cost to send money", "transfer-fee"),
    ],
)
def test_paraphrases_find_their_entry(index: KnowledgeIndex, question: str, key: str) -> None:
    result = index.search(question)
    assert result.candidates[0].key == key
    assert result.decision in ("answer", "clarify")
    assert 0.0 <= result.candidates[0].score <= 1.0


@pytest.mark.parametrize("question", ["今天天气怎么样", "who won the football match yesterday"])
def test_unrelated_questions_are_declined(index: KnowledgeIndex, question: str) -> None:
    assert index.search(question).decision == "decline"


def test_language_filter_keeps_to_that_language(index: KnowledgeIndex) -> None:
    result = index.search("refund", lang="zh", k=3)
    langs = {e.key: e.lang for e in ENTRIES}
    assert result.candidates and all(langs[c.key] == "zh" for c in result.candidates)


def test_empty_question_declines(index: KnowledgeIndex) -> None:
    assert index.search("？？ ").decision == "decline"


def test_search_many_matches_search(index: KnowledgeIndex) -> None:
    questions = ["怎么开发票", "", "new address please"]
    many = index.search_many(questions)
    assert [r.candidates[:1] for r in many] == [index.search(q).candidates[:1] for q in questions]
