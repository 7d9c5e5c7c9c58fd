"""The outbox on a migrated SQLite database: one row per message to the customer, written with
it; delivered once, retried with backoff, dead after the last attempt, leased per deliverer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import outbox, repo
from conversations.outbox import Deliverer, Delivery, RetryPolicy
from conversations.tables import Conversation, OutboxEntry
from core.clock import utc_now
from core.errors import Undeliverable
from core.types import Channel, OutboundMessage

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Clock:
    now: datetime = field(default_factory=utc_now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Crash(BaseException):
    """The process dies mid-delivery (not an Exception: nothing records it)."""


@dataclass
class Channelled:
    """A channel sender that records what reached the customer; it can fail or die first."""

    sent: list[str] = field(default_factory=list)
    failures: int = 0
    refuse: bool = False
    crash: bool = False

    async def send(self, message: OutboundMessage) -> None:
        if self.crash:
            raise Crash
        if self.refuse:
            raise Undeliverable("the channel refuses this for good")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("channel unreachable")
        self.sent.append(message.text)


async def store(sessions: Sessions, *texts: str, sender: str = "agent") -> list[int]:
    async with sessions.begin() as session:
        conv = await repo.current_conversation(
            session, channel="wecom_kf", channel_user_id="wm1", entry_point="kf1", lang="zh"
        )
        messages = [outbox.add(session, conv, sender, text) for text in texts]
        await session.flush()
        return [m.id for m in messages]


async def row(sessions: Sessions, message_id: int) -> OutboxEntry:
    async with sessions() as session:
        [entry] = await outbox.entries(session, [message_id])
        return entry


def deliverer(sessions: Sessions, sender: Channelled, clock: Clock, **options: object) -> Deliverer:
    policy = RetryPolicy(base_delay=10, factor=2, max_attempts=3)
    return Deliverer(sessions, {Channel.WECOM_KF: sender}, policy=policy, clock=clock, **options)  # type: ignore[arg-type]


async def test_the_row_is_written_with_the_message_and_notes_have_none(sessions: Sessions) -> None:
    [reply] = await store(sessions, "您好")
    [note] = await store(sessions, "internal", sender="note")
    entry = await row(sessions, reply)
    assert (entry.status, entry.attempts, entry.channel) == ("pending", 0, "wecom_kf")
    async with sessions() as session:
        assert await outbox.entries(session, [note]) == []


async def test_a_message_whose_transaction_rolls_back_leaves_no_row(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            conv = await repo.current_conversation(
                session, channel="web", channel_user_id="v1", entry_point="", lang="zh"
            )
            outbox.add(session, conv, "agent", "never")
            await session.flush()
            raise RuntimeError("the request failed after storing")
    sender, clock = Channelled(), Clock()
    assert await deliverer(sessions, sender, clock).deliver_due() == 0
    assert sender.sent == []


async def test_sent_once_and_never_again(sessions: Sessions) -> None:
    ids = await store(sessions, "one", "two")
    sender, clock = Channelled(), Clock()
    first = deliverer(sessions, sender, clock)
    assert await first.deliver(ids) == {ids[0]: Delivery.SENT, ids[1]: Delivery.SENT}
    assert await first.deliver(ids) == {ids[0]: Delivery.ELSEWHERE, ids[1]: Delivery.ELSEWHERE}
    clock.advance(3600)
    assert await deliverer(sessions, sender, clock).deliver_due() == 0
    assert sender.sent == ["one", "two"]
    entry = await row(sessions, ids[0])
    assert (entry.status, entry.attempts, entry.lease_until) == ("sent", 1, None)


async def test_a_deliverer_that_dies_after_the_commit_is_replaced_and_the_message_goes_out_once(
    sessions: Sessions,
) -> None:
    [message_id] = await store(sessions, "您的退款已到账")
    clock = Clock()
    dying = Channelled(crash=True)
    with pytest.raises(Crash):
        await deliverer(sessions, dying, clock, lease_seconds=60).deliver([message_id])
    assert (await row(sessions, message_id)).status == "pending"

    sender = Channelled()
    replica = deliverer(sessions, sender, clock, lease_seconds=60)
    assert await replica.deliver_due() == 0  # the dead deliverer's lease still holds it
    clock.advance(61)
    assert await replica.deliver_due() == 1
    clock.advance(3600)
    assert await replica.deliver_due() == 0
    assert sender.sent == ["您的退款已到账"]
    assert (await row(sessions, message_id)).status == "sent"


async def test_a_failed_send_is_retried_with_backoff_then_sent_once(sessions: Sessions) -> None:
    [message_id] = await store(sessions, "稍等")
    sender, clock = Channelled(failures=1), Clock()
    outbox_ = deliverer(sessions, sender, clock)
    assert await outbox_.deliver([message_id]) == {message_id: Delivery.RETRYING}
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts) == ("failed", 1)
    assert "ConnectionError" in entry.last_error
    clock.advance(9)
    assert await outbox_.deliver_due() == 0  # not due before its backoff
    clock.advance(2)
    assert await outbox_.deliver_due() == 1
    assert await outbox_.deliver_due() == 0
    assert sender.sent == ["稍等"]
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts) == ("sent", 2)


async def test_dead_after_the_last_attempt(sessions: Sessions) -> None:
    [message_id] = await store(sessions, "unlucky")
    sender, clock = Channelled(failures=10), Clock()
    outbox_ = deliverer(sessions, sender, clock)
    await outbox_.deliver([message_id])
    for _ in range(5):
        clock.advance(3600)
        await outbox_.deliver_due()
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts) == ("dead", 3)
    assert sender.sent == [] and sender.failures == 7


async def test_a_refusal_is_dead_at_once(sessions: Sessions) -> None:
    [message_id] = await store(sessions, "too late")
    sender, clock = Channelled(refuse=True), Clock()
    assert await deliverer(sessions, sender, clock).deliver([message_id]) == {message_id: Delivery.DEAD}
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts) == ("dead", 1)
    assert "refuses" in entry.last_error


async def test_a_channel_without_a_sender_is_dead(sessions: Sessions) -> None:
    [message_id] = await store(sessions, "nowhere")
    outbox_ = Deliverer(sessions, {}, clock=Clock())
    assert await outbox_.deliver([message_id]) == {message_id: Delivery.DEAD}


async def test_two_replicas_sending_at_once_send_each_row_once(sessions: Sessions) -> None:
    ids = await store(sessions, *[f"m{i}" for i in range(12)])
    sender, clock = Channelled(), Clock()
    replicas = [deliverer(sessions, sender, clock) for _ in range(3)]
    await asyncio.gather(*(r.deliver_due(limit=5) for r in replicas), *(r.deliver(ids) for r in replicas))
    await replicas[0].deliver_due()
    assert sorted(sender.sent) == sorted(f"m{i}" for i in range(12))


async def test_the_background_loop_delivers_and_stops(sessions: Sessions) -> None:
    [message_id] = await store(sessions, "later")
    sender = Channelled()
    stop = asyncio.Event()
    task = asyncio.create_task(Deliverer(sessions, {Channel.WECOM_KF: sender}).run(stop, interval=0.05))
    for _ in range(200):
        if sender.sent:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert sender.sent == ["later"]
    assert (await row(sessions, message_id)).status == "sent"


async def test_the_outbound_message_carries_the_stored_view(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        conv = await repo.current_conversation(
            session, channel="web", channel_user_id="v2", entry_point="/help", lang="zh"
        )
        message = outbox.add(session, conv, "system", "评价一下", payload={"buttons": [{"title": "5"}]})
        await session.flush()
        stored = await session.get(Conversation, conv.id)
        assert stored is not None
        out = outbox.outbound_message(stored, message)
    assert out.view().id == message.id and out.view().buttons == ({"title": "5"},)
    assert (out.channel, out.channel_user_id, out.message_id) == (Channel.WEB, "v2", str(message.id))
