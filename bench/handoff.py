"""Handoff assignment and event fan-out on a real Redis, against naive baselines, in one run.

Starts a private redis-server (AOF on, ``--fsync everysec`` as ``make run`` runs it; Redis holds
live state that the reconciler rebuilds from SQL) and measures:
- assignment decision latency (p50/p99) with 5,000 queued conversations and 500 agents, for
  Kefu's path (pure ranking + one atomic Lua claim) and for a naive baseline (WATCH/MULTI
  read-then-write with retries), first with one assigner, then with 8 assigners on two clients
  (two replicas) draining the rest at once; both are checked for double assignment afterwards;
- event fan-out latency between two clients (publisher and subscriber connections standing in
  for two replicas) over pub/sub, against a baseline that polls a Redis list.

Absolute times on a shared machine are noise; the ratios are the figures to watch.

    .venv/bin/python -m bench.handoff
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bench.output import write_results
from handoff import codec, keys
from handoff.assigner import Assigner
from handoff.choose import rank
from handoff.events import Assigned, HandoffEvents, from_json, to_json
from handoff.model import AgentStatus, GroupPolicy, QueueEntry, Tier
from handoff.presence import Presence
from handoff.queue import HandoffQueue
from tests.support.processes import redis_server

GROUPS = [f"g{i}" for i in range(10)]
AssignFn = Callable[[str], Awaitable[bool]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def populate(client: aioredis.Redis, conversations: int, agents: int) -> None:
    await client.flushdb()
    presence, queue = Presence(client), HandoffQueue(client)
    for i in range(agents):  # each agent serves two neighbouring groups
        agent_id = f"ag{i:03d}"
        await presence.register(agent_id, [GROUPS[i % 10], GROUPS[(i + 1) % 10]], conversations // agents)
        await presence.set_status(agent_id, AgentStatus.ONLINE)
    start = time.time() - conversations
    for batch in range(0, conversations, 50):
        ids = range(batch, min(conversations, batch + 50))
        await asyncio.gather(*(queue.enqueue(_entry(i, agents, start)) for i in ids))


def _entry(i: int, agents: int, start: float) -> QueueEntry:
    return QueueEntry(
        conversation_id=f"c{i:05d}",
        group=GROUPS[i % 10],
        customer_id=f"cust{i}",
        tier=(Tier.S, Tier.A, Tier.NORMAL, Tier.NORMAL)[i % 4],
        enqueued_at=start + i,
        preferred_agent_id=f"ag{(i * 7) % agents:03d}" if i % 10 == 0 else "",
    )


def kefu_assign(client: aioredis.Redis) -> AssignFn:
    assigner = Assigner(client, Presence(client), HandoffQueue(client), events=HandoffEvents(client))

    async def assign(group: str) -> bool:
        return await assigner.assign_next(group) is not None

    return assign


def naive_assign(client: aioredis.Redis) -> AssignFn:
    """Read everything, choose in Python, write in MULTI under WATCH; retry when anything moved.

    Correct but optimistic: it watches the queue, the group's membership and every candidate's
    presence and load before reading them, so any concurrent change to those restarts it.
    """
    policy = GroupPolicy()

    async def assign(group: str) -> bool:
        async with client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    members = [str(m) for m in await client.smembers(keys.group_online(group))]
                    head = await client.zrange(keys.queue(group), 0, 0)
                    if not head:
                        return False
                    conv_key = keys.conversation(str(head[0]))
                    preferred = str(await client.hget(conv_key, "preferred_agent_id") or "")
                    watched = [keys.agent(a) for a in {*members, preferred} if a]
                    watched += [keys.load(a) for a in {*members, preferred} if a]
                    await pipe.watch(
                        keys.queue(group), keys.cursor(group), keys.group_online(group), *watched
                    )
                    if await pipe.zrange(keys.queue(group), 0, 0) != head:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        continue
                    fields = await pipe.hgetall(conv_key)
                    entry = codec.decode({str(k): str(v) for k, v in fields.items()})
                    agents = await Presence(client).candidates(group, [entry.preferred_agent_id])
                    cursor = await pipe.get(keys.cursor(group))
                    ranking = rank(entry, agents, policy, str(cursor) if cursor else None)
                    if ranking.best is None:
                        return False
                    agent_id = ranking.best
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.zrem(keys.queue(group), entry.conversation_id)
                    pipe.sadd(keys.load(agent_id), entry.conversation_id)
                    pipe.hset(
                        keys.conversation(entry.conversation_id),
                        mapping={"state": "assigned", "agent_id": agent_id},
                    )
                    if agent_id != ranking.sticky:
                        pipe.set(keys.cursor(group), agent_id)
                    await pipe.execute()
                    await HandoffEvents(client).publish(
                        Assigned(entry.conversation_id, agent_id, group, False, 0.0)
                    )
                    return True
                except WatchError:
                    continue

    return assign


async def timed_drain(assign: AssignFn, count: int, offset: int) -> list[float]:
    """Assign over the groups in turn; latency of each successful decision in ms."""
    latencies: list[float] = []
    empty: set[str] = set()
    i = offset
    while len(empty) < len(GROUPS) and len(latencies) < count:
        group = GROUPS[i % len(GROUPS)]
        i += 1
        if group in empty:
            continue
        start = time.perf_counter()
        ok = await assign(group)
        elapsed = (time.perf_counter() - start) * 1000
        if ok:
            latencies.append(elapsed)
        else:
            empty.add(group)
    return latencies


async def verify(client: aioredis.Redis, conversations: int, agents: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    over = 0
    for i in range(agents):
        members = await client.smembers(keys.load(f"ag{i:03d}"))
        over += len(members) > conversations // agents
        counts.update(str(m) for m in members)
    queued = sum([await client.zcard(keys.queue(g)) for g in GROUPS])
    return {
        "assigned": len(counts),
        "double_assigned": sum(1 for n in counts.values() if n > 1),
        "agents_over_max": over,
        "still_queued": queued,
    }


async def assignment_run(
    url: str, make: Callable[[aioredis.Redis], AssignFn], conversations: int, agents: int, decisions: int
) -> dict[str, Any]:
    """``decisions`` with one assigner, then ``3 * decisions`` by 8 assigners on two clients."""
    one = aioredis.Redis.from_url(url, decode_responses=True)
    two = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        await populate(one, conversations, agents)
        single = await timed_drain(make(one), decisions, 0)
        assigners = [make(one if i % 2 else two) for i in range(8)]
        start = time.perf_counter()
        share = 3 * decisions // len(assigners)
        parts = await asyncio.gather(*(timed_drain(a, share, i) for i, a in enumerate(assigners)))
        wall = time.perf_counter() - start
        concurrent = [x for part in parts for x in part]
        return {
            "single_p50_ms": percentile(single, 0.5),
            "single_p99_ms": percentile(single, 0.99),
            "concurrent_p50_ms": percentile(concurrent, 0.5),
            "concurrent_p99_ms": percentile(concurrent, 0.99),
            "concurrent_per_s": len(concurrent) / wall,
            **await verify(one, conversations, agents),
        }
    finally:
        await one.aclose()
        await two.aclose()


async def fanout_pubsub(url: str, rounds: int) -> list[float]:
    pub = aioredis.Redis.from_url(url, decode_responses=True)
    sub = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        async with HandoffEvents(sub).subscribe(agents=["ag000"]) as feed:
            latencies = []
            for i in range(rounds):
                await HandoffEvents(pub).publish(Assigned(f"c{i}", "ag000", "g0", False, time.perf_counter()))
                event = await feed.get(timeout=5)
                assert event is not None
                latencies.append((time.perf_counter() - event.at) * 1000)
            return latencies
    finally:
        await pub.aclose()
        await sub.aclose()


async def fanout_polling(url: str, rounds: int, interval: float) -> list[float]:
    """Baseline: the publisher appends to a list, the other replica polls it."""
    pub = aioredis.Redis.from_url(url, decode_responses=True)
    sub = aioredis.Redis.from_url(url, decode_responses=True)
    inbox = "bench:inbox"
    try:
        await pub.delete(inbox)
        latencies = []
        for i in range(rounds):
            await pub.rpush(inbox, to_json(Assigned(f"c{i}", "ag000", "g0", False, time.perf_counter())))
            while (raw := await sub.lpop(inbox)) is None:
                await asyncio.sleep(interval)
            latencies.append((time.perf_counter() - from_json(str(raw)).at) * 1000)
            await asyncio.sleep(interval * ((i * 7919) % 100) / 100)  # publish at varied poll phases
        return latencies
    finally:
        await pub.aclose()
        await sub.aclose()


async def run(conversations: int, agents: int, solo: int, rounds: int, fsync: str) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp,
        redis_server(Path(tmp) / "redis", fsync=fsync) as url,
    ):
        kefu = await assignment_run(url, kefu_assign, conversations, agents, solo)
        naive = await assignment_run(url, naive_assign, conversations, agents, solo)
        pubsub = await fanout_pubsub(url, rounds)
        polling = await fanout_polling(url, rounds // 4, 0.01)
    return {
        "setup": {
            "conversations": conversations,
            "agents": agents,
            "groups": len(GROUPS),
            "solo": solo,
            "appendfsync": fsync,
        },
        "assignment": {"kefu_atomic_lua": kefu, "naive_watch_multi": naive},
        "fanout": {
            "pubsub_p50_ms": percentile(pubsub, 0.5),
            "pubsub_p99_ms": percentile(pubsub, 0.99),
            "polling_10ms_p50_ms": percentile(polling, 0.5),
            "polling_10ms_p99_ms": percentile(polling, 0.99),
        },
    }


def table(result: dict[str, Any]) -> str:
    kefu, naive = result["assignment"]["kefu_atomic_lua"], result["assignment"]["naive_watch_multi"]
    rows = [f"{'assignment':<30}{'kefu (Lua claim)':>18}{'naive WATCH/MULTI':>20}{'naive/kefu':>12}"]
    for key in (
        "single_p50_ms",
        "single_p99_ms",
        "concurrent_p50_ms",
        "concurrent_p99_ms",
        "concurrent_per_s",
    ):
        ratio = naive[key] / kefu[key] if kefu[key] else float("nan")
        rows.append(f"{key:<30}{kefu[key]:>18.2f}{naive[key]:>20.2f}{ratio:>12.2f}")
    for key in ("assigned", "double_assigned", "agents_over_max", "still_queued"):
        rows.append(f"{key:<30}{kefu[key]:>18}{naive[key]:>20}")
    fan = result["fanout"]
    rows.append("")
    rows.append(f"{'fan-out (two connections)':<30}{'pub/sub':>18}{'poll list 10ms':>20}{'poll/pubsub':>12}")
    for q in ("p50", "p99"):
        a, b = fan[f"pubsub_{q}_ms"], fan[f"polling_10ms_{q}_ms"]
        rows.append(f"{q + '_ms':<30}{a:>18.3f}{b:>20.3f}{b / a:>12.1f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--solo", type=int, default=300, help="decisions with one assigner (then 3x by 8)")
    parser.add_argument("--rounds", type=int, default=1000, help="fan-out events")
    parser.add_argument(
        "--fsync", choices=("everysec", "always"), default="everysec", help="Redis appendfsync"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(run(args.conversations, args.agents, args.solo, args.rounds, args.fsync))
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(table(result))
    print(f"total {result['seconds']} s")
    write_results(result, "handoff.json")


if __name__ == "__main__":
    main()
