from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.wecom import keys
from connectors.wecom.api import KfApi
from connectors.wecom.dedup import MessageDedup
from connectors.wecom.errors import WeComApiError
from connectors.wecom.ingest import WeComAppIngest, WeComKfIngest
from connectors.wecom.models import KfMessage
from connectors.wecom.xml import AppTextMessage, KfEvent, parse_callback
from conversations.channel_cursors import SqlCursorStore
from core.types import Channel, InboundMessage
from tests.fakes.wecom_api import FakeWeCom, SignedCallback
from tests.fakes.wecom_fixtures import CORP_ID, OPEN_KFID

Sessions = async_sessionmaker[AsyncSession]


def event_of(callback: SignedCallback) -> KfEvent:
    event = parse_callback(callback.plaintext)
    assert isinstance(event, KfEvent)
    return event


def make_ingest(kf_api: KfApi, redis_client: aioredis.Redis, limit: int = 1000) -> WeComKfIngest:
    return WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"), limit=limit)


async def test_customer_text_becomes_inbound_message(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmAlice", "退款多久能到账？")
    [msg] = await make_ingest(kf_api, redis_client).pull(event_of(callback))
    assert msg.channel is Channel.WECOM_KF
    assert (msg.channel_user_id, msg.entry_point, msg.text) == ("wmAlice", OPEN_KFID, "退款多久能到账？")
    assert msg.channel_message_id.startswith("m")
    assert fake.sync_requests[0]["token"] == callback.token


async def test_paging_with_has_more_and_cursor_persistence(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    for i in range(5):
        callback = fake.customer_says(OPEN_KFID, f"wm{i}", f"q{i}")
    ingest = make_ingest(kf_api, redis_client, limit=2)
    got = await ingest.pull(event_of(callback))
    assert [m.text for m in got] == ["q0", "q1", "q2", "q3", "q4"]
    assert len(fake.sync_requests) == 3  # 2 + 2 + 1
    saved = await redis_client.get(keys.kf_cursor(OPEN_KFID))
    assert saved and saved != fake.sync_requests[-1]["cursor"]  # the last page's next_cursor

    callback = fake.customer_says(OPEN_KFID, "wm9", "later")
    again = await make_ingest(kf_api, redis_client, limit=2).pull(event_of(callback))
    assert [m.text for m in again] == ["later"]
    assert fake.sync_requests[3]["cursor"] == saved  # a fresh ingest resumed from the stored cursor


async def test_non_customer_messages_are_skipped(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    fake.customer_says(OPEN_KFID, "wmBob", "hello")
    fake.servicer_says(OPEN_KFID, "wmBob", "agent reply")
    fake.system_event(OPEN_KFID, "wmBob", "enter_session")
    callback = fake.kf_callback(OPEN_KFID)
    got = await make_ingest(kf_api, redis_client).pull(event_of(callback))
    assert [m.text for m in got] == ["hello"]


async def test_messages_are_handled_once_even_if_the_cursor_is_lost(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmCarol", "once")
    ingest = make_ingest(kf_api, redis_client)
    assert len(await ingest.pull(event_of(callback))) == 1
    await redis_client.delete(keys.kf_cursor(OPEN_KFID))
    assert await ingest.pull(event_of(callback)) == []
    assert fake.sync_requests[1].get("cursor") is None  # it really re-read from the start


async def test_concurrent_pulls_do_not_double_deliver(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    for i in range(4):
        callback = fake.customer_says(OPEN_KFID, "wmDan", f"m{i}")
    ingest = make_ingest(kf_api, redis_client, limit=1)
    results = await asyncio.gather(*(ingest.pull(event_of(callback)) for _ in range(3)))
    assert sorted(m.text for r in results for m in r) == ["m0", "m1", "m2", "m3"]
    cursors = [r.get("cursor") for r in fake.sync_requests]
    # Serialised: only the first pull read from the start; the others resumed at its end.
    assert cursors.count(None) == 1
    assert len(cursors) == 6 and cursors[-1] == cursors[-2] != cursors[-3]


async def test_expired_callback_token_is_refused(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmEve", "hi")
    fake.clock.advance(601)
    with pytest.raises(WeComApiError) as err:
        await make_ingest(kf_api, redis_client).pull(event_of(callback))
    assert err.value.errcode == 95007


async def test_app_messages_are_deduplicated(redis_client: aioredis.Redis) -> None:
    ingest = WeComAppIngest(MessageDedup(redis_client, "app"))
    msg = AppTextMessage(CORP_ID, "zhangsan", 1700000000, "查工单", "123", "1000002")
    first = await ingest.accept(msg)
    assert first is not None and first.channel is Channel.WECOM_APP and first.channel_user_id == "zhangsan"
    again = await ingest.accept(msg)  # not handled yet: offered again
    assert again is not None and again.channel_message_id == first.channel_message_id
    await ingest.done(msg)
    assert await ingest.accept(msg) is None


async def test_a_failed_handler_loses_nothing(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    for i in range(3):
        callback = fake.customer_says(OPEN_KFID, "wmCarol", f"q{i}")
    handled: list[str] = []

    async def flaky(msg: object) -> None:
        text = getattr(msg, "text", "")
        if text == "q1" and "q1-failed" not in handled:
            handled.append("q1-failed")
            raise RuntimeError("process died while handling")
        handled.append(text)

    ingest = make_ingest(kf_api, redis_client, limit=10)
    with pytest.raises(RuntimeError):
        await ingest.pull(event_of(callback), handle=flaky)
    assert handled == ["q0", "q1-failed"]
    # The next callback resumes: q0 is not handled again, q1 and q2 are handled once.
    again = await ingest.pull(event_of(fake.customer_says(OPEN_KFID, "wmCarol", "q3")), handle=flaky)
    assert [m.text for m in again] == ["q1", "q2", "q3"]
    assert handled == ["q0", "q1-failed", "q1", "q2", "q3"]


async def test_servicer_messages_go_to_on_servicer_once(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    seen: list[KfMessage] = []

    async def on_servicer(msg: KfMessage) -> None:
        seen.append(msg)

    ingest = WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"), on_servicer=on_servicer)
    fake.customer_says(OPEN_KFID, "wmDan", "hello")
    fake.servicer_says(OPEN_KFID, "wmDan", "您好，我是张三", servicer="zhangsan")
    fake.servicer_says(OPEN_KFID, "wmDan", "no servicer id", servicer="")
    callback = fake.kf_callback(OPEN_KFID)
    got = await ingest.pull(event_of(callback))
    assert [m.text for m in got] == ["hello"]
    assert [(m.text, m.servicer_userid, m.external_userid) for m in seen] == [
        ("您好，我是张三", "zhangsan", "wmDan")
    ]
    await redis_client.delete(keys.kf_cursor(OPEN_KFID))  # re-read from the start: nothing twice
    assert await ingest.pull(event_of(fake.kf_callback(OPEN_KFID))) == []
    assert len(seen) == 1


async def test_a_failing_servicer_handler_keeps_the_message_for_the_next_sync(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    calls: list[str] = []

    async def flaky(msg: KfMessage) -> None:
        calls.append(msg.msgid)
        if len(calls) == 1:
            raise RuntimeError("database down")

    ingest = WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"), on_servicer=flaky)
    fake.customer_says(OPEN_KFID, "wmEve", "hi")
    fake.servicer_says(OPEN_KFID, "wmEve", "reply", servicer="zhangsan")

    async def handle(msg: InboundMessage) -> None:
        return None

    with pytest.raises(RuntimeError):
        await ingest.pull(event_of(fake.kf_callback(OPEN_KFID)), handle=handle)
    await ingest.pull(event_of(fake.kf_callback(OPEN_KFID)), handle=handle)
    assert len(calls) == 2 and calls[0] == calls[1]


async def test_a_message_that_keeps_failing_is_passed_and_the_cursor_moves(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    fake.customer_says(OPEN_KFID, "wmPoison", "breaks the handler")
    callback = fake.customer_says(OPEN_KFID, "wmNext", "waits behind it")
    handled: list[str] = []

    async def handle(msg: InboundMessage) -> None:
        if msg.channel_user_id == "wmPoison":
            raise RuntimeError("cannot handle this one")
        handled.append(msg.text)

    ingest = WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"), max_failures=3)
    for _ in range(2):  # retried by the next syncs while it may still be a passing trouble
        with pytest.raises(RuntimeError):
            await ingest.pull(event_of(callback), handle=handle)
    assert handled == [] and await redis_client.get(keys.kf_cursor(OPEN_KFID)) is None
    got = await ingest.pull(event_of(callback), handle=handle)
    assert [m.text for m in got] == ["waits behind it"] and handled == ["waits behind it"]
    assert await redis_client.get(keys.kf_cursor(OPEN_KFID))
    assert await ingest.pull(event_of(fake.kf_callback(OPEN_KFID)), handle=handle) == []


async def test_resync_pulls_known_accounts_without_a_callback(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    handled: list[str] = []

    async def handle(msg: InboundMessage) -> None:
        handled.append(msg.text)

    ingest = make_ingest(kf_api, redis_client)
    await ingest.resync(handle)  # no account known yet: nothing asked
    assert fake.sync_requests == []
    await ingest.pull(event_of(fake.customer_says(OPEN_KFID, "wmF", "first")), handle=handle)
    fake.customer_says(OPEN_KFID, "wmF", "its callback was lost")
    await ingest.resync(handle)
    assert handled == ["first", "its callback was lost"]
    assert "token" not in fake.sync_requests[-1]


async def test_a_redis_flush_resumes_from_the_cursor_saved_in_sql(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis, sessions: Sessions
) -> None:
    handled: list[str] = []

    async def handle(msg: InboundMessage) -> None:
        handled.append(msg.text)

    cursors = SqlCursorStore(sessions)
    ingest = WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"), limit=2, cursors=cursors)
    for i in range(3):
        fake.customer_says(OPEN_KFID, "wmG", f"before {i}")
    await ingest.pull(event_of(fake.kf_callback(OPEN_KFID)), handle=handle)
    saved = await cursors.get(Channel.WECOM_KF.value, OPEN_KFID)
    assert saved and saved == await redis_client.get(keys.kf_cursor(OPEN_KFID))

    await redis_client.flushdb()  # the cursor, the seen marks and the known accounts are gone
    fake.customer_says(OPEN_KFID, "wmG", "after")
    asked = len(fake.sync_requests)
    await ingest.resync(handle)  # the timer finds the account through its saved cursor
    assert handled == ["before 0", "before 1", "before 2", "after"]
    assert fake.sync_requests[asked]["cursor"] == saved  # resumed, not restarted
    assert await cursors.accounts(Channel.WECOM_KF.value) == [OPEN_KFID]


async def test_without_a_cursor_store_a_flush_restarts_the_sync(
    fake: FakeWeCom, kf_api: KfApi, redis_client: aioredis.Redis
) -> None:
    """What the SQL copy prevents: Redis alone forgets where the sync was."""
    ingest = make_ingest(kf_api, redis_client)
    await ingest.pull(event_of(fake.customer_says(OPEN_KFID, "wmH", "one")))
    await redis_client.flushdb()
    again = await ingest.pull(event_of(fake.customer_says(OPEN_KFID, "wmH", "two")))
    assert fake.sync_requests[-1].get("cursor") is None
    assert [m.text for m in again] == ["one", "two"]  # the seen marks went with the flush
