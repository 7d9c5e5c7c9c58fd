"""A group exists when a routing rule, saved business hours or a staff member's skills name it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.desk.groups import group_known
from handoff.staff import add_user
from tests.tickets.schedules import office
from tickets.group_hours import save_group_hours

Sessions = async_sessionmaker[AsyncSession]


async def test_groups_are_known_from_rules_hours_and_skills(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await save_group_hours(session, "letters", office(), "ticket", "", datetime.now(UTC))
        await add_user(session, "bea", "long-enough-pw", "agent", skills=["billing"])
    async with sessions() as session:
        assert await group_known(session, "vip", ["vip", "general"])
        assert await group_known(session, "letters", [])
        assert await group_known(session, "billing", [])
        assert not await group_known(session, "Billing", ["general"])
        assert not await group_known(session, "made-up", ["general"])
