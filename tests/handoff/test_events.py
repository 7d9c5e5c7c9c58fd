"""Events over Redis pub/sub, received on another connection (as another replica would)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from core.errors import ValidationFailed
from handoff.events import (
    Assigned,
    HandoffEvent,
    HandoffEvents,
    NewMessage,
    QueueChanged,
    Released,
    Transferred,
    from_json,
    to_json,
)
from tests.handoff.conftest import make_desk


@pytest.fixture
async def other_replica(redis_url: str) -> AsyncIterator[HandoffEvents]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield HandoffEvents(client)
    finally:
        await client.aclose()


def test_every_event_round_trips_through_json() -> None:
    samples: list[HandoffEvent] = [
        Assigned("c1", "a1", "sales", True, 1.5),
        QueueChanged("sales", "c1", "enqueued", 2.0),
        Transferred("c1", "a1", "", "billing", 3.0),
        Released("c1", "a1", 4.0),
        NewMessage("c1", "a1", "m9", "customer", "你好，还在吗？", 5.0),
    ]
    for event in samples:
        text = to_json(event)
        assert json.loads(text)["type"] == event.type
        assert from_json(text) == event


def test_malformed_payloads_are_refused() -> None:
    for text in ("not json", '{"type": "nope"}', '{"type": "released", "agent_id": "a1"}'):
        with pytest.raises(ValidationFailed):
            from_json(text)


async def test_assignment_reaches_agent_and_group_subscribers_on_another_connection(
    redis_client: aioredis.Redis, other_replica: HandoffEvents
) -> None:
    desk = make_desk(redis_client)
    await desk.agent("a1", ["sales"])
    async with (
        other_replica.subscribe(agents=["a1"]) as agent_feed,
        other_replica.subscribe(groups=["sales"]) as group_feed,
    ):
        await desk.wait("c1")
        assigned = await desk.assigner.assign_next("sales")
        assert assigned is not None
        agent_event = await agent_feed.get(timeout=5)
        assert agent_event == Assigned("c1", "a1", "sales", False, assigned.assigned_at)
        group_events = [await group_feed.get(timeout=5) for _ in range(3)]
    assert [type(e).__name__ for e in group_events] == ["QueueChanged", "Assigned", "QueueChanged"]
    changes = [e.change for e in group_events if isinstance(e, QueueChanged)]
    assert changes == ["enqueued", "assigned"]


async def test_transfer_release_and_new_message_events(
    redis_client: aioredis.Redis, other_replica: HandoffEvents
) -> None:
    desk = make_desk(redis_client)
    await desk.agent("a1", ["sales"])
    await desk.agent("a2", ["sales"])
    await desk.wait("c1", preferred="a1")
    await desk.assigner.assign_next("sales")
    async with other_replica.subscribe(agents=["a1", "a2"]) as feed:
        await desk.assigner.transfer("c1", to_agent="a2")
        await desk.events.publish(NewMessage("c1", "a2", "m1", "customer", "hello?", desk.clock()))
        await desk.assigner.release("a2", "c1")
        received = [await feed.get(timeout=5) for _ in range(4)]
    transferred = Transferred("c1", "a1", "a2", "", desk.clock())
    assert received[:2] == [transferred, transferred]  # once on each agent's channel
    assert isinstance(received[2], NewMessage) and received[2].text == "hello?"
    assert received[3] == Released("c1", "a2", desk.clock())


async def test_async_iteration_and_timeout(
    redis_client: aioredis.Redis, other_replica: HandoffEvents
) -> None:
    publisher = HandoffEvents(redis_client)
    async with other_replica.subscribe(groups=["sales"]) as feed:
        assert await feed.get(timeout=0.05) is None
        await redis_client.publish("kefu:handoff:events:group:sales", "garbage")  # skipped
        await publisher.publish(QueueChanged("sales", "c1", "cancelled", 1.0))
        async for event in feed:
            assert event == QueueChanged("sales", "c1", "cancelled", 1.0)
            break


def test_subscribing_to_nothing_is_refused(redis_client: aioredis.Redis) -> None:
    with pytest.raises(ValidationFailed):
        HandoffEvents(redis_client).subscribe()
