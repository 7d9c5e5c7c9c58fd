"""Assignment on real Redis: strategy steps, capacity, backlog drain, release and transfer."""

from __future__ import annotations

from collections import Counter

import pytest
import redis.asyncio as aioredis

from core.errors import Conflict, NotFound, ValidationFailed
from handoff import keys
from handoff.model import AgentStatus, GroupPolicy, Step, Tier
from tests.handoff.conftest import Desk, make_desk


async def load(client: aioredis.Redis, agent_id: str) -> set[str]:
    return {str(c) for c in await client.smembers(keys.load(agent_id))}


async def test_vip_is_assigned_before_earlier_normal_customers(desk: Desk) -> None:
    await desk.wait("n1")
    await desk.wait("n2")
    await desk.wait("vip", tier=Tier.S)
    await desk.agent("a1", ["sales"], max_concurrent=1)
    done = await desk.assigner.drain("sales")
    assert [a.conversation_id for a in done] == ["vip"]
    assert await desk.queue.position("n1") == 1


async def test_sticky_agent_only_when_online_with_capacity(desk: Desk, redis_client: aioredis.Redis) -> None:
    await desk.agent("a1", ["sales"], max_concurrent=1)
    await desk.agent("a2", ["sales"], max_concurrent=2)
    await desk.wait("c1", preferred="a2")
    first = await desk.assigner.assign_next("sales")
    assert first is not None and (first.agent_id, first.sticky) == ("a2", True)

    await desk.presence.set_status("a2", AgentStatus.AWAY)
    await desk.wait("c2", preferred="a2")
    second = await desk.assigner.assign_next("sales")
    assert second is not None and (second.agent_id, second.sticky) == ("a1", False)

    await desk.presence.set_status("a2", AgentStatus.ONLINE)
    await redis_client.sadd(keys.load("a2"), "other")  # a2 now full (2/2)
    await desk.wait("c3", preferred="a2")
    assert await desk.assigner.assign_next("sales") is None  # a1 full too: c3 waits, not held for a2
    assert await desk.queue.position("c3") == 1


async def test_sticky_agent_from_another_group(desk: Desk) -> None:
    await desk.agent("a1", ["sales"])
    await desk.agent("b1", ["billing"])
    await desk.wait("c1", preferred="b1")
    assigned = await desk.assigner.assign_next("sales")
    assert assigned is not None and assigned.agent_id == "b1"


async def test_least_load_then_round_robin(desk: Desk, redis_client: aioredis.Redis) -> None:
    for agent_id in ("a1", "a2", "a3"):
        await desk.agent(agent_id, ["sales"], max_concurrent=10)
    await redis_client.sadd(keys.load("a1"), "x1", "x2")
    for i in range(7):
        await desk.wait(f"c{i}")
    done = await desk.assigner.drain("sales")
    # a2 and a3 catch up with a1 first (alternating), then all three rotate.
    assert [a.agent_id for a in done] == ["a2", "a3", "a2", "a3", "a1", "a2", "a3"]
    loads = [len(await load(redis_client, a)) for a in ("a1", "a2", "a3")]
    assert Counter(loads) == Counter({3: 3})


async def test_round_robin_cursor_is_shared_by_replicas(redis_client: aioredis.Redis) -> None:
    one, two = make_desk(redis_client), make_desk(redis_client)
    for agent_id in ("a1", "a2", "a3"):
        await one.agent(agent_id, ["sales"], max_concurrent=10)
    for i in range(6):
        await one.wait(f"c{i}")
    picks = []
    for desk in (one, two, one, two, one, two):
        assigned = await desk.assigner.assign_next("sales")
        assert assigned is not None
        picks.append(assigned.agent_id)
    assert picks == ["a1", "a2", "a3", "a1", "a2", "a3"]


async def test_skill_group_only_unless_policy_says_otherwise(redis_client: aioredis.Redis) -> None:
    strict = make_desk(redis_client)
    await strict.agent("b1", ["billing"])
    await strict.wait("c1", group="sales")
    assert await strict.assigner.assign_next("sales") is None
    open_desk = make_desk(redis_client, policies={"sales": GroupPolicy(frozenset({Step.LEAST_LOAD}))})
    assigned = await open_desk.assigner.assign_next("sales")
    assert assigned is not None and assigned.agent_id == "b1"


async def test_backlog_drained_when_an_agent_comes_online(desk: Desk, redis_client: aioredis.Redis) -> None:
    for i in range(5):
        await desk.wait(f"c{i}")
    await desk.wait("b0", group="billing")
    await desk.agent("a1", ["sales", "billing"], max_concurrent=4, online=False)
    assert await desk.assigner.drain("sales") == []
    await desk.presence.set_status("a1", AgentStatus.ONLINE)
    done = await desk.assigner.on_agent_available("a1")
    assert len(done) == 4
    assert await load(redis_client, "a1") == {a.conversation_id for a in done}
    # across both groups the longest waiting went first: b0 came after c0..c4
    assert await load(redis_client, "a1") == {"c0", "c1", "c2", "c3"}
    assert await desk.queue.length("sales") + await desk.queue.length("billing") == 2


async def test_max_concurrent_is_respected(desk: Desk, redis_client: aioredis.Redis) -> None:
    await desk.agent("a1", ["sales"], max_concurrent=2)
    await desk.agent("a2", ["sales"], max_concurrent=1)
    for i in range(6):
        await desk.wait(f"c{i}")
    assert len(await desk.assigner.drain("sales")) == 3
    assert len(await load(redis_client, "a1")) == 2
    assert len(await load(redis_client, "a2")) == 1
    assert await desk.queue.length("sales") == 3


