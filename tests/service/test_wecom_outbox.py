"""微信客服 replies through the outbox, with the real app factory: real Redis and SQLite, the
scripted bot, and Tencent's API played by the protocol-faithful fake on a port.

The sync only stores what customers wrote; sending is the outbox's job. A send that fails does
not hold the cursor, a resend of a msgid WeCom already took counts as delivered, and every
customer behind a failed reply is answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import select, update

from connectors.wecom import keys
from conversations.tables import Conversation, Message, OutboxEntry
from core.clock import utc_now
from core.settings import WeComSettings
from service.app import create_app
from service.deps import Deps
from tests.fakes.wecom_api import FakeWeCom
from tests.fakes.wecom_fixtures import AES_KEY, CORP_ID, KF_SECRET, OPEN_KFID, TOKEN


@pytest.fixture
async def client(deps: Deps, fake_url: str) -> AsyncIterator[SanicASGITestClient]:
    settings = WeComSettings(
        corp_id=CORP_ID, kf_secret=KF_SECRET, kf_token=TOKEN, kf_aes_key=AES_KEY, api_base=fake_url
    )
    deps.settings = dataclasses.replace(deps.settings, wecom=settings)
    Sanic.test_mode = True
    # The test client stops the server after every request, and a stopping server closes its
    # connections; a callback's sync outlives its request, so the connections stay open here
    # until the test ends, as they do in a server that keeps running.
    close = deps.close

    async def keep_open() -> None:
        return None

    deps.close = keep_open  # type: ignore[method-assign]
    yield create_app(deps, name=f"kefu_wecom_outbox_{id(deps)}").asgi_client
    await close()


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


async def customer_says(client: SanicASGITestClient, fake: FakeWeCom, user: str, text: str) -> None:
    callback = fake.customer_says(OPEN_KFID, user, text)
    _, resp = await client.post("/wecom/kf/callback", params=callback.params, content=callback.body)
    assert resp.status == 200 and resp.text == "success"


def sent_to(fake: FakeWeCom, user: str) -> list[str]:
    return [m.content for m in fake.sent_messages if m.touser == user]


async def bot_rows(deps: Deps, user: str) -> list[tuple[str, OutboxEntry]]:
    async with deps.sessions() as session:
        rows = await session.execute(
            select(Message.text, OutboxEntry)
            .join(OutboxEntry, OutboxEntry.message_id == Message.id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.channel_user_id == user)
            .order_by(Message.id)
        )
        return [(text, entry) for text, entry in rows.all()]


async def cursor_at_end(redis: aioredis.Redis, fake: FakeWeCom) -> bool:
    """The stored cursor is past every message the fake holds for the account."""
    saved = await redis.get(keys.kf_cursor(OPEN_KFID))
    return bool(fake.sync_requests) and saved == f"C{len(fake._accounts[OPEN_KFID].messages):08x}"


async def test_a_failed_send_does_not_stop_the_account_and_is_retried_once(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom, redis_client: aioredis.Redis
) -> None:
    fake.fail_sends = 1
    await customer_says(client, fake, "wmA", "第一个问题")
    [(text, entry)] = await eventually(lambda: bot_rows(deps, "wmA"), "wmA's reply stored")
    assert text == "echo:第一个问题"
    assert await eventually(lambda: cursor_at_end(redis_client, fake), "the cursor moved past wmA")
    assert sent_to(fake, "wmA") == []
    [(_, entry)] = await bot_rows(deps, "wmA")
    assert (entry.status, entry.attempts) == ("failed", 1)

    await customer_says(client, fake, "wmB", "排在后面")  # the customer behind is not held up
    assert await eventually(lambda: sent_to(fake, "wmB"), "wmB answered") == ["echo:排在后面"]

    async with deps.sessions.begin() as session:  # the backoff is over
        await session.execute(update(OutboxEntry).values(next_attempt_at=utc_now()))
    await deps.outbound.deliverer.deliver_due()
    assert await deps.outbound.deliverer.deliver_due() == 0
    assert sent_to(fake, "wmA") == ["echo:第一个问题"]
    [(_, entry)] = await bot_rows(deps, "wmA")
    assert (entry.status, entry.attempts) == ("sent", 2)


async def test_a_repeated_msgid_counts_as_delivered_and_the_cursor_moves(
    client: SanicASGITestClient, deps: Deps, fake: FakeWeCom, redis_client: aioredis.Redis
) -> None:
    await customer_says(client, fake, "wmC", "你好")
    assert await eventually(lambda: sent_to(fake, "wmC"), "wmC answered") == ["echo:你好"]
    # The deliverer died after WeCom took the reply but before recording it: the row is open.
    async with deps.sessions.begin() as session:
        await session.execute(update(OutboxEntry).values(status="pending", next_attempt_at=utc_now()))
    assert await deps.outbound.deliverer.deliver_due() == 1  # WeCom answers 40035: sent before
    [(_, entry)] = await bot_rows(deps, "wmC")
    assert entry.status == "sent" and entry.last_error == ""
    assert sent_to(fake, "wmC") == ["echo:你好"]  # once

    await customer_says(client, fake, "wmC", "还在吗")  # a retried callback: stored once, sent once
    callback = fake.kf_callback(OPEN_KFID)
    _, resp = await client.post("/wecom/kf/callback", params=callback.params, content=callback.body)
    assert resp.status == 200
    assert await eventually(lambda: len(sent_to(fake, "wmC")) == 2, "the second reply")
    assert await eventually(lambda: cursor_at_end(redis_client, fake), "the cursor moved")
    await eventually(lambda: len(fake.sync_requests) >= 3, "the retried callback's sync")
    assert sent_to(fake, "wmC") == ["echo:你好", "echo:还在吗"]
    assert [text for text, _ in await bot_rows(deps, "wmC")] == ["echo:你好", "echo:还在吗"]
