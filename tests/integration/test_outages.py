"""Rasa or the action server down on the running system: the customer is told and reaches a
person (or a ticket when nobody works), ``/healthz`` answers 503 naming the part that is down,
the bot answers again once the part is back, and the customer's message is stored once.

Each test stops a part of the shared stack and starts it again in ``finally``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.test_web_flow import ask, reply_text
from tests.support import visitors
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

FAQ = "退款多久到账"
ANSWER_MARK = "工作日"  # in the refund-time answer of the demo FAQ


def health(stack: Stack) -> tuple[int, dict[str, str]]:
    resp = httpx.get(f"{stack.service_url}/healthz", timeout=10)
    return resp.status_code, resp.json()["components"]


def transcript(stack: Stack, visitor: str, conversation_id: str) -> list[dict[str, Any]]:
    resp = httpx.get(
        f"{stack.service_url}/api/web/conversations/{conversation_id}/messages",
        headers=visitors.headers(visitor),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    messages: list[dict[str, Any]] = resp.json()["messages"]
    return messages


def answered_by_the_bot_within(stack: Stack, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        result = ask(stack, FAQ, "zh")
        if ANSWER_MARK in reply_text(result) or time.monotonic() > deadline:
            return result
        time.sleep(2)


@pytest.mark.parametrize("part", ["rasa", "actions"])
def test_a_part_of_the_bot_down_hands_the_customer_on_and_the_bot_comes_back(stack: Stack, part: str) -> None:
    before = answered_by_the_bot_within(stack, 60)
    assert ANSWER_MARK in reply_text(before), before  # the question is one the bot answers
    visitor = uuid.uuid4().hex
    stack.stop_helper(part)
    try:
        status, components = health(stack)
        assert status == 503 and components[part] == "down", components
        result = ask(stack, FAQ, "zh", visitor=visitor)
        assert result["state"] in ("queued", "ticket"), result  # a person, or a ticket after hours
        assert reply_text(result), result  # the customer is told, never left with nothing
        assert ANSWER_MARK not in reply_text(result)
    finally:
        stack.start_helper(part)

    stored = transcript(stack, visitor, result["conversation_id"])
    assert [m["text"] for m in stored if m["sender"] == "customer"] == [FAQ]  # stored once
    assert health(stack)[0] == 200
    after = answered_by_the_bot_within(stack, 120)
    assert ANSWER_MARK in reply_text(after) and after["state"] == "bot", after
