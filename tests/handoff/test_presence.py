"""Presence on real Redis: status, online sets, heartbeats and the sweep."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from core.errors import NotFound, ValidationFailed
from handoff.model import AgentStatus
from handoff.presence import PresenceConfig
from tests.handoff.conftest import Desk, FakeClock, make_desk

ONLINE, AWAY, OFFLINE = AgentStatus.ONLINE, AgentStatus.AWAY, AgentStatus.OFFLINE


async def ids(desk: Desk, group: str | None) -> list[str]:
    return sorted(a.agent_id for a in await desk.presence.candidates(group))


async def test_new_agent_starts_offline_and_joins_groups_when_online(desk: Desk) -> None:
    assert await desk.presence.register("a1", ["sales", "billing"], 4) is OFFLINE
    assert await ids(desk, "sales") == []
    assert await desk.presence.set_status("a1", ONLINE) is OFFLINE
    assert await ids(desk, "sales") == ["a1"]
    assert await ids(desk, "billing") == ["a1"]
    assert await ids(desk, None) == ["a1"]
    view = await desk.presence.get("a1")
    assert view is not None
    assert (view.status, view.skills, view.max_concurrent, view.load) == (
        ONLINE,
        frozenset({"sales", "billing"}),
        4,
        0,
    )


async def test_away_and_offline_leave_the_online_sets(desk: Desk) -> None:
    await desk.agent("a1", ["sales"])
    await desk.agent("a2", ["sales"])
    await desk.presence.set_status("a1", AWAY)
    await desk.presence.set_status("a2", OFFLINE)
    assert await ids(desk, "sales") == []
    assert await ids(desk, None) == []
    view = await desk.presence.get("a1")
    assert view is not None and view.status is AWAY


async def test_changing_groups_of_an_online_agent_moves_them(desk: Desk) -> None:
    await desk.agent("a1", ["sales"])
    assert await desk.presence.register("a1", ["billing"], 2) is ONLINE
    assert await ids(desk, "sales") == []
    assert await ids(desk, "billing") == ["a1"]


async def test_unknown_agents_and_bad_names(desk: Desk) -> None:
    with pytest.raises(NotFound):
        await desk.presence.set_status("ghost", ONLINE)
    with pytest.raises(NotFound):
        await desk.presence.heartbeat("ghost")
    assert await desk.presence.get("ghost") is None
    with pytest.raises(ValidationFailed):
        await desk.presence.register("a1", ["a,b"], 1)
    with pytest.raises(ValidationFailed):
        await desk.presence.register("a1", ["sales"], -1)


async def test_expired_heartbeat_turns_away_after_the_grace_period(redis_client: aioredis.Redis) -> None:
    clock = FakeClock()
    desk = make_desk(redis_client, clock, presence_config=PresenceConfig(heartbeat_ttl=30, grace=20))
    await desk.agent("a1", ["sales"])
    await desk.agent("a2", ["sales"])
    clock.advance(40)
    await desk.presence.heartbeat("a2")
    assert await desk.presence.sweep_presence(clock.now + 9) == []  # a1: 49 s, within ttl + grace
    assert await desk.presence.sweep_presence(clock.now + 11) == ["a1"]  # a1: 51 s
    assert await desk.presence.sweep_presence(clock.now + 11) == []  # idempotent
    assert await ids(desk, "sales") == ["a2"]
    view = await desk.presence.get("a1")
    assert view is not None and view.status is AWAY


async def test_heartbeat_brings_back_an_auto_away_agent_but_not_a_chosen_away(
    redis_client: aioredis.Redis,
) -> None:
    clock = FakeClock()
    desk = make_desk(redis_client, clock, presence_config=PresenceConfig(heartbeat_ttl=10, grace=5))
    await desk.agent("auto", ["sales"])
    await desk.agent("chose", ["sales"])
    await desk.presence.set_status("chose", AWAY)
    clock.advance(100)
    assert await desk.presence.sweep_presence() == ["auto"]
    assert await desk.presence.heartbeat("auto") is True
    assert await desk.presence.heartbeat("chose") is False
    assert await ids(desk, "sales") == ["auto"]


async def test_offline_agents_are_not_swept(redis_client: aioredis.Redis) -> None:
    clock = FakeClock()
    desk = make_desk(redis_client, clock, presence_config=PresenceConfig(heartbeat_ttl=1, grace=1))
    await desk.agent("a1", ["sales"])
    await desk.presence.set_status("a1", OFFLINE)
    clock.advance(100)
    assert await desk.presence.sweep_presence() == []
    view = await desk.presence.get("a1")
    assert view is not None and view.status is OFFLINE
