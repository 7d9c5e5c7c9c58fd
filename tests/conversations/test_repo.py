"""Conversation storage on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from core.types import LAST_MESSAGE_ID
from tests.tickets.db import conversation_with


async def test_nothing_follows_the_last_message_id(
    each_database: async_sessionmaker[AsyncSession],
) -> None:
    """PostgreSQL refused "messages after 2**62" (an INTEGER column), which the customer socket asked."""
    async with each_database.begin() as session:
        conv = await conversation_with(session, "c1", "包裹丢了")
        first = await repo.messages_after(session, conv.id, 0)
        assert [m.text for m in first] == ["包裹丢了"]
        assert await repo.messages_after(session, conv.id, LAST_MESSAGE_ID) == []
        assert await repo.messages_after(session, conv.id, 2**62) == []
