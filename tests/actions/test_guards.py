"""Routing guards: the order gate and the guarded ticket lookup, with rasa_sdk's real tracker."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cues import asks_about_order, asks_about_ticket
from actions.guards import ActionOrderGate, GuardedAction
from actions.knowledge_answer import ActionKnowledgeAnswer
from actions.registry import build_executor
from actions.texts import TEXTS
from knowledge.types import Candidate, SearchResult
from tests.actions.conftest import FakeSearcher, MakeTracker

REFUND = Candidate("refund-time", "退款多久到账？", "退款 1-3 个工作日原路退回。", 0.8)


class Said(Action):  # type: ignore[misc]
    """An action that says its name, standing for the order form's or ticket lookup's reply."""

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=self._name)
        return []


async def run(
    action: Action, tracker: Tracker, domain: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return [m["text"] for m in dispatcher.messages], events


async def test_the_order_gate_lets_an_order_question_through_silently(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    searcher = FakeSearcher(SearchResult("answer", (REFUND,), 0.25))
    gate = ActionOrderGate(asks_about_order, ActionKnowledgeAnswer(searcher))
    said, events = await run(gate, make_tracker("我的快递到哪了", slots={"order_attempts": 1.0}), domain)
    assert said == []
    assert events == [
        {"event": "slot", "timestamp": None, "name": "order_cue", "value": True},
        {"event": "slot", "timestamp": None, "name": "order_attempts", "value": 0.0},  # a fresh form
    ]
    assert searcher.calls == []


async def test_the_order_gate_answers_from_the_knowledge_base_without_an_order_cue(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    searcher = FakeSearcher(SearchResult("answer", (REFUND,), 0.25))
    gate = ActionOrderGate(asks_about_order, ActionKnowledgeAnswer(searcher))
    said, events = await run(gate, make_tracker("我那笔钱到底哪天能回到卡里"), domain)
    assert said == [REFUND.answer]
    assert events == [{"event": "slot", "timestamp": None, "name": "order_cue", "value": False}]
    assert [c[0] for c in searcher.calls] == ["我那笔钱到底哪天能回到卡里"]


async def test_the_guarded_ticket_lookup_runs_only_for_ticket_questions(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    searcher = FakeSearcher(SearchResult("answer", (REFUND,), 0.25))
    guarded = GuardedAction(Said("action_ticket_status"), asks_about_ticket, ActionKnowledgeAnswer(searcher))
    assert guarded.name() == "action_ticket_status"
    assert (await run(guarded, make_tracker("我的工单处理到哪了"), domain))[0] == ["action_ticket_status"]
    assert searcher.calls == []
    assert (await run(guarded, make_tracker("东西没问题，就是不想要了，可以退吗"), domain))[0] == [
        REFUND.answer
    ]
    assert len(searcher.calls) == 1


async def test_the_registered_small_talk_and_ticket_actions_are_guarded(
    make_tracker: MakeTracker, domain: dict[str, Any], orders: Any
) -> None:
    searcher = FakeSearcher(SearchResult("answer", (REFUND,), 0.25))
    executor = build_executor(searcher, orders, tickets=None)  # type: ignore[arg-type]
    for name, message, expected in [
        ("action_greet", "你好", TEXTS["greet"]["zh"]),
        ("action_greet", "维修完资料还在吗", REFUND.answer),  # DIET: greet 0.99
        ("action_affirm", "耳机是原装的吗", REFUND.answer),  # DIET: affirm 0.87
        ("action_thanks", "好的，谢谢！", TEXTS["thanks"]["zh"]),
        ("action_ticket_status", "618降价了，之前买的能退差额吗", REFUND.answer),  # DIET: ticket_status 1.0
        ("action_handoff", "转人工", TEXTS["handoff_customer_request"]["zh"]),
        ("action_handoff", "要彻底删除账号和个人信息", REFUND.answer),  # DIET: request_human 0.92
    ]:
        dispatcher = CollectingDispatcher()
        await executor.actions[name](dispatcher, make_tracker(message), domain)
        assert [m["text"] for m in dispatcher.messages] == [expected], (name, message)
