"""SQL of tickets on a real migrated database: numbers under concurrency, UTC round trips, hours.

The parametrised tests run on SQLite and, marked ``postgres``, on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import tickets as service
from tests.tickets.db import conversation_with
from tests.tickets.schedules import office, sh
from tickets import store
from tickets.group_hours import DEFAULT_SCHEDULE, load_group_hours, save_group_hours
from tickets.model import Status, TicketChange
from tickets.numbers import day_prefix, format_number, next_sequence
from tickets.schedule_file import schedule_from_dict
from tickets.tables import Ticket

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def db(each_database: Sessions) -> Sessions:
    return each_database


def test_number_format_and_the_beijing_day() -> None:
    assert day_prefix(datetime(2025, 9, 30, 16, 30, tzinfo=UTC)) == "T20251001-"  # 00:30 in Beijing
    assert format_number("T20251001-", 7) == "T20251001-0007"
    assert next_sequence("T20251001-", None) == 1
    assert next_sequence("T20251001-", "T20251001-9999") == 10000
    assert format_number("T20251001-", 10000) == "T20251001-10000"


async def test_concurrent_tickets_get_distinct_numbers(db: Sessions) -> None:
    async with db.begin() as session:
        convs = [await conversation_with(session, f"c{i}", f"问题 {i}") for i in range(6)]

    async def create(index: int) -> str:
        async with db.begin() as session:
            conv = await session.merge(convs[index])
            view = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 10, 13, 10))
            await asyncio.sleep(0)  # let the others interleave before the commit
            return view.number

    numbers = await asyncio.gather(*(create(i) for i in range(6)))
    assert sorted(numbers) == [f"T20251013-{n:04d}" for n in range(1, 7)]


async def test_datetimes_come_back_as_the_same_instants(db: Sessions) -> None:
    created = sh(2025, 9, 30, 20)
    async with db.begin() as session:
        conv = await conversation_with(session, "tz", "hello")
        view = await service.create_ticket_from_conversation(session, conv, now=created)
    async with db() as session:
        ticket = await store.get_ticket(session, view.number)
        assert store.aware(ticket.created_at) == created
        assert store.maybe_aware(ticket.first_response_due) == sh(2025, 10, 9, 12)


async def test_sequence_passes_9999(db: Sessions) -> None:
    async with db.begin() as session:
        conv = await conversation_with(session, "big", "hello")
        view = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 10, 13, 10))
        ticket = await store.get_ticket(session, view.number)
        ticket.number = "T20251013-9999"
    async with db.begin() as session:
        conv = await conversation_with(session, "big2", "hello")
        after = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 10, 13, 11))
    assert after.number == "T20251013-10000"


async def test_tickets_due_and_recorded_alerts(db: Sessions) -> None:
    async with db.begin() as session:
        conv = await conversation_with(session, "due", "hello")
        early = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 10, 13, 10))
        conv2 = await conversation_with(session, "later", "hello")
        await service.create_ticket_from_conversation(session, conv2, now=sh(2025, 10, 13, 13))
        conv3 = await conversation_with(session, "waiting", "hello")
        waiting = await service.create_ticket_from_conversation(session, conv3, now=sh(2025, 10, 13, 10))
        await service.update_ticket(
            session, waiting.number, TicketChange(status=Status.PENDING), actor="a", now=sh(2025, 10, 13, 10)
        )
    async with db() as session:
        due = await store.tickets_due(session, sh(2025, 10, 13, 14))
        assert [t.number for t in due] == [early.number]  # the pending one's clock stands still
        assert await store.alerts_recorded(session, [t.id for t in due]) == set()
        ticket = due[0]
        store.add_event(
            session,
            ticket,
            store.SLA_ALERT,
            "system",
            {"target": "first_response", "level": "at_risk"},
            sh(2025, 10, 13, 13, 40),
        )
        await session.flush()
        assert await store.alerts_recorded(session, [ticket.id]) == {(ticket.id, "first_response", "at_risk")}


async def test_business_hours_round_trip_and_default(db: Sessions) -> None:
    async with db() as session:
        default = await load_group_hours(session, "general")
    assert not default.configured and default.schedule == schedule_from_dict(DEFAULT_SCHEDULE)
    async with db.begin() as session:
        await save_group_hours(session, "vip", office(), "queue", "国庆放假", sh(2025, 9, 1))
    async with db.begin() as session:  # saving again replaces the row
        await save_group_hours(session, "vip", office(), "bot_only", "国庆放假！", sh(2025, 9, 2))
    async with db() as session:
        stored = await load_group_hours(session, "vip")
        row = await store.get_business_hours(session, "vip")
    assert stored.configured and stored.schedule == office()
    assert (stored.after_hours_mode, stored.announcement) == ("bot_only", "国庆放假！")
    assert row is not None and store.aware(row.updated_at) == sh(2025, 9, 2)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        store.to_db(datetime(2025, 1, 1))
    assert store.aware(datetime(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
    assert store.to_db(sh(2025, 1, 1, 8)) == datetime(2025, 1, 1, tzinfo=UTC) + timedelta(0)
    assert Ticket.__tablename__ == "tickets"
