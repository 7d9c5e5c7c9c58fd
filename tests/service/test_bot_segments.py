"""A long conversation moves to a new Rasa conversation every ``segment_turns`` turns, never
while a form is running (conversations/bot_segments.py)."""

from __future__ import annotations

from sanic_testing.testing import SanicASGITestClient

from service.deps import Deps
from tests.service.conftest import ScriptedBot
from tests.service.visitors import visitor_headers


async def say(client: SanicASGITestClient, text: str) -> str:
    headers = visitor_headers(client, "long")
    _, resp = await client.post(
        "/api/web/messages", json={"visitor_id": "long", "text": text}, headers=headers
    )
    assert resp.status == 200
    return str(resp.json["conversation_id"])


async def test_every_few_turns_the_bot_gets_a_new_sender(
    client: SanicASGITestClient, deps: Deps, bot: ScriptedBot
) -> None:
    deps.switchboard._segment_turns = 3
    conversation = ""
    for n in range(7):
        conversation = await say(client, f"q{n}")
    senders = [sender for sender, _, _ in bot.calls]
    assert senders == [conversation] * 3 + [f"{conversation}.1"] * 3 + [f"{conversation}.2"]
    assert all(metadata["lang"] for _, _, metadata in bot.calls)  # every turn carries its language


async def test_a_running_form_keeps_its_segment(
    client: SanicASGITestClient, deps: Deps, bot: ScriptedBot
) -> None:
    deps.switchboard._segment_turns = 2
    conversation = await say(client, "q0")
    await say(client, "q1")
    bot.forms.add(conversation)  # the order form asks for a number: the next answer belongs to it
    await say(client, "q2")
    await say(client, "q3")
    bot.forms.clear()
    await say(client, "q4")
    senders = [sender for sender, _, _ in bot.calls]
    assert senders == [conversation] * 4 + [f"{conversation}.1"]
