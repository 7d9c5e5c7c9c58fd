"""The engine's repair steps on real Redis: undoing a claim, freeing a seat, resetting a record."""

from __future__ import annotations

import redis.asyncio as aioredis

from handoff import keys
from handoff.model import QueueEntry, Tier
from handoff.repair import EngineRepair, Record, Wanted
from tests.handoff.conftest import Desk


async def test_unclaim_puts_it_back_in_its_place_and_frees_the_seat(desk: Desk) -> None:
    await desk.wait("c1")
    await desk.wait("c2")
    await desk.agent("a1", ["sales"], max_concurrent=1)
    [assignment] = await desk.assigner.on_agent_available("a1")
    assert assignment.conversation_id == "c1"
    assert await desk.queue.position("c2") == 1

    assert await desk.assigner.unclaim(assignment)
    assert not await desk.assigner.unclaim(assignment)  # idempotent
    assert [e.conversation_id for e in await desk.queue.head("sales")] == ["c1", "c2"]
    assert (await desk.presence.get("a1")).load == 0  # type: ignore[union-attr]
    again = await desk.assigner.assign_next("sales")
    assert again is not None and again.conversation_id == "c1"


async def test_release_seat_frees_without_draining(desk: Desk) -> None:
    await desk.wait("c1")
    await desk.wait("c2")
    await desk.agent("a1", ["sales"], max_concurrent=1)
    [assignment] = await desk.assigner.on_agent_available("a1")
    assert await desk.assigner.release_seat("a1", assignment.conversation_id)
    assert not await desk.assigner.release_seat("a1", assignment.conversation_id)
    assert (await desk.presence.get("a1")).load == 0  # type: ignore[union-attr]
    assert await desk.queue.assigned_agent("c1") is None
    assert [e.conversation_id for e in await desk.queue.head("sales")] == ["c2"]  # nothing drained


async def test_reset_moves_a_record_only_if_it_is_as_seen(desk: Desk, redis_client: aioredis.Redis) -> None:
    repair = EngineRepair(redis_client)
    await desk.wait("c1")
    await desk.agent("a1", ["sales"])
    await desk.assigner.on_agent_available("a1")
    seen = (await repair.snapshot()).record("c1")
    assert seen == Record(state="assigned", group="sales", agent_id="a1", loads=frozenset({"a1"}))

    entry = QueueEntry("c1", "vip", tier=Tier.S, enqueued_at=1_600_000_000.0)
    assert not await repair.reset("c1", Record(), Wanted(entry), 0.0)  # not what it is now
    assert await repair.reset("c1", seen, Wanted(entry), 0.0)
    assert (await repair.snapshot()).record("c1") == Record(
        state="queued", group="vip", queues=frozenset({("vip", 1_600_000_000_000)})
    )
    assert Wanted(entry).satisfied_by((await repair.snapshot()).record("c1"))
    assert await redis_client.scard(keys.load("a1")) == 0

    queued = (await repair.snapshot()).record("c1")
    assert await repair.reset("c1", queued, Wanted(entry, "a1"), 5.0)
    assert await desk.queue.assigned_agent("c1") == "a1"
    assert await repair.reset("c1", (await repair.snapshot()).record("c1"), Wanted(), 0.0)
    assert (await repair.snapshot()).records == {}
