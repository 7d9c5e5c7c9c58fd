from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeUnavailable
from actions.knowledge_answer import ActionKnowledgeAnswer
from knowledge.types import Candidate as Hit
from knowledge.types import Decision, SearchResult
from tests.actions.conftest import FakeSearcher, MakeTracker

HITS = (
    Hit("returns", "怎么退货？", "收到商品 7 天内可在订单页申请退货。", 0.91),
    Hit("refund-time", "退款多久到账？", "退款 1-3 个工作日原路退回。", 0.62),
    Hit("exchange", "怎么换货？", "在订单页申请换货。", 0.40),
    Hit("invoice", "怎么开发票？", "在订单页申请电子发票。", 0.21),
)


def result(decision: Decision, hits: tuple[Hit, ...]) -> SearchResult:
    return SearchResult(decision, hits, threshold=0.5)


async def run(searcher: FakeSearcher, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionKnowledgeAnswer(searcher).run(dispatcher, tracker, domain)
    assert events == []
    messages: list[dict[str, Any]] = dispatcher.messages
    return messages


async def test_answer_says_the_best_answer_and_names_its_entry(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    searcher = FakeSearcher(result("answer", HITS[:2]))
    [message] = await run(searcher, make_tracker("我想退货怎么办"), domain)
    assert searcher.calls == [("我想退货怎么办", "zh", 5)]
    assert message["text"] == HITS[0].answer
    assert message["custom"] == {"kefu": {"answer": {"key": "returns", "score": 0.91, "margin": 0.29}}}


async def test_clarify_offers_the_two_best_questions_as_buttons(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    [message] = await run(FakeSearcher(result("clarify", HITS[:3])), make_tracker("退款", lang="zh"), domain)
    assert message["text"] == "您是想问：怎么退货 还是 退款多久到账？"
    assert message["buttons"] == [
        {"title": "怎么退货？", "payload": "怎么退货？"},
        {"title": "退款多久到账？", "payload": "退款多久到账？"},
    ]
    assert message["custom"] == {}


async def test_clarify_in_english(make_tracker: MakeTracker, domain: dict[str, Any]) -> None:
    hits = (
        Hit("a", "How do I return an item?", "...", 0.6),
        Hit("b", "When is my refund paid?", "...", 0.58),
    )
    [message] = await run(FakeSearcher(result("clarify", hits)), make_tracker("refund"), domain)
    assert message["text"] == "Did you mean: How do I return an item or When is my refund paid?"


async def test_decline_hands_off_with_the_top_three_candidates(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    [message] = await run(FakeSearcher(result("decline", HITS)), make_tracker("帮我写一首诗"), domain)
    assert "人工" in message["text"]
    handoff = message["custom"]["kefu"]["handoff"]
    assert handoff["reason"] == "low_confidence"
    assert [c["key"] for c in handoff["candidates"]] == ["returns", "refund-time", "exchange"]
    assert handoff["candidates"][0] == {
        "key": "returns",
        "question": "怎么退货？",
        "answer": "收到商品 7 天内可在订单页申请退货。",
        "score": 0.91,
    }


async def test_metadata_language_wins_over_the_text(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    searcher = FakeSearcher(result("decline", ()))
    [message] = await run(searcher, make_tracker("帮我写一首诗", lang="en"), domain)
    assert searcher.calls[0][1] == "en"
    assert message["text"].startswith("I can't answer that")
    assert message["custom"]["kefu"]["handoff"] == {"reason": "low_confidence", "candidates": []}


@pytest.mark.parametrize("error", [KnowledgeUnavailable("no index published"), RuntimeError("index broken")])
async def test_an_unusable_index_hands_off_instead_of_failing(
    error: Exception, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    [message] = await run(FakeSearcher(error=error), make_tracker("how do I return an item"), domain)
    assert message["text"].startswith("Sorry, our answers are unavailable")
    assert message["custom"] == {"kefu": {"handoff": {"reason": "knowledge_unavailable", "candidates": []}}}
