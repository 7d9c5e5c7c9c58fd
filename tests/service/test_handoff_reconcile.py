"""Redis follows committed SQL: the reconciler rebuilds queues, assignments and agent loads from
the database (real Redis, real SQLite, the app's own wiring), at start-up and by command."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import delete, func, select

from conversations import keys as conversation_keys
from conversations.reconcile import reconcile_once
from conversations.tables import Conversation, Message, QueueEntryRecord
from handoff import keys
from handoff.model import AgentStatus, Assignment, QueueEntry
from handoff.routing import Rule
from handoff.tables import User
from service.app import create_app
from service.commands import handoff as handoff_command
from service.deps import Deps
from tests.service.conftest import OPEN_HOUR, ScriptedBot, make_deps
from tests.service.test_agent_api import say, staff_member
from tests.support.processes import free_port, redis_server


@pytest.fixture(autouse=True)
def one_queue_ticking_clock(deps: Deps) -> None:
    one_queue_with_a_ticking_clock(deps)


def one_queue_with_a_ticking_clock(deps: Deps) -> None:
    """One group, and each handoff a second after the one before (a known queue order)."""
    ticks = itertools.count()
    deps.desk.routing.rules = (Rule(group="general"),)
    deps.desk.routing.clock = lambda: OPEN_HOUR + next(ticks)


async def user_id(deps: Deps, name: str) -> str:
    async with deps.sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == name))
    return str(found)


async def agent_online(deps: Deps, client: SanicASGITestClient, name: str, seats: int) -> tuple[str, Any]:
    headers = await staff_member(client, deps, name, skills=["general"], max_concurrent=seats)
    _, resp = await client.put("/api/agent/status", json={"status": "online"}, headers=headers)
    assert resp.status == 200, resp.text
    return await user_id(deps, name), headers


async def handed_off(client: SanicASGITestClient, visitor: str) -> str:
    body = await say(client, visitor, "帮我写一首诗")
    assert body["state"] in ("queued", "agent")
    conv: str = body["conversation_id"]
    return conv


async def states(deps: Deps) -> dict[str, tuple[str, int | None]]:
    async with deps.sessions() as session:
        rows = (
            await session.execute(select(Conversation.id, Conversation.state, Conversation.assigned_agent_id))
        ).all()
    return {conv_id: (state, agent) for conv_id, state, agent in rows}


async def load(deps: Deps, agent_id: str) -> set[str]:
    return {str(m) for m in await deps.redis.smembers(keys.load(agent_id))}


async def queued_ids(deps: Deps) -> list[str]:
    return [e.conversation_id for e in await deps.desk.queue.head("general", 50)]


async def test_flushed_redis_comes_back_in_order_with_the_right_loads(
    client: SanicASGITestClient, deps: Deps
) -> None:
    alice, alice_headers = await agent_online(deps, client, "alice", seats=2)
    first, second = [await handed_off(client, f"c{n}") for n in (1, 2)]
    third, fourth = [await handed_off(client, f"c{n}") for n in (3, 4)]
    assert await load(deps, alice) == {first, second}
    assert await queued_ids(deps) == [third, fourth]
    entries = {c: await deps.desk.queue.entry(c) for c in (third, fourth)}

    await deps.redis.flushdb()  # Redis lost everything (no AOF, a failover, an operator)
    report = await deps.reconciler().run()

    assert sorted(report.requeued) == sorted([third, fourth])
    assert sorted(report.reassigned) == sorted([(first, alice), (second, alice)])
    assert await queued_ids(deps) == [third, fourth]  # the original order
    assert {c: await deps.desk.queue.entry(c) for c in (third, fourth)} == entries  # same entries
    assert await load(deps, alice) == {first, second}
    assert await deps.desk.queue.assigned_agent(first) == alice

    # Sessions and presence are not in SQL: alice logs in again and sets her status; both her
    # seats are taken, so nobody else is assigned to her.
    _, resp = await client.post("/api/auth/login", json={"username": "alice", "password": "long-enough-pw"})
    alice_headers = {"Authorization": f"Bearer {resp.json['token']}"}
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice_headers)
    assert await queued_ids(deps) == [third, fourth]
    _, resp = await client.post(f"/api/agent/conversations/{first}/close", headers=alice_headers)
    assert resp.status == 200
    assert (await states(deps))[third] == ("agent", int(alice))  # the head of the queue, next
    assert await load(deps, alice) == {second, third}
    assert await queued_ids(deps) == [fourth]
    assert (await deps.reconciler().run()).repaired == 0  # nothing left to repair


async def test_a_handoff_whose_enqueue_was_lost_is_queued_by_the_reconciler(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lost(entry: QueueEntry) -> int:
        raise RedisConnectionError("the process died between the commit and the enqueue")

    monkeypatch.setattr(deps.desk.queue, "enqueue", lost)
    body = await say(client, "late", "帮我写一首诗")
    conv = body["conversation_id"]
    assert body["state"] == "queued"
    assert any("第 1 位" in r["text"] for r in body["replies"])  # the committed position
    assert await deps.desk.queue.entry(conv) is None  # Redis never heard of it
    monkeypatch.undo()

    alice, _ = await agent_online(deps, client, "alice", seats=1)
    assert (await states(deps))[conv] == ("queued", None)  # nobody can serve what is not queued

    report = await deps.reconciler().run()
    assert report.requeued == [conv] and report.assigned == 1  # queued, then drained
    assert (await states(deps))[conv] == ("agent", int(alice))
    assert await load(deps, alice) == {conv}


async def test_a_failed_assignment_mirror_gives_the_seat_back(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = await handed_off(client, "c1")
    before = await deps.desk.queue.entry(conv)
    await staff_member(client, deps, "alice", skills=["general"], max_concurrent=1)
    alice = await user_id(deps, "alice")
    await deps.desk.presence.register(alice, ["general"], 1)
    await deps.desk.presence.set_status(alice, AgentStatus.ONLINE)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr("conversations.desk.assignments.repo.transition", broken)
    with pytest.raises(RuntimeError):
        await deps.desk.assignments.agent_available(alice)
    monkeypatch.undo()

    assert await load(deps, alice) == set()  # the claim was undone: the seat is free
    assert await deps.desk.queue.entry(conv) == before  # back in its place, same entry
    assert await deps.desk.queue.position(conv) == 1
    assert (await states(deps))[conv] == ("queued", None)

    await deps.desk.assignments.agent_available(alice)  # the database is back
    assert (await states(deps))[conv] == ("agent", int(alice))
    assert await load(deps, alice) == {conv}


async def test_applying_a_claim_twice_mirrors_it_once(client: SanicASGITestClient, deps: Deps) -> None:
    alice, _ = await agent_online(deps, client, "alice", seats=2)
    conv = await handed_off(client, "c1")
    assert (await states(deps))[conv] == ("agent", int(alice))
    # the same claim again (a retried drain): no second transition or "agent joined" notice
    await deps.desk.assignments.apply([Assignment(conv, alice, "general", OPEN_HOUR)])
    async with deps.sessions() as session:
        notices = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conv, Message.sender == "system")
        )
    assert notices == 1  # one "agent joined"; taken at once, so no queue position was told
    assert await load(deps, alice) == {conv}


async def test_a_claim_for_a_conversation_no_longer_waiting_frees_the_seat(
    client: SanicASGITestClient, deps: Deps
) -> None:
    conv = await handed_off(client, "c1")
    await staff_member(client, deps, "alice", skills=["general"], max_concurrent=1)
    alice = await user_id(deps, "alice")
    await deps.desk.presence.register(alice, ["general"], 1)
    await deps.desk.presence.set_status(alice, AgentStatus.ONLINE)
    claim = await deps.desk.assignments.assigner.assign_next("general")  # claimed in Redis ...
    assert claim is not None and await load(deps, alice) == {conv}
    async with deps.sessions.begin() as session:  # ... while the customer's thread was closed
        closing = await session.get(Conversation, conv)
        assert closing is not None
        closing.state = "closed"
    await deps.desk.assignments.apply([claim])
    assert await load(deps, alice) == set()
    assert (await states(deps))[conv] == ("closed", None)
    assert not await deps.redis.exists(keys.conversation(conv))


async def test_stale_records_are_removed_and_loads_follow_sql(
    client: SanicASGITestClient, deps: Deps
) -> None:
    alice, _ = await agent_online(deps, client, "alice", seats=3)
    kept, closed = [await handed_off(client, f"c{n}") for n in (1, 2)]
    async with deps.sessions.begin() as session:  # closed in SQL; Redis never told (a crash)
        conv = await session.get(Conversation, closed)
        assert conv is not None
        conv.state = "closed"
    await deps.redis.sadd(keys.load(alice), "ghost")  # a seat counting a conversation nobody has
    await deps.redis.zadd(keys.queue("general"), {"phantom": 1})

    report = await deps.reconciler().run()
    assert sorted(report.removed) == sorted([closed, "ghost", "phantom"])
    assert await load(deps, alice) == {kept}
    assert await deps.redis.zcard(keys.queue("general")) == 0
    assert not await deps.redis.exists(keys.conversation(closed))


async def test_a_record_changed_after_the_look_is_not_overwritten(
    client: SanicASGITestClient, deps: Deps
) -> None:
    conv = await handed_off(client, "c1")
    reconciler = deps.reconciler()
    assert await reconciler.plan() == {}
    await deps.desk.queue.cancel(conv)  # drift
    plan = await reconciler.plan()
    assert list(plan) == [conv] and plan[conv].seen.state == ""
    await deps.desk.queue.enqueue(QueueEntry(conv, "other"))  # another replica moved it meanwhile
    assert not await reconciler.repair.reset(conv, plan[conv].seen, plan[conv].wanted, OPEN_HOUR)
    moved = await deps.desk.queue.entry(conv)
    assert moved is not None and moved.group == "other"
    report = await reconciler.run()  # seen the same way twice now: SQL's group wins
    assert report.requeued == [conv]
    assert await queued_ids(deps) == [conv] and await deps.desk.queue.length("other") == 0


async def test_a_conversation_queued_before_entries_were_recorded(
    client: SanicASGITestClient, deps: Deps
) -> None:
    deps.desk.routing.rules = (Rule(group="vip"),)
    conv = await handed_off(client, "c1")
    async with deps.sessions.begin() as session:  # as if handed off before migration 0005
        await session.execute(delete(QueueEntryRecord))
    assert (await deps.reconciler().run()).repaired == 0  # Redis's own entry is kept as it is
    assert await deps.desk.queue.position(conv) == 1
    await deps.redis.flushdb()
    report = await deps.reconciler().run()
    assert report.requeued == [conv]
    entry = await deps.desk.queue.entry(conv)
    assert entry is not None and entry.group == "general"  # the default group, since SQL knows no other


async def test_start_up_reconciles_once_under_a_lock(client: SanicASGITestClient, deps: Deps) -> None:
    conv = await handed_off(client, "c1")
    await deps.redis.flushdb()
    lock = deps.redis.lock(conversation_keys.reconcile_lock(), timeout=30)
    assert await lock.acquire()
    assert await reconcile_once(deps.reconciler(), deps.redis) is None  # another replica is at it
    await lock.release()

    deps.reconcile_at_start = True
    await client.get("/healthz")  # the test client runs the start-up listeners
    assert await queued_ids(deps) == [conv]


async def test_the_command_prints_what_it_repaired(
    client: SanicASGITestClient, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    conv = await handed_off(client, "c1")
    await deps.redis.flushdb()
    parser = argparse.ArgumentParser(prog="kefu")
    handoff_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["handoff", "reconcile", "--settle", "0"])
    assert await handoff_command.run(args, deps.settings) == 0
    out = capsys.readouterr().out
    assert f"requeued 1 conversation(s): {conv}" in out
    assert "assigned 0 waiting conversation(s)" in out
    assert await queued_ids(deps) == [conv]
    assert await handoff_command.run(args, deps.settings) == 0
    assert "nothing to repair" in capsys.readouterr().out


async def test_a_restarted_redis_keeps_queues_assignments_and_loads(tmp_path: Path, bot: ScriptedBot) -> None:
    """Redis restarted (AOF, fsync always, as `make run` configures it but stricter): queues,
    assignments and loads are as they were, the reconciler finds nothing to repair, and the
    service goes on without a restart of its own."""
    port = free_port()
    with redis_server(tmp_path / "redis", port) as url:
        deps = make_deps(tmp_path, url, bot)
        Sanic.test_mode = True
        client = create_app(deps, name=f"kefu_restart_{id(deps)}").asgi_client
        one_queue_with_a_ticking_clock(deps)
        alice, _ = await agent_online(deps, client, "alice", seats=1)
        first, second = [await handed_off(client, f"r{n}") for n in (1, 2)]
        before = (await load(deps, alice), await queued_ids(deps))
        assert before == ({first}, [second])
    with redis_server(tmp_path / "redis", port):  # the same data directory and address
        assert (await load(deps, alice), await queued_ids(deps)) == before
        assert await deps.desk.queue.assigned_agent(first) == alice
        assert (await deps.reconciler().run()).repaired == 0
        third = await handed_off(client, "r3")  # the service carries on
        assert await queued_ids(deps) == [second, third]
        await deps.close()
