from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.fixed_replies import FIXED_REPLIES, ActionGreet
from actions.handoff import ActionHandoff
from actions.texts import TEXTS
from tests.actions.conftest import MakeTracker


@pytest.mark.parametrize(("text", "lang"), [("你好", "zh"), ("hello", "en")])
async def test_greet_answers_in_the_customers_language(
    text: str, lang: str, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionGreet().run(dispatcher, make_tracker(text), domain) == []
    assert [m["text"] for m in dispatcher.messages] == [TEXTS["greet"][lang]]  # type: ignore[index]


def test_fixed_reply_names_are_distinct() -> None:
    names = [cls().name() for cls in FIXED_REPLIES]
    assert len(set(names)) == len(names)


async def test_handoff_on_request(make_tracker: MakeTracker, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("转人工", slots={"order_no": "YQ20261101001", "order_attempts": 1.0})
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["text"] == TEXTS["handoff_customer_request"]["zh"]
    assert message["custom"] == {"kefu": {"handoff": {"reason": "customer_request", "candidates": []}}}
    assert {e["name"]: e["value"] for e in events} == {"order_no": None, "order_attempts": 0.0}
