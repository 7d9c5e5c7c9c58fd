"""Handoff through the agent API, in process: real Redis engine, real SQLite, scripted bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import select

from conversations import outbox
from conversations.tables import ChannelIdentity, CsatRating, Customer, Message
from core.types import Channel
from handoff.auth import Staff
from handoff.overflow import OverflowRule
from handoff.routing import Rule
from handoff.staff import add_user
from handoff.tables import User
from service.deps import Deps
from tests.service.conftest import ScriptedBot
from tests.service.staff_app import RecordingSender
from tests.service.visitors import visitor_headers
from tickets.group_hours import AfterHoursMode, save_group_hours
from tickets.hours import Schedule, TimeRange

Headers = dict[str, str]


async def staff_member(
    client: SanicASGITestClient, deps: Deps, name: str, role: str = "agent", **kw: Any
) -> Headers:
    async with deps.sessions.begin() as session:
        await add_user(session, name, "long-enough-pw", role, **kw)
    _, resp = await client.post("/api/auth/login", json={"username": name, "password": "long-enough-pw"})
    assert resp.status == 200, resp.text
    return {"Authorization": f"Bearer {resp.json['token']}"}


async def say(client: SanicASGITestClient, visitor: str, text: str) -> dict[str, Any]:
    _, resp = await client.post(
        "/api/web/messages",
        json={"visitor_id": visitor, "text": text, "lang": "zh"},
        headers=visitor_headers(client, visitor),
    )
    assert resp.status == 200, resp.text
    body: dict[str, Any] = resp.json
    return body


async def customer_view(client: SanicASGITestClient, conv: str, visitor: str) -> dict[str, Any]:
    _, resp = await client.get(
        f"/api/web/conversations/{conv}/messages", headers=visitor_headers(client, visitor)
    )
    body: dict[str, Any] = resp.json
    return body


async def test_full_handoff_cycle(client: SanicASGITestClient, deps: Deps, bot: ScriptedBot) -> None:
    alice = await staff_member(client, deps, "alice", skills=["general"], max_concurrent=2)
    first = await say(client, "cust1", "帮我写一首诗")
    conv = first["conversation_id"]
    assert first["state"] == "queued"
    assert any("第 1 位" in r["text"] for r in first["replies"])  # told the queue position

    _, resp = await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    assert resp.status == 200
    _, resp = await client.get("/api/agent/conversations", headers=alice)
    assert [c["id"] for c in resp.json["conversations"]] == [conv]
    _, resp = await client.get(f"/api/agent/conversations/{conv}", headers=alice)
    assert resp.json["handoff_reason"] == "low_confidence"
    assert [m["sender"] for m in resp.json["messages"]][:2] == ["customer", "bot"]  # the bot part too

    _, resp = await client.post(
        f"/api/agent/conversations/{conv}/messages", json={"text": "您好，我来帮您"}, headers=alice
    )
    assert resp.status == 200
    _, resp = await client.post(
        f"/api/agent/conversations/{conv}/notes", json={"text": "internal only"}, headers=alice
    )
    view = await customer_view(client, conv, "cust1")
    assert view["state"] == "agent"
    assert "您好，我来帮您" in [m["text"] for m in view["messages"] if m["sender"] == "agent"]
    assert "internal only" not in [m["text"] for m in view["messages"]]  # notes never reach customers

    calls = len(bot.calls)
    during = await say(client, "cust1", "谢谢，还有一个问题")
    assert during["state"] == "agent" and len(bot.calls) == calls  # nothing goes to the bot now

    _, resp = await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)
    assert resp.status == 200
    view = await customer_view(client, conv, "cust1")
    assert view["state"] == "closed"
    assert view["messages"][-1]["buttons"][0]["payload"] == "/csat 5"

    rated = await say(client, "cust1", "/csat 5")
    assert rated["state"] == "closed" and "感谢" in rated["replies"][0]["text"]
    async with deps.sessions() as session:
        ratings = (await session.scalars(select(CsatRating))).all()
    assert [(r.conversation_id, r.rating) for r in ratings] == [(conv, 5)]

    again = await say(client, "cust1", "hello")
    assert again["state"] == "bot" and again["replies"][0]["text"] == "echo:hello"


async def test_vip_waits_less_and_backlog_drains_on_login(client: SanicASGITestClient, deps: Deps) -> None:
    deps.desk.routing.rules = (Rule(group="general"),)  # one queue, so only the tier orders it
    await say(client, "vip1", "hello")
    async with deps.sessions.begin() as session:
        customer = await session.scalar(
            select(Customer)
            .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(ChannelIdentity.channel_user_id == "vip1")
        )
        assert customer is not None
        customer.tier = "S"
    normal = await say(client, "normal1", "帮我写一首诗")
    vip = await say(client, "vip1", "帮我写一首诗")
    assert normal["state"] == vip["state"] == "queued"
    assert any("第 1 位" in r["text"] for r in vip["replies"])  # the VIP went ahead of the normal customer
    assert (await customer_view(client, normal["conversation_id"], "normal1"))["queue_position"] == 2
    bob = await staff_member(client, deps, "bob", skills=["general"], max_concurrent=1)
    await client.put("/api/agent/status", json={"status": "online"}, headers=bob)  # backlog drained now
    _, resp = await client.get("/api/agent/conversations", headers=bob)
    assert [c["id"] for c in resp.json["conversations"]] == [vip["conversation_id"]]
    waiting = await customer_view(client, normal["conversation_id"], "normal1")
    assert waiting["state"] == "queued" and waiting["queue_position"] == 1  # moved up as the queue moved
    await client.post(f"/api/agent/conversations/{vip['conversation_id']}/close", headers=bob)
    _, resp = await client.get("/api/agent/conversations", headers=bob)  # freed capacity drains the queue
    assert [c["id"] for c in resp.json["conversations"]] == [normal["conversation_id"]]


@pytest.mark.parametrize("mode", ["ticket", "queue"])
async def test_a_group_that_never_opens_takes_messages_as_tickets(
    client: SanicASGITestClient, deps: Deps, mode: AfterHoursMode
) -> None:
    deps.desk.routing.rules = (Rule(group="letters"),)
    async with deps.sessions.begin() as session:  # leave-a-message only: no opening hours at all
        await save_group_hours(session, "letters", Schedule(weekly={}), mode, "", datetime.now(UTC))
    handed = await say(client, "writer", "帮我写一首诗")
    assert handed["state"] == "ticket"
    assert not any("第 1 位" in r["text"] for r in handed["replies"])  # no queue position promised
    assert await deps.desk.queue.length("letters") == 0


@pytest.mark.parametrize(
    ("mode", "state", "queued"), [("ticket", "ticket", 0), ("bot_only", "bot", 0), ("queue", "queued", 1)]
)
async def test_an_overflowing_open_group_follows_its_mode_without_calling_itself_closed(
    client: SanicASGITestClient, deps: Deps, mode: AfterHoursMode, state: str, queued: int
) -> None:
    deps.desk.routing.rules = (Rule(group="busy"),)
    deps.desk.routing.overflow_rule = OverflowRule(max_length=0)  # always overflowing
    async with deps.sessions.begin() as session:  # open all week, every hour
        always = Schedule(weekly={d: (TimeRange.parse("00:00-24:00"),) for d in range(7)})
        await save_group_hours(session, "busy", always, mode, "", datetime.now(UTC))
    handed = await say(client, f"crowd-{mode}", "帮我写一首诗")
    assert handed["state"] == state
    texts = "".join(r["text"] for r in handed["replies"])
    assert "较多" in texts and "非工作时间" not in texts
    assert ("工单" in texts) == (mode == "ticket")
    assert await deps.desk.queue.length("busy") == queued


async def test_sticky_agent_only_when_online(client: SanicASGITestClient, deps: Deps) -> None:
    alice = await staff_member(client, deps, "alice2", skills=["general"])
    carl = await staff_member(client, deps, "carl", skills=["general"])
    first = await say(client, "returning", "帮我写一首诗")
    conv = first["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)
    await client.put("/api/agent/status", json={"status": "online"}, headers=carl)
    await say(client, "returning", "hello")  # back to the bot
    await say(client, "returning", "帮我写一首诗")  # handed off again: alice is online → sticky to her
    _, resp = await client.get("/api/agent/conversations", headers=alice)
    assert [c["id"] for c in resp.json["conversations"]] == [conv]
    await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)
    await client.put("/api/agent/status", json={"status": "offline"}, headers=alice)
    await say(client, "returning", "hello")
    await say(client, "returning", "帮我写一首诗")  # alice offline → never sticky to her
    _, resp = await client.get("/api/agent/conversations", headers=carl)
    assert [c["id"] for c in resp.json["conversations"]] == [conv]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("editor", 403)])
async def test_agent_api_needs_the_agent_role(
    client: SanicASGITestClient, deps: Deps, role: str | None, status: int
) -> None:
    headers = await staff_member(client, deps, "someone", role) if role else {}
    _, resp = await client.get("/api/agent/conversations", headers=headers)
    assert resp.status == status
    assert resp.json["error"]["code"] in ("missing_token", "forbidden_role")


async def test_bad_agent_input_is_a_clear_4xx(client: SanicASGITestClient, deps: Deps) -> None:
    alice = await staff_member(client, deps, "alice3")
    _, resp = await client.put("/api/agent/status", json={"status": "sleeping"}, headers=alice)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_status"
    _, resp = await client.post("/api/agent/conversations/nope/transfer", json={"note": "x"}, headers=alice)
    assert resp.status == 422 and resp.json["error"]["code"] == "bad_transfer"
    _, resp = await client.post("/api/agent/conversations/nope/messages", json={"text": "hi"}, headers=alice)
    assert resp.status == 404


async def test_a_retried_reply_with_the_same_client_id_is_stored_and_sent_once(
    client: SanicASGITestClient, deps: Deps
) -> None:
    sender = RecordingSender()
    deps.outbound.register(Channel.WEB, sender)
    alice = await staff_member(client, deps, "alice4", skills=["general"])
    conv = (await say(client, "cust4", "帮我写一首诗"))["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    sent_before = len(sender.sent)
    body = {"text": "您好，我来帮您", "client_message_id": "reply-1"}
    replies = []
    for _ in range(2):
        _, resp = await client.post(f"/api/agent/conversations/{conv}/messages", json=body, headers=alice)
        assert resp.status == 200, resp.text
        replies.append(resp.json["message"])
    assert replies[0] == replies[1]
    async with deps.sessions() as session:
        staff = Staff(
            int((await session.scalar(select(User.id).where(User.username == "alice4"))) or 0),
            "alice4",
            "agent",
        )
    raced = await asyncio.gather(
        *(deps.desk.agents.reply(staff, conv, "第二条", client_message_id="reply-2") for _ in range(3))
    )
    assert len({m.id for m in raced}) == 1
    async with deps.sessions() as session:
        stored = (await session.scalars(select(Message).where(Message.sender == "agent"))).all()
        rows = await outbox.entries(session, [m.id for m in stored])
    assert sorted(m.text for m in stored) == ["您好，我来帮您", "第二条"]
    assert [row.status for row in rows] == ["sent", "sent"]
    assert [m.text for m in sender.sent[sent_before:]] == ["您好，我来帮您", "第二条"]
    _, resp = await client.post(
        f"/api/agent/conversations/{conv}/messages",
        json={"text": "x", "client_message_id": "bad id!"},
        headers=alice,
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_client_message_id"


async def test_a_transfer_goes_only_to_a_group_that_exists(client: SanicASGITestClient, deps: Deps) -> None:
    alice = await staff_member(client, deps, "alice4", skills=["general"])
    await staff_member(client, deps, "bea", skills=["billing"])  # billing exists: bea works in it
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    conv = (await say(client, "moving", "帮我写一首诗"))["conversation_id"]
    url = f"/api/agent/conversations/{conv}/transfer"
    _, resp = await client.post(url, json={"to_group": "nobody-works-here"}, headers=alice)
    assert resp.status == 422 and resp.json["error"]["code"] == "unknown_group"
    _, resp = await client.get("/api/agent/conversations", headers=alice)
    assert [c["id"] for c in resp.json["conversations"]] == [conv]  # still alice's
    _, resp = await client.post(url, json={"to_group": "billing"}, headers=alice)
    assert resp.status == 200, resp.text
