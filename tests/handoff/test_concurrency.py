"""No double assignment and no agent over max, with replicas racing on one Redis.

Two clients (two replicas in one process) and two OS processes run many assignment tasks at
once over the same queues and agents; afterwards every conversation is assigned exactly once
or still queued, never both, and no agent's load exceeds their maximum.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from handoff import keys
from handoff.model import AgentStatus, Tier
from tests.handoff.conftest import Desk, make_desk

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ("sales", "billing")


@pytest.fixture
async def second_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def setup(desk: Desk, conversations: int, agents: int, max_concurrent: int) -> list[str]:
    for i in range(agents):
        # every agent serves both groups, so the two groups compete for the same seats
        await desk.agent(f"ag{i:02d}", GROUPS, max_concurrent=max_concurrent, online=False)
    ids = [f"conv{i:03d}" for i in range(conversations)]
    for i, conversation_id in enumerate(ids):
        tier = (Tier.S, Tier.A, Tier.NORMAL)[i % 3]
        # every 5th customer is returning to some agent: sticky claims race with the rotation
        preferred = f"ag{i % agents:02d}" if i % 5 == 0 else ""
        await desk.wait(conversation_id, group=GROUPS[i % 2], tier=tier, preferred=preferred, step=0.001)
    return ids


async def check(client: aioredis.Redis, ids: list[str], agents: int, max_concurrent: int) -> int:
    loads = {
        f"ag{i:02d}": {str(c) for c in await client.smembers(keys.load(f"ag{i:02d}"))} for i in range(agents)
    }
    assert all(len(members) <= max_concurrent for members in loads.values()), loads
    assigned = Counter(c for members in loads.values() for c in members)
    assert all(n == 1 for n in assigned.values()), "a conversation was assigned twice"
    queued = {c for g in GROUPS for c in await client.zrange(keys.queue(g), 0, -1)}
    assert not queued & set(assigned), "a conversation is both queued and assigned"
    assert queued | set(assigned) == set(ids), "a conversation was lost"
    for agent_id, members in loads.items():
        for c in members:
            assert await client.hget(keys.conversation(c), "agent_id") == agent_id
    return len(assigned)


async def race(clients: tuple[aioredis.Redis, aioredis.Redis], tasks: int, agents: int) -> None:
    """Agents come online one by one while many assigners (each its own replica's) drain at once."""
    desks = [make_desk(clients[i % 2]) for i in range(tasks)]

    async def come_online(desk: Desk, agent_id: str) -> None:
        await desk.presence.set_status(agent_id, AgentStatus.ONLINE)
        await desk.assigner.on_agent_available(agent_id)

    work = [desk.assigner.drain(GROUPS[i % 2]) for i, desk in enumerate(desks)]
    arrivals = [come_online(desks[i % tasks], f"ag{i:02d}") for i in range(agents)]
    await asyncio.gather(*arrivals, *work)
    # the tasks may finish before the last arrivals; a final drain from two replicas settles it
    await asyncio.gather(*(d.assigner.drain(g) for d in desks[:2] for g in GROUPS))


@pytest.mark.parametrize(("max_concurrent", "expected"), [(10, 200), (5, 100)])
async def test_two_clients_never_double_assign(
    redis_client: aioredis.Redis, second_client: aioredis.Redis, max_concurrent: int, expected: int
) -> None:
    ids = await setup(make_desk(redis_client), conversations=200, agents=20, max_concurrent=max_concurrent)
    await race((redis_client, second_client), tasks=16, agents=20)
    assert await check(redis_client, ids, agents=20, max_concurrent=max_concurrent) == expected


async def test_releases_racing_with_assignment(
    redis_client: aioredis.Redis, second_client: aioredis.Redis
) -> None:
    one, two = make_desk(redis_client), make_desk(second_client)
    ids = await setup(one, conversations=200, agents=20, max_concurrent=3)
    for i in range(20):
        await one.presence.set_status(f"ag{i:02d}", AgentStatus.ONLINE)
    first = await one.assigner.drain("sales") + await one.assigner.drain("billing")
    assert len(first) == 60
    # every agent closes their conversations on one replica while the other keeps draining
    closes = [
        (one if i % 2 else two).assigner.release(a.agent_id, a.conversation_id) for i, a in enumerate(first)
    ]
    await asyncio.gather(*closes, *(two.assigner.drain(g) for g in GROUPS for _ in range(10)))
    remaining = [c for c in ids if c not in {a.conversation_id for a in first}]
    assert await check(redis_client, remaining, agents=20, max_concurrent=3) == 60


async def test_two_processes_never_double_assign(redis_client: aioredis.Redis, redis_url: str) -> None:
    desk = make_desk(redis_client)
    ids = await setup(desk, conversations=200, agents=20, max_concurrent=7)
    for i in range(20):
        await desk.presence.set_status(f"ag{i:02d}", AgentStatus.ONLINE)
    go = f"test:go:{uuid.uuid4().hex}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.handoff.replica", redis_url, go, "12", *GROUPS],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        await asyncio.sleep(0.5)  # both connected and blocked on the start signal
        await redis_client.rpush(go, *["go"] * len(procs))
        outputs = [await asyncio.to_thread(p.communicate, timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs)
    counts = [int(out.strip()) for out, _ in outputs]
    assert sum(counts) == 140
    assert await check(redis_client, ids, agents=20, max_concurrent=7) == 140
