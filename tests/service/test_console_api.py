"""The agent console's API, in process: real Redis engine, real SQLite, scripted bot."""

from __future__ import annotations

from typing import Any

from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import select, update

from conversations.tables import ChannelIdentity, Customer, Message, OutboxEntry
from handoff.routing import Rule
from service.deps import Deps
from tests.service.test_agent_api import customer_view, say, staff_member
from tests.service.visitors import visitor_headers

Headers = dict[str, str]


async def online(client: SanicASGITestClient, headers: Headers) -> None:
    _, resp = await client.put("/api/agent/status", json={"status": "online"}, headers=headers)
    assert resp.status == 200, resp.text


async def make_vip(deps: Deps, visitor: str) -> None:
    async with deps.sessions.begin() as session:
        customer = await session.scalar(
            select(Customer)
            .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(ChannelIdentity.channel_user_id == visitor)
        )
        assert customer is not None
        customer.tier, customer.display_name = "S", "王女士"


async def test_taken_at_once_is_never_told_a_queue_position(client: SanicASGITestClient, deps: Deps) -> None:
    alice = await staff_member(client, deps, "alice", skills=["general"], display_name="小王")
    await online(client, alice)
    asked = await say(client, "c1", "帮我写一首诗")
    assert asked["state"] == "agent"
    view = await customer_view(client, asked["conversation_id"], "c1")
    texts = [m["text"] for m in view["messages"]]
    assert not any("位" in t and "排" in t for t in texts), texts
    assert any("小王" in t for t in texts)  # the display name, not the login name
    assert not any("alice" in t for t in texts)
    assert view["agent_name"] == "小王" and view["queue_position"] is None


async def test_list_rows_put_vip_first_and_count_unread(client: SanicASGITestClient, deps: Deps) -> None:
    deps.desk.routing.rules = (Rule(group="general"),)
    bob = await staff_member(client, deps, "bob", skills=["general"])
    await say(client, "vip", "hello")
    await make_vip(deps, "vip")
    normal = await say(client, "normal", "帮我写一首诗")
    vip = await say(client, "vip", "帮我写一首诗")
    await online(client, bob)
    await say(client, "normal", "还在吗")
    _, resp = await client.get("/api/agent/conversations", headers=bob)
    rows = resp.json["conversations"]
    assert [r["id"] for r in rows] == [vip["conversation_id"], normal["conversation_id"]]
    first, second = rows
    assert first["tier"] == "S" and first["customer_name"] == "王女士" and first["channel"] == "web"
    assert second["unread"] == 2 and second["last_message"]["text"] == "还在吗"
    assert second["waiting_since"] is not None
    _, resp = await client.post(
        f"/api/agent/conversations/{normal['conversation_id']}/messages", json={"text": "在的"}, headers=bob
    )
    _, resp = await client.get("/api/agent/conversations", headers=bob)
    answered = next(r for r in resp.json["conversations"] if r["id"] == normal["conversation_id"])
    assert answered["unread"] == 0 and answered["waiting_since"] is None


async def test_transcript_panel_delivery_and_retry(client: SanicASGITestClient, deps: Deps) -> None:
    carol = await staff_member(client, deps, "carol", skills=["general"])
    asked = await say(client, "c3", "帮我写一首诗")
    conv = asked["conversation_id"]
    await online(client, carol)
    _, sent = await client.post(
        f"/api/agent/conversations/{conv}/messages", json={"text": "hi"}, headers=carol
    )
    await client.post(f"/api/agent/conversations/{conv}/notes", json={"text": "vip?"}, headers=carol)
    _, resp = await client.get(f"/api/agent/conversations/{conv}", headers=carol)
    body: dict[str, Any] = resp.json
    assert body["queue_wait_seconds"] is not None and body["queue_wait_seconds"] >= 0
    by_text = {m["text"]: m for m in body["messages"]}
    assert by_text["hi"]["delivery"] == "sent" and by_text["hi"]["author"] == "carol"
    assert by_text["vip?"]["sender"] == "note" and by_text["vip?"]["delivery"] is None

    message_id = sent.json["message"]["id"]
    _, resp = await client.post(f"/api/agent/conversations/{conv}/messages/{message_id}/retry", headers=carol)
    assert resp.status == 409 and resp.json["error"]["code"] == "not_failed"
    async with deps.sessions.begin() as session:
        await session.execute(
            update(OutboxEntry).where(OutboxEntry.message_id == message_id).values(status="dead")
        )
    _, resp = await client.post(f"/api/agent/conversations/{conv}/messages/{message_id}/retry", headers=carol)
    assert resp.status == 200 and resp.json["delivery"] == "sent"

    _, resp = await client.get(f"/api/agent/conversations/{conv}/customer", headers=carol)
    panel = resp.json
    assert [i["channel"] for i in panel["identities"]] == ["web"]
    assert [c["id"] for c in panel["conversations"]] == [conv]
    assert panel["tickets"] == [] and panel["ratings"] == []

    _, resp = await client.post(
        f"/api/agent/conversations/{conv}/ticket", json={"priority": "high"}, headers=carol
    )
    assert resp.status == 201 and resp.json["ticket"]["priority"] == "high"
    _, resp = await client.post(f"/api/agent/conversations/{conv}/ticket", json={}, headers=carol)
    assert resp.status == 409 and resp.json["error"]["code"] == "ticket_exists"
    _, resp = await client.get(f"/api/agent/conversations/{conv}/customer", headers=carol)
    assert len(resp.json["tickets"]) == 1

    other = await staff_member(client, deps, "dave", skills=["general"])
    _, resp = await client.get(f"/api/agent/conversations/{conv}/customer", headers=other)
    assert resp.status == 404  # not theirs
    _, resp = await client.get("/api/agent/transfer-targets", headers=carol)
    assert [a["username"] for a in resp.json["agents"]] == ["dave"]
    assert "general" in resp.json["groups"]


