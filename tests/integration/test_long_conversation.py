"""A long web conversation moves to a new Rasa conversation every 20 turns (the service's
default ``KEFU_BOT_SEGMENT_TURNS``), never in the middle of the order form, and keeps answering
in the customer's language across the boundary (conversations/bot_segments.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from actions.texts import TEXTS
from tests.integration.test_web_flow import ask, reply_text
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

SEGMENT_TURNS = 5  # KEFU_BOT_SEGMENT_TURNS of the shared stack (tests/integration/conftest.py)


def user_texts(stack: Stack, sender: str) -> list[str]:
    """What the customer said to one Rasa conversation, from Rasa's own tracker."""
    resp = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.env["KEFU_RASA_TOKEN"], "include_events": "ALL"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    events: list[dict[str, Any]] = resp.json()["events"]
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


def test_a_long_conversation_moves_on_between_forms_and_keeps_its_language(stack: Stack) -> None:
    visitor = uuid.uuid4().hex
    for _ in range(SEGMENT_TURNS):
        answer = ask(stack, "hello there", "en", visitor)
        assert reply_text(answer) == TEXTS["greet"]["en"]
    conversation = answer["conversation_id"]
    assert user_texts(stack, conversation) == ["hello there"] * SEGMENT_TURNS
    # The next turn goes to a new Rasa conversation, and the bot still answers in English.
    later = ask(stack, "hello there", None, visitor)  # no language given: read from the words
    assert (later["state"], reply_text(later)) == ("bot", TEXTS["greet"]["en"])
    assert user_texts(stack, f"{conversation}.1") == ["hello there"]
    for _ in range(SEGMENT_TURNS - 2):
        ask(stack, "hello there", "en", visitor)
    # The segment's last turn starts the order form: the segment is full, but the form keeps it.
    assert reply_text(ask(stack, "where is my order", "en", visitor)) == TEXTS["ask_order_no"]["en"]
    answer = ask(stack, "YQ20269999999", "en", visitor)
    assert reply_text(answer) == "\n".join(
        [TEXTS["order_not_found"]["en"].format(order_no="YQ20269999999"), TEXTS["ask_order_no"]["en"]]
    )
    assert user_texts(stack, f"{conversation}.1")[-2:] == ["where is my order", "YQ20269999999"]
