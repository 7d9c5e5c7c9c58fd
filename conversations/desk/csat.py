"""Customer satisfaction: the rating a closed conversation asks for, from the widget's stars or
typed as "1".."5" / "/csat N" in any channel."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, CsatRating
from conversations.texts import text_for
from core.clock import utc_now
from core.errors import NotFound, ValidationFailed
from core.lang import lang_of
from core.types import ConversationState

MAX_COMMENT = 1000
CSAT_PATTERN = re.compile(r"^\s*(?:/csat\s*)?([1-5])\s*(?:星|stars?)?\s*$", re.IGNORECASE)


@dataclass
class Csat:
    sessions: async_sessionmaker[AsyncSession]

    async def take_rating(self, session: AsyncSession, conv: Conversation, text: str) -> str | None:
        """A closed conversation's "1".."5" (or the CSAT button) is a rating, not a new question:
        recorded in the caller's transaction; returns the thanks."""
        match = CSAT_PATTERN.match(text)
        if conv.state != ConversationState.CLOSED or match is None:
            return None
        await record(session, conv, int(match.group(1)), "")
        return text_for("csat_thanks", lang_of(conv.lang))

    async def rate(self, conversation_id: str, rating: int, comment: str) -> None:
        if not 1 <= rating <= 5:
            raise ValidationFailed("rating must be 1-5", code="invalid_rating")
        async with self.sessions.begin() as session:
            conv = await session.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound("conversation not found", code="conversation_not_found")
            await record(session, conv, rating, comment)


async def record(session: AsyncSession, conv: Conversation, rating: int, comment: str) -> None:
    """One rating per conversation, so a customer cannot stuff the figures: a later rating
    replaces the earlier (an upsert on the unique ``conversation_id``, atomic on SQLite and
    PostgreSQL alike)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "agent_id": conv.assigned_agent_id,
        "rating": rating,
        "comment": comment[:MAX_COMMENT],
        "created_at": utc_now(),
    }
    statement = insert(CsatRating).values(conversation_id=conv.id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["conversation_id"], set_=values))