async def test_canned_replies_own_and_shared(client: SanicASGITestClient, deps: Deps) -> None:
    agent = await staff_member(client, deps, "erin")
    boss = await staff_member(client, deps, "sue", role="supervisor")
    _, resp = await client.post(
        "/api/agent/canned", json={"shortcut": "hi", "text": "您好", "shared": True}, headers=agent
    )
    assert resp.status == 403
    _, resp = await client.post(
        "/api/agent/canned", json={"shortcut": "/hi", "text": "您好！", "shared": True}, headers=boss
    )
    assert resp.status == 201 and resp.json["canned"]["shortcut"] == "hi"
    shared_id = resp.json["canned"]["id"]
    _, resp = await client.post(
        "/api/agent/canned", json={"shortcut": "hi", "text": "Hi!", "lang": "en"}, headers=agent
    )
    assert resp.status == 201
    own_id = resp.json["canned"]["id"]
    _, resp = await client.post("/api/agent/canned", json={"shortcut": "hi", "text": "again"}, headers=agent)
    assert resp.status == 409 and resp.json["error"]["code"] == "shortcut_exists"
    _, resp = await client.post("/api/agent/canned", json={"shortcut": "a b", "text": "x"}, headers=agent)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_shortcut"

    _, resp = await client.get("/api/agent/canned", headers=agent)
    assert [(c["shortcut"], c["text"], c["shared"]) for c in resp.json["canned"]] == [("hi", "Hi!", False)]
    _, resp = await client.get("/api/agent/canned", headers=boss)
    assert [(c["shortcut"], c["shared"]) for c in resp.json["canned"]] == [("hi", True)]

    _, resp = await client.put(
        f"/api/agent/canned/{shared_id}", json={"shortcut": "hi", "text": "x"}, headers=agent
    )
    assert resp.status == 403
    _, resp = await client.put(
        f"/api/agent/canned/{own_id}", json={"shortcut": "hey", "text": "Hey!"}, headers=boss
    )
    assert resp.status == 404  # someone else's own reply
    _, resp = await client.put(
        f"/api/agent/canned/{own_id}", json={"shortcut": "hey", "text": "Hey!"}, headers=agent
    )
    assert resp.status == 200 and resp.json["canned"]["shortcut"] == "hey"
    _, resp = await client.delete(f"/api/agent/canned/{own_id}", headers=agent)
    assert resp.status == 200
    _, resp = await client.get("/api/agent/canned", headers=agent)
    assert [(c["shortcut"], c["shared"]) for c in resp.json["canned"]] == [("hi", True)]


async def test_customer_typing_and_leaving_a_message(client: SanicASGITestClient, deps: Deps) -> None:
    asked = await say(client, "c5", "hello")
    conv = asked["conversation_id"]
    _, resp = await client.post(
        f"/api/web/conversations/{conv}/typing", json={}, headers=visitor_headers(client, "someone-else")
    )
    assert resp.status == 404
    _, resp = await client.post(
        f"/api/web/conversations/{conv}/typing", json={}, headers=visitor_headers(client, "c5")
    )
    assert resp.status == 200
    _, resp = await client.get("/api/web/availability")
    assert isinstance(resp.json["open"], bool)

    _, resp = await client.post(
        "/api/web/leave-message",
        json={"visitor_id": "c5", "text": "请回电", "contact": ""},
        headers=visitor_headers(client, "c5"),
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_contact"
    _, resp = await client.post(  # a visitor who has written before must show their token
        "/api/web/leave-message", json={"visitor_id": "c5", "text": "请回电", "contact": "13800000000"}
    )
    assert resp.status == 401 and resp.json["error"]["code"] == "invalid_visitor_token"
    _, resp = await client.post(
        "/api/web/leave-message",
        json={"visitor_id": "c5", "text": "请回电", "name": "李先生", "contact": "13800000000", "lang": "zh"},
        headers=visitor_headers(client, "c5"),
    )
    assert resp.status == 201, resp.text
    number = resp.json["ticket_number"]
    assert resp.json["conversation_id"] == conv and number in resp.json["replies"][0]["text"]
    view = await customer_view(client, conv, "c5")
    assert view["state"] == "ticket"
    async with deps.sessions() as session:
        left = await session.scalar(
            select(Message).where(Message.conversation_id == conv, Message.text.like("请回电%"))
        )
        customer = await session.scalar(
            select(Customer).join(ChannelIdentity).where(ChannelIdentity.channel_user_id == "c5")
        )
    assert left is not None and "13800000000" in left.text
    assert customer is not None and customer.display_name == "李先生"
