"""Canned replies: the texts agents insert with a ``/`` shortcut."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.tables import CannedReply


async def all_replies(sessions: async_sessionmaker[AsyncSession]) -> Sequence[CannedReply]:
    async with sessions() as session:
        rows = await session.scalars(select(CannedReply).order_by(CannedReply.shortcut))
        return rows.all()
