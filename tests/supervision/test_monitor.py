"""Alert rules on a real Redis queue and a migrated SQLite database: an alert is raised once
while its condition holds, resolved when it ends, raised again when it comes back; a rule's
change takes effect on the next pass; first-response alerts follow the stored events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, Customer, Message, StateTransition
from handoff.model import QueueEntry
from handoff.queue import HandoffQueue
from handoff.tables import User
from supervision import keys
from supervision.alerts import Alerts
from supervision.monitor import Monitor
from supervision.tables import Alert, AlertRule

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


def build(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, clock: Clock
) -> tuple[Monitor, HandoffQueue]:
    queue = HandoffQueue(redis, clock=clock.epoch)
    alerts = Alerts(sessions, redis, clock=clock)
    return Monitor(sessions, redis, queue, alerts, clock=clock), queue


async def set_rule(sessions: async_sessionmaker[AsyncSession], kind: str, **values: Any) -> None:
    async with sessions.begin() as session:
        await session.execute(update(AlertRule).where(AlertRule.kind == kind).values(**values))


async def alerts_of(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[Alert]:
    async with sessions() as session:
        return list(await session.scalars(select(Alert).where(Alert.type == kind).order_by(Alert.id)))


async def test_a_long_queue_alerts_once_while_it_lasts_and_again_when_it_returns(
    sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis
) -> None:
    clock = Clock()
    monitor, queue = build(sessions, redis_client, clock)
    await set_rule(sessions, "queue_length", threshold=1)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(keys.alert_events())
    await queue.enqueue(QueueEntry("c1", "general"))
    assert await monitor.sweep() == 0  # 1 waiting is not longer than 1
    await queue.enqueue(QueueEntry("c2", "general"))
    assert await monitor.sweep() == 1
    assert await monitor.sweep() == 0  # still holds: no second alert
    [alert] = await alerts_of(sessions, "queue_length")
    assert alert.resolved_at is None and alert.group == "general" and alert.data["length"] == 2
    await queue.cancel("c2")
    assert await monitor.sweep() == 0
    [alert] = await alerts_of(sessions, "queue_length")
    assert alert.resolved_at is not None and alert.active_key is None  # the condition ended
    await queue.enqueue(QueueEntry("c3", "general"))
    assert await monitor.sweep() == 1
    assert len(await alerts_of(sessions, "queue_length")) == 2
    published = []
    for _ in range(5):  # None also stands for the subscription's own confirmation
        if (item := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)) is not None:
            published.append(json.loads(item["data"]))
    assert [p["alert"]["type"] for p in published] == ["queue_length", "queue_length"]
    assert published[0]["alert"]["message"] == "Queue general: 2 waiting (limit 1)"
    await pubsub.aclose()


async def test_a_rule_change_takes_effect_on_the_next_pass(
    sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis
) -> None:
    clock = Clock()
    monitor, queue = build(sessions, redis_client, clock)
    await queue.enqueue(QueueEntry("c1", "vip", enqueued_at=clock.epoch()))
    clock.now += timedelta(seconds=90)
    assert await monitor.sweep() == 0  # the default: a wait over 300 s
    await set_rule(sessions, "queue_wait", threshold=60)
    assert await monitor.sweep() == 1
    [alert] = await alerts_of(sessions, "queue_wait")
    assert alert.data == {"group": "vip", "wait": 90, "threshold": 60.0}
    await set_rule(sessions, "queue_wait", enabled=False)
    await monitor.sweep()
    [alert] = await alerts_of(sessions, "queue_wait")
    assert alert.resolved_at is not None  # a disabled rule holds nothing


async def test_no_agent_reply_after_assignment_raises_first_response_alerts(
    sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis
) -> None:
    clock = Clock()
    monitor, _ = build(sessions, redis_client, clock)
    await set_rule(sessions, "first_response", threshold=60)
    async with sessions.begin() as session:
        session.add(User(username="alice", password_hash="x", role="agent", skills=[]))
        session.add(Customer(id="cu1"))
        await session.flush()
        alice = await session.scalar(select(User.id).where(User.username == "alice"))
        for cid in ("slow", "quick"):
            session.add(
                Conversation(
                    id=cid,
                    customer_id="cu1",
                    channel="web",
                    channel_user_id=cid,
                    state="agent",
                    assigned_agent_id=alice,
                    created_at=T0,
                )
            )
            session.add(
                StateTransition(
                    conversation_id=cid,
                    from_state="queued",
                    to_state="agent",
                    reason="assigned",
                    actor="agent:alice",
                    created_at=T0,
                )
            )
        await session.flush()
        session.add(
            Message(
                conversation_id="quick", sender="agent", text="您好", created_at=T0 + timedelta(seconds=5)
            )
        )
    clock.now = T0 + timedelta(seconds=59)
    assert await monitor.sweep() == 0
    clock.now = T0 + timedelta(seconds=61)
    assert await monitor.sweep() == 1
    [alert] = await alerts_of(sessions, "first_response")
    assert alert.conversation_id == "slow" and alert.data["agent"] == "alice"
    async with sessions.begin() as session:
        session.add(Message(conversation_id="slow", sender="agent", text="在的", created_at=clock.now))
    await monitor.sweep()
    [alert] = await alerts_of(sessions, "first_response")
    assert alert.resolved_at is not None  # answered: the condition ended


async def test_two_replicas_raise_one_alert(
    sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis
) -> None:
    clock = Clock()
    first, queue = build(sessions, redis_client, clock)
    second, _ = build(sessions, redis_client, clock)
    await set_rule(sessions, "queue_length", threshold=0)
    await queue.enqueue(QueueEntry("c1", "general"))
    [condition] = [c for c in await first.evaluate() if c.type == "queue_length"]
    raised = [await m.alerts.raise_condition(condition) for m in (first, second)]
    assert sum(1 for r in raised if r is not None) == 1
