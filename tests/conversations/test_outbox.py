"""The outbox on a migrated SQLite database: one row per message to the customer, written with
it; delivered once, retried with backoff, dead after the last attempt, leased per deliverer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import outbox, repo
from conversations.outbox import Deliverer, Delivery, RetryPolicy
from conversations.tables import Conversation, Message, OutboxEntry
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


# --- rows written leased to their deliverer (the hot path of a turn's replies) -----------------


async def store_held(writer: Deliverer, sessions: Sessions, *texts: str) -> list[Message]:
    """Bot replies written through the deliverer (the caller keeps them until it delivers)."""
    async with sessions.begin() as session:
        conv = await repo.current_conversation(
            session, channel="wecom_kf", channel_user_id="wm2", entry_point="kf1", lang="zh"
        )
        messages = [writer.add(session, conv, "bot", text) for text in texts]
        await session.flush()
    return messages


@dataclass
class Statements:
    """The SQL a block of code sends (statements and commits), counted on the engine."""

    sql: list[str] = field(default_factory=list)
    commits: int = 0


@pytest.fixture
def statements(sessions: Sessions) -> Iterator[Statements]:
    engine = sessions.kw["bind"].sync_engine
    seen = Statements()

    def on_execute(conn: object, cursor: object, sql: str, *args: object) -> None:
        seen.sql.append(sql.split()[0].upper())

    def on_commit(conn: object) -> None:
        seen.commits += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)


async def test_a_held_batch_is_sent_without_a_claim_and_settled_in_one_commit(
    sessions: Sessions, statements: Statements
) -> None:
    sender, clock = Channelled(), Clock()
    writer = deliverer(sessions, sender, clock)
    messages = await store_held(writer, sessions, "一", "二", "三")
    ids = [m.id for m in messages]
    statements.sql.clear()
    statements.commits = 0
    assert await writer.deliver(ids) == dict.fromkeys(ids, Delivery.SENT)
    assert sender.sent == ["一", "二", "三"]
    assert statements.commits == 1
    assert "SELECT" not in statements.sql  # sent from memory: nothing read back
    for message_id in ids:
        entry = await row(sessions, message_id)
        assert (entry.status, entry.attempts, entry.lease_owner) == ("sent", 1, None)
    assert await writer.deliver(ids) == dict.fromkeys(ids, Delivery.ELSEWHERE)  # never twice
    assert sender.sent == ["一", "二", "三"]


async def test_a_held_row_is_not_taken_by_another_replica_until_its_lease_runs_out(
    sessions: Sessions,
) -> None:
    clock = Clock()
    writer = deliverer(sessions, Channelled(), clock, lease_seconds=60)
    [message] = await store_held(writer, sessions, "稍后")
    message_id = message.id
    other = Channelled()
    replica = deliverer(sessions, other, clock, lease_seconds=60)
    assert await replica.deliver_due() == 0
    assert await replica.deliver([message_id]) == {message_id: Delivery.ELSEWHERE}
    # The writer died before sending: once its lease runs out, the background loop sends it.
    clock.advance(61)
    assert await replica.deliver_due() == 1
    assert other.sent == ["稍后"]
    # The writer, back after its lease ran out, does not send it again.
    assert await writer.deliver([message_id]) == {message_id: Delivery.ELSEWHERE}
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts) == ("sent", 1)


async def test_a_held_row_whose_transaction_rolled_back_is_never_sent(sessions: Sessions) -> None:
    sender, clock = Channelled(), Clock()
    writer = deliverer(sessions, sender, clock)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            conv = await repo.current_conversation(
                session, channel="wecom_kf", channel_user_id="wm3", entry_point="kf1", lang="zh"
            )
            message = writer.add(session, conv, "bot", "never")
            await session.flush()
            lost = message.id
            raise RuntimeError("the turn failed after storing")
    assert await writer.deliver([lost]) == {lost: Delivery.ELSEWHERE}
    clock.advance(3600)
    assert await writer.deliver_due() == 0
    assert sender.sent == []


async def test_a_failed_held_send_is_retried_by_the_background_loop(sessions: Sessions) -> None:
    sender, clock = Channelled(failures=1), Clock()
    writer = deliverer(sessions, sender, clock)
    [message] = await store_held(writer, sessions, "重试")
    message_id = message.id
    assert await writer.deliver([message_id]) == {message_id: Delivery.RETRYING}
    entry = await row(sessions, message_id)
    assert (entry.status, entry.attempts, entry.lease_owner) == ("failed", 1, None)
    clock.advance(11)
    assert await writer.deliver_due() == 1
    assert sender.sent == ["重试"]
