"""The queue on real Redis: tier priority, FIFO, positions, cancel, overflow figures."""

from __future__ import annotations

import pytest

from core.errors import Conflict, ValidationFailed
from handoff.model import QueueEntry, Tier
from tests.handoff.conftest import Desk


async def order(desk: Desk, group: str = "sales") -> list[str]:
    return [e.conversation_id for e in await desk.queue.head(group, 100)]


async def test_vip_before_normal_then_fifo_within_a_tier(desk: Desk) -> None:
    await desk.wait("n1")
    await desk.wait("a1", tier=Tier.A)
    await desk.wait("n2")
    await desk.wait("s1", tier=Tier.S)
    await desk.wait("a2", tier=Tier.A)
    await desk.wait("s2", tier=Tier.S)
    assert await order(desk) == ["s1", "s2", "a1", "a2", "n1", "n2"]


async def test_fifo_follows_enqueue_time_not_insertion_order(desk: Desk) -> None:
    late = desk.clock() + 10
    await desk.queue.enqueue(QueueEntry("late", "sales", enqueued_at=late))
    await desk.queue.enqueue(QueueEntry("early", "sales", enqueued_at=late - 5))
    assert await order(desk) == ["early", "late"]


async def test_entry_metadata_round_trips(desk: Desk) -> None:
    sent = QueueEntry(
        conversation_id="c1",
        group="billing",
        customer_id="cust-9",
        tier=Tier.A,
        lang="en",
        channel="wecom_kf",
        topic="退款",
        enqueued_at=1_700_000_123.5,
        preferred_agent_id="ag-3",
        reason="low_confidence",
    )
    await desk.queue.enqueue(sent)
    assert await desk.queue.entry("c1") == sent
    assert await desk.queue.entry("nope") is None


async def test_positions_update_as_others_leave(desk: Desk) -> None:
    assert await desk.wait("c1") == 1
    assert await desk.wait("c2") == 2
    assert await desk.wait("c3") == 3
    assert await desk.wait("vip", tier=Tier.S) == 1
    assert [await desk.queue.position(c) for c in ("vip", "c1", "c2", "c3")] == [1, 2, 3, 4]
    assert await desk.queue.cancel("c1") is True
    assert [await desk.queue.position(c) for c in ("vip", "c2", "c3")] == [1, 2, 3]
    assert await desk.queue.position("c1") is None
    await desk.agent("a1", ["sales"], max_concurrent=1)
    assigned = await desk.assigner.assign_next("sales")
    assert assigned is not None and assigned.conversation_id == "vip"
    assert [await desk.queue.position(c) for c in ("c2", "c3")] == [1, 2]


async def test_positions_are_per_group(desk: Desk) -> None:
    await desk.wait("s1", group="sales")
    assert await desk.wait("b1", group="billing") == 1
    assert await desk.queue.position("s1") == 1


async def test_cancel_only_removes_queued(desk: Desk) -> None:
    assert await desk.queue.cancel("never-queued") is False
    await desk.wait("c1")
    assert await desk.queue.cancel("c1") is True
    assert await desk.queue.cancel("c1") is False
    assert await desk.queue.length("sales") == 0


async def test_enqueue_twice_keeps_place_and_moving_group_leaves_old_queue(desk: Desk) -> None:
    await desk.wait("c1")
    await desk.wait("c2")
    assert await desk.wait("c1") == 1
    assert await desk.queue.length("sales") == 2
    assert await desk.wait("c1", group="billing") == 1
    assert await order(desk, "sales") == ["c2"]
    assert await desk.queue.groups() == ["billing", "sales"]


async def test_enqueue_of_an_assigned_conversation_conflicts(desk: Desk) -> None:
    await desk.agent("a1", ["sales"])
    await desk.wait("c1")
    await desk.assigner.assign_next("sales")
    with pytest.raises(Conflict):
        await desk.wait("c1")


async def test_bad_group_names_are_refused(desk: Desk) -> None:
    for group in ("", "a,b"):
        with pytest.raises(ValidationFailed):
            await desk.queue.enqueue(QueueEntry("c1", group))


async def test_length_and_oldest_wait_across_tiers(desk: Desk) -> None:
    assert (await desk.queue.stats("sales")).oldest_wait == 0.0
    await desk.wait("n1", step=30)  # the oldest, though behind the VIP below
    await desk.wait("s1", tier=Tier.S, step=15)
    stats = await desk.queue.stats("sales")
    assert stats.length == 2
    assert stats.oldest_wait == pytest.approx(45.0)
    await desk.queue.cancel("n1")
    assert await desk.queue.oldest_wait("sales") == pytest.approx(15.0)


async def test_enqueue_without_time_uses_the_clock(desk: Desk) -> None:
    await desk.queue.enqueue(QueueEntry("c1", "sales"))
    entry = await desk.queue.entry("c1")
    assert entry is not None and entry.enqueued_at == desk.clock()