async def test_release_frees_capacity_and_drains(desk: Desk, redis_client: aioredis.Redis) -> None:
    await desk.agent("a1", ["sales"], max_concurrent=1)
    await desk.wait("c1")
    await desk.wait("c2")
    await desk.assigner.drain("sales")
    assert await desk.queue.assigned_agent("c1") == "a1"
    done = await desk.assigner.release("a1", "c1")
    assert [a.conversation_id for a in done] == ["c2"]
    assert await load(redis_client, "a1") == {"c2"}
    assert await desk.queue.assigned_agent("c1") is None
    assert await desk.assigner.release("a1", "c1") == []  # twice is harmless


async def test_transfer_to_agent(desk: Desk, redis_client: aioredis.Redis) -> None:
    await desk.agent("a1", ["sales"], max_concurrent=1)
    await desk.agent("a2", ["sales"], max_concurrent=1)
    await desk.wait("c1", preferred="a1")
    await desk.wait("c2", preferred="a2")
    await desk.assigner.drain("sales")
    with pytest.raises(Conflict):
        await desk.assigner.transfer("c1", to_agent="a2")  # a2 is full
    await desk.agent("a3", ["sales"], max_concurrent=1)
    result = await desk.assigner.transfer("c1", to_agent="a3")
    assert result.from_agent == "a1"
    assert result.assignment is not None and result.assignment.agent_id == "a3"
    assert await load(redis_client, "a1") == set()
    assert await load(redis_client, "a3") == {"c1"}


async def test_transfer_queued_conversation_straight_to_an_agent(desk: Desk) -> None:
    await desk.wait("c1")
    await desk.agent("a1", ["billing"], online=False)
    with pytest.raises(Conflict):
        await desk.assigner.transfer("c1", to_agent="a1")
    await desk.presence.set_status("a1", AgentStatus.ONLINE)
    result = await desk.assigner.transfer("c1", to_agent="a1")
    assert result.assignment is not None and result.assignment.agent_id == "a1"
    assert await desk.queue.length("sales") == 0


async def test_transfer_to_group_keeps_wait_and_never_returns_to_sender(
    desk: Desk, redis_client: aioredis.Redis
) -> None:
    await desk.agent("a1", ["sales", "billing"], max_concurrent=2)
    await desk.agent("b2", ["billing"], max_concurrent=1)
    await desk.wait("c1", preferred="a1")
    await desk.assigner.assign_next("sales")
    await redis_client.sadd(keys.load("b2"), "busy")  # b2 full for now
    await desk.wait("b-new", group="billing")
    result = await desk.assigner.transfer("c1", to_group="billing")
    # c1 kept its older place (head of billing). a1 has a free seat and serves billing, but is
    # the agent who handed c1 on, so a1 comes last and takes it only because b2 is full.
    assert result.from_agent == "a1"
    assert result.assignment is not None and result.assignment.agent_id == "a1"
    assert await desk.queue.position("b-new") is None  # a1's second seat took b-new
    assert [a.conversation_id for a in result.others] == ["b-new"]  # returned, for the SQL mirror
    assert await load(redis_client, "a1") == {"c1", "b-new"}


async def test_transfer_to_group_prefers_anyone_but_the_sender(
    desk: Desk, redis_client: aioredis.Redis
) -> None:
    await desk.agent("a1", ["sales", "billing"], max_concurrent=2)
    await desk.wait("c1", preferred="a1")
    await desk.assigner.assign_next("sales")
    await desk.agent("b2", ["billing"], max_concurrent=1)
    await redis_client.sadd(keys.load("b2"), "busy")
    await desk.wait("b-old", group="billing")  # newer than c1, which keeps its first enqueue time
    await desk.presence.set_status("a1", AgentStatus.AWAY)
    result = await desk.assigner.transfer("c1", to_group="billing")
    assert result.assignment is None and result.position == 1
    assert await desk.queue.position("b-old") == 2
    await redis_client.srem(keys.load("b2"), "busy")
    await desk.presence.set_status("a1", AgentStatus.ONLINE)
    # a1 (load 0, id first) and b2 (load 0) are both free: c1 still goes to b2, not back to a1.
    assigned = await desk.assigner.assign_next("billing")
    assert assigned is not None and (assigned.conversation_id, assigned.agent_id) == ("c1", "b2")


async def test_transfer_errors(desk: Desk) -> None:
    with pytest.raises(ValidationFailed):
        await desk.assigner.transfer("c1")
    with pytest.raises(ValidationFailed):
        await desk.assigner.transfer("c1", to_agent="a", to_group="g")
    with pytest.raises(NotFound):
        await desk.assigner.transfer("c1", to_group="sales")
    await desk.agent("a1", ["sales"])
    with pytest.raises(NotFound):
        await desk.assigner.transfer("c1", to_agent="a1")


async def test_an_agent_coming_online_takes_the_vip_of_another_group_first(desk: Desk) -> None:
    await desk.wait("n1", group="general")
    await desk.wait("vip", group="vip", tier=Tier.S)
    await desk.agent("a1", ["general", "vip"], max_concurrent=1)
    done = await desk.assigner.on_agent_available("a1")
    assert [a.conversation_id for a in done] == ["vip"]  # "general" sorts first, the VIP goes first
    assert await desk.queue.position("n1") == 1
