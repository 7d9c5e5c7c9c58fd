"""SLA alerts with real SQLite and a real Redis: at risk, then breached, each published once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import tickets as service
from conversations.repo import add_message
from tests.tickets.db import conversation_with
from tests.tickets.schedules import sh
from tickets import keys
from tickets.alerts import run_sla_sweeper, sweep_sla
from tickets.model import Status, TicketChange

Sessions = async_sessionmaker[AsyncSession]
WARN = timedelta(minutes=10)


@pytest.fixture
async def alerts(redis_client: aioredis.Redis) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Every alert published on the supervisors' channel, in order."""
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(keys.sla_alerts())
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen() -> None:
        async for item in pubsub.listen():
            if item["type"] == "message":
                await received.put(json.loads(item["data"]))

    task = asyncio.create_task(listen())
    try:
        yield received
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pubsub.aclose()


async def drain(queue: asyncio.Queue[dict[str, Any]], expected: int) -> list[dict[str, Any]]:
    """The ``expected`` next alerts, then whatever else already arrived (a ping round-trip later)."""
    items = [await asyncio.wait_for(queue.get(), timeout=5) for _ in range(expected)]
    await asyncio.sleep(0.05)
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def ticket(sessions: Sessions, user: str, created: datetime) -> str:
    async with sessions.begin() as session:
        conv = await conversation_with(session, user, "帮帮我")
        view = await service.create_ticket_from_conversation(session, conv, now=created, priority="urgent")
    return view.number  # urgent: first response 30 min, resolution 4 h of open time


async def test_at_risk_then_breached_each_fire_once(
    sessions: Sessions, redis_client: aioredis.Redis, alerts: asyncio.Queue[dict[str, Any]]
) -> None:
    number = await ticket(sessions, "a", sh(2025, 10, 13, 10))
    assert await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 10, 1), WARN) == []
    risk = await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 10, 25), WARN)
    assert [(a.number, a.target, a.level) for a in risk] == [(number, "first_response", "at_risk")]
    assert await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 10, 26), WARN) == []  # not twice
    breached = await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 10, 30), WARN)
    assert [(a.target, a.level) for a in breached] == [("first_response", "breached")]
    assert await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 11), WARN) == []
    published = await drain(alerts, 2)
    assert [(p["ticket"], p["target"], p["level"]) for p in published] == [
        (number, "first_response", "at_risk"),
        (number, "first_response", "breached"),
    ]
    assert datetime.fromisoformat(published[1]["due"]) == sh(2025, 10, 13, 10, 30)
    async with sessions() as session:
        detail = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 11))
    recorded = [e.data for e in detail.events if e.kind == "sla_alert"]
    assert [(d["target"], d["level"]) for d in recorded] == [
        ("first_response", "at_risk"),
        ("first_response", "breached"),
    ]


async def test_answered_and_pending_tickets_are_quiet(
    sessions: Sessions, redis_client: aioredis.Redis
) -> None:
    answered = await ticket(sessions, "b", sh(2025, 10, 13, 10))
    waiting = await ticket(sessions, "c", sh(2025, 10, 13, 10))
    async with sessions.begin() as session:
        await service.reply(
            session, answered, "在的", actor="staff:a", now=sh(2025, 10, 13, 10, 10), sink=_Sink()
        )
        await service.update_ticket(
            session,
            waiting,
            TicketChange(status=Status.PENDING),
            actor="staff:a",
            now=sh(2025, 10, 13, 10, 10),
        )
    # 13:55: the answered ticket's resolution (14:00) is at risk; its first response is met.
    fired = await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 13, 55), WARN)
    assert [(a.number, a.target, a.level) for a in fired] == [(answered, "resolution", "at_risk")]


async def test_a_sweep_in_progress_elsewhere_is_not_repeated(
    sessions: Sessions, redis_client: aioredis.Redis
) -> None:
    await ticket(sessions, "d", sh(2025, 10, 13, 10))
    await redis_client.set(keys.sla_sweep_lock(), "other-replica", ex=60)
    assert await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 11), WARN) == []
    await redis_client.delete(keys.sla_sweep_lock())
    assert len(await sweep_sla(sessions, redis_client, sh(2025, 10, 13, 11), WARN)) == 1


async def test_the_background_sweeper_publishes_and_stops(
    sessions: Sessions, redis_client: aioredis.Redis, alerts: asyncio.Queue[dict[str, Any]]
) -> None:
    number = await ticket(sessions, "e", sh(2025, 10, 13, 10))
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_sla_sweeper(
            stop, 0.01, session_factory=sessions, redis=redis_client, clock=lambda: sh(2025, 10, 13, 15)
        )
    )
    published = await drain(alerts, 2)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert sorted((p["ticket"], p["target"], p["level"]) for p in published) == [
        (number, "first_response", "breached"),
        (number, "resolution", "breached"),
    ]


class _Sink:
    def add(self, session: AsyncSession, conv: Any, sender: str, text: str, *, payload: Any = None) -> Any:
        return add_message(session, conv.id, sender, text, payload=payload)
