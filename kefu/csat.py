"""CSAT ratings: one per conversation, so a customer cannot stuff the figures; a later rating
replaces the earlier one (an upsert on the unique ``conversation_id``, atomic on SQLite and
PostgreSQL alike)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.models import CsatRating, utcnow

MAX_COMMENT = 1000


async def record_rating(
    session: AsyncSession, conversation_id: str, agent_id: int | None, rating: int, comment: str
) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "agent_id": agent_id,
        "rating": rating,
        "comment": comment[:MAX_COMMENT],
        "created_at": utcnow(),
    }
    statement = insert(CsatRating).values(conversation_id=conversation_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["conversation_id"], set_=values))
