"""Human takeover in WeCom 微信客服 (WECOM_KF_SERVICERS), through the real app factory: real Redis
and SQLite, the scripted bot, and Tencent's API played by the protocol-faithful fake on a port.

alice and bob are mapped to the WeCom servicers zhangsan and lisi; dave has no mapping.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import select

from connectors.wecom import keys
from connectors.wecom.api import KfApi, WeComClient
from connectors.wecom.models import ServiceState
from conversations.tables import Conversation, Message
from core.settings import WeComSettings
from core.types import Channel
from handoff.staff import add_user
from handoff.tables import User
from service.app import create_app
from service.deps import Deps
from tests.fakes.wecom_api import FakeWeCom
from tests.fakes.wecom_fixtures import AES_KEY, CORP_ID, KF_SECRET, OPEN_KFID, TOKEN

Headers = dict[str, str]
SERVICERS = (("alice", "zhangsan"), ("bob", "lisi"))
PASSWORD = "long-enough-pw"


def wecom_settings(fake_url: str, servicers: tuple[tuple[str, str], ...] = SERVICERS) -> WeComSettings:
    return WeComSettings(
        corp_id=CORP_ID,
        kf_secret=KF_SECRET,
        kf_token=TOKEN,
        kf_aes_key=AES_KEY,
        api_base=fake_url,
        kf_servicers=servicers,
    )


async def _stays_open() -> None:
    return None


def make_client(deps: Deps, settings: WeComSettings) -> SanicASGITestClient:
    """The test client stops the app after every request, and a stopping app closes its Redis
    client; a callback's background sync outlives its request and must not lose its connection
    mid-command. So the app keeps deps open and the test closes them (``Deps.close(deps)``)."""
    deps.settings = dataclasses.replace(deps.settings, wecom=settings)
    deps.close = _stays_open  # type: ignore[method-assign]
    Sanic.test_mode = True
    return create_app(deps, name=f"kefu_wecom_takeover_{id(deps)}").asgi_client


@pytest.fixture
async def client(deps: Deps, fake_url: str) -> AsyncIterator[SanicASGITestClient]:
    yield make_client(deps, wecom_settings(fake_url))
    await Deps.close(deps)


async def agent(client: SanicASGITestClient, deps: Deps, name: str) -> Headers:
    async with deps.sessions.begin() as session:
        await add_user(session, name, PASSWORD, "agent", skills=["general"], max_concurrent=5)
    _, resp = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert resp.status == 200, resp.text
    return {"Authorization": f"Bearer {resp.json['token']}"}


async def online(client: SanicASGITestClient, headers: Headers) -> None:
    _, resp = await client.put("/api/agent/status", json={"status": "online"}, headers=headers)
    assert resp.status == 200, resp.text


async def eventually(check: Callable[[], Any], what: str) -> Any:
    """Wait (bounded) for the callback's background sync to have done something."""
    for _ in range(200):
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def sent_to(fake: FakeWeCom, user: str) -> list[str]:
    return [m.content for m in fake.sent_messages if m.touser == user]


async def customer_says(client: SanicASGITestClient, fake: FakeWeCom, user: str, text: str) -> None:
    callback = fake.customer_says(OPEN_KFID, user, text)
    _, resp = await client.post("/wecom/kf/callback", params=callback.params, content=callback.body)
    assert resp.status == 200 and resp.text == "success"


async def conversation(deps: Deps, user: str) -> Conversation | None:
    async with deps.sessions() as session:
        conv: Conversation | None = await session.scalar(
            select(Conversation).where(Conversation.channel_user_id == user)
        )
    return conv


async def handed_off(client: SanicASGITestClient, deps: Deps, fake: FakeWeCom, user: str) -> str:
    """A WeCom customer the bot hands to a person; the queued conversation's id."""
    await customer_says(client, fake, user, "帮我写一首诗")

    async def queued() -> str | None:
        conv = await conversation(deps, user)
        return conv.id if conv is not None and conv.state == "queued" else None

    conv_id: str = await eventually(queued, "the handoff")
    # The bot's handoff line and the queue position go out from the callback's background task;
    # wait for them, so the next request does not race that task.
    await eventually(lambda: len(sent_to(fake, user)) >= 2, "the handoff replies sent")
    await synced(deps)
    return conv_id


async def synced(deps: Deps) -> None:
    """Wait until no kf sync holds the account's lock (the background task has finished)."""

    async def free() -> bool:
        return not await deps.redis.exists(keys.kf_sync_lock(OPEN_KFID))

    await eventually(free, "the kf sync to finish")


async def assignee(deps: Deps, conv_id: str) -> tuple[str, str | None]:
    async with deps.sessions() as session:
        conv = await session.get(Conversation, conv_id)
        assert conv is not None
        user = await session.get(User, conv.assigned_agent_id) if conv.assigned_agent_id else None
    return conv.state, user.username if user else None


async def agent_messages(deps: Deps, conv_id: str) -> list[Message]:
    async with deps.sessions() as session:
        rows = await session.scalars(
            select(Message).where(Message.conversation_id == conv_id, Message.sender == "agent")
        )
        return list(rows.all())


async def reply(client: SanicASGITestClient, conv_id: str, headers: Headers, text: str) -> Any:
    _, resp = await client.post(
        f"/api/agent/conversations/{conv_id}/messages", json={"text": text}, headers=headers
    )
    return resp


async def test_a_mapped_agent_takes_the_wecom_session_as_its_servicer(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT1")
    assert fake.service_state(OPEN_KFID, "wmT1") in (0, 1)
    await online(client, alice)
    assert await assignee(deps, conv_id) == ("agent", "alice")
    assert fake.service_state(OPEN_KFID, "wmT1") == 3
    assert fake.servicer_of(OPEN_KFID, "wmT1") == "zhangsan"
    assert any("alice" in text for text in sent_to(fake, "wmT1"))  # "joined" went out before state 3


async def test_a_console_reply_in_a_servicer_session_is_a_409_and_nothing_is_stored(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT2")
    await online(client, alice)
    before = list(fake.sent_messages)
    resp = await reply(client, conv_id, alice, "您好")
    assert resp.status == 409
    assert resp.json["error"]["code"] == "wecom_servicer_session"
    assert "WeCom client" in resp.json["error"]["message"]
    assert await agent_messages(deps, conv_id) == []
    assert fake.sent_messages == before


async def test_what_the_servicer_types_in_wecom_joins_the_transcript_and_is_not_echoed(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT3")
    await online(client, alice)
    before = list(fake.sent_messages)
    fake.servicer_says(OPEN_KFID, "wmT3", "您好，我是张三", servicer="zhangsan")
    callback = fake.kf_callback(OPEN_KFID)
    for _ in range(2):  # a retried callback stores it once
        _, resp = await client.post("/wecom/kf/callback", params=callback.params, content=callback.body)
        assert resp.status == 200
    [stored] = await eventually(lambda: agent_messages(deps, conv_id), "the servicer's message stored")
    assert stored.text == "您好，我是张三"
    assert stored.payload == {"agent": "alice", "wecom_servicer": "zhangsan"}
    _, resp = await client.get(f"/api/agent/conversations/{conv_id}", headers=alice)
    assert ("agent", "您好，我是张三") in [(m["sender"], m["text"]) for m in resp.json["messages"]]
    await customer_says(client, fake, "wmT3", "好的谢谢")  # a later sync: still stored once
    await eventually(lambda: len(fake.sync_requests) >= 3, "the next sync")
    assert len(await agent_messages(deps, conv_id)) == 1
    assert fake.sent_messages == before  # nothing was sent back to WeCom


async def test_an_unmapped_agent_answers_through_the_api_as_before(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    dave = await agent(client, deps, "dave")
    conv_id = await handed_off(client, deps, fake, "wmT4")
    await online(client, dave)
    assert await assignee(deps, conv_id) == ("agent", "dave")
    resp = await reply(client, conv_id, dave, "我是 dave")
    assert resp.status == 200, resp.text
    assert "我是 dave" in sent_to(fake, "wmT4")
    assert fake.state_changes == []
    assert fake.service_state(OPEN_KFID, "wmT4") in (0, 1)


async def test_without_servicers_configured_nobody_changes_the_state(
    deps: Deps, fake: FakeWeCom, fake_url: str
) -> None:
    client = make_client(deps, wecom_settings(fake_url, servicers=()))
    try:
        alice = await agent(client, deps, "alice")
        conv_id = await handed_off(client, deps, fake, "wmT5")
        await online(client, alice)
        resp = await reply(client, conv_id, alice, "API 回复")
        assert resp.status == 200, resp.text
        assert "API 回复" in sent_to(fake, "wmT5")
        assert fake.state_changes == []
    finally:
        await Deps.close(deps)


async def test_closing_ends_the_session_and_the_bot_answers_the_next_message_via_the_api(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT6")
    await online(client, alice)
    _, resp = await client.post(f"/api/agent/conversations/{conv_id}/close", headers=alice)
    assert resp.status == 200, resp.text
    assert fake.service_state(OPEN_KFID, "wmT6") == 4
    assert [c["service_state"] for c in fake.state_changes] == [3, 4]
    await customer_says(client, fake, "wmT6", "还有一个问题")
    await eventually(lambda: "echo:还有一个问题" in sent_to(fake, "wmT6"), "the bot's answer via the API")
    assert fake.service_state(OPEN_KFID, "wmT6") == 0  # WeCom opened a new session


async def test_a_failed_hand_over_keeps_the_assignment_and_the_api_answers(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    fake.servicers = {"someone-else"}  # zhangsan is not a reception servicer: 95014
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT7")
    await online(client, alice)
    assert await assignee(deps, conv_id) == ("agent", "alice")
    assert fake.service_state(OPEN_KFID, "wmT7") in (0, 1)
    assert "95014" in caplog.text
    assert KF_SECRET not in caplog.text and "access_token" not in caplog.text
    resp = await reply(client, conv_id, alice, "接口仍可回复")
    assert resp.status == 200, resp.text
    assert "接口仍可回复" in sent_to(fake, "wmT7")


async def test_a_servicer_session_goes_only_to_another_mapped_agent(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    alice, bob, dave = [await agent(client, deps, name) for name in ("alice", "bob", "dave")]
    conv_id = await handed_off(client, deps, fake, "wmT8")
    await online(client, alice)
    await online(client, bob)
    await online(client, dave)
    url = f"/api/agent/conversations/{conv_id}/transfer"
    for body in ({"to_agent": "dave"}, {"to_group": "general"}):
        _, resp = await client.post(url, json=body, headers=alice)
        assert resp.status == 409, resp.text
        assert resp.json["error"]["code"] == "wecom_servicer_transfer"
    assert await assignee(deps, conv_id) == ("agent", "alice")
    _, resp = await client.post(url, json={"to_agent": "bob"}, headers=alice)
    assert resp.status == 200, resp.text
    assert await assignee(deps, conv_id) == ("agent", "bob")
    assert fake.service_state(OPEN_KFID, "wmT8") == 3
    assert fake.servicer_of(OPEN_KFID, "wmT8") == "lisi"
    assert (await reply(client, conv_id, bob, "x")).status == 409
    assert (await reply(client, conv_id, dave, "x")).status == 404  # not dave's


async def test_an_unmapped_agent_gets_the_transfer_of_an_api_session(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom
) -> None:
    dave, alice = [await agent(client, deps, name) for name in ("dave", "alice")]
    conv_id = await handed_off(client, deps, fake, "wmT9")
    await online(client, dave)
    await online(client, alice)
    _, resp = await client.post(
        f"/api/agent/conversations/{conv_id}/transfer", json={"to_agent": "alice"}, headers=dave
    )
    assert resp.status == 200, resp.text
    assert fake.servicer_of(OPEN_KFID, "wmT9") == "zhangsan"  # API session -> servicer session


async def test_a_95018_for_a_session_kefu_did_not_hand_over_becomes_the_409(
    client: SanicASGITestClient,
    deps: Deps,
    fake: FakeWeCom,
    fake_url: str,
    redis_client: aioredis.Redis,
) -> None:
    dave = await agent(client, deps, "dave")
    conv_id = await handed_off(client, deps, fake, "wmT10")
    await online(client, dave)
    async with aiohttp.ClientSession() as http:  # someone takes the session in the WeCom client
        api = KfApi(WeComClient(http, redis_client, CORP_ID, KF_SECRET, base_url=fake_url))
        await api.trans_service_state(OPEN_KFID, "wmT10", ServiceState.AGENT, "wangwu")
    resp = await reply(client, conv_id, dave, "第一条")
    assert resp.status == 409
    assert resp.json["error"]["code"] == "wecom_servicer_session"
    assert "saved" in resp.json["error"]["message"]
    assert [m.text for m in await agent_messages(deps, conv_id)] == ["第一条"]  # kept, not lost
    resp = await reply(client, conv_id, dave, "第二条")  # now known before storing
    assert resp.status == 409
    assert [m.text for m in await agent_messages(deps, conv_id)] == ["第一条"]


class BrokenSessions:
    """A session hook whose backing store is down."""

    def can_hold(self, agent_username: str) -> bool:
        return True

    async def holder(self, conv: Conversation) -> str:
        return ""

    async def took_over(self, conv: Conversation, agent_username: str) -> None:
        raise ConnectionError("redis went away")

    async def ended(self, conv: Conversation) -> None:
        raise ConnectionError("redis went away")


async def test_a_hook_that_raises_never_undoes_the_assignment_or_the_close(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    deps.desk.assignments.register_sessions(Channel.WECOM_KF, BrokenSessions())
    alice = await agent(client, deps, "alice")
    conv_id = await handed_off(client, deps, fake, "wmT11")
    await online(client, alice)
    assert await assignee(deps, conv_id) == ("agent", "alice")
    assert "did not follow (took_over)" in caplog.text
    _, resp = await client.post(f"/api/agent/conversations/{conv_id}/close", headers=alice)
    assert resp.status == 200, resp.text
    assert (await assignee(deps, conv_id))[0] == "closed"
    assert "did not follow (ended)" in caplog.text
