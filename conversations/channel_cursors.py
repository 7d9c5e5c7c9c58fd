"""Channel sync cursors in SQL (table ``channel_cursors``, written only here): the
``core.cursors.CursorStore`` a connector resumes from when Redis has lost its cached copy."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import ChannelCursor
from store.base import utcnow


class SqlCursorStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, channel: str, account: str) -> str:
        async with self._sessions() as session:
            found = await session.scalar(
                select(ChannelCursor.cursor).where(
                    ChannelCursor.channel == channel, ChannelCursor.account == account
                )
            )
        return found or ""

    async def put(self, channel: str, account: str, cursor: str) -> None:
        if await self._update(channel, account, cursor):
            return
        try:
            async with self._sessions.begin() as session:
                session.add(ChannelCursor(channel=channel, account=account, cursor=cursor))
        except IntegrityError:  # another replica saved the first cursor of this account meanwhile
            await self._update(channel, account, cursor)

    async def accounts(self, channel: str) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ChannelCursor.account)
                .where(ChannelCursor.channel == channel)
                .order_by(ChannelCursor.account)
            )
        return list(rows.all())

    async def _update(self, channel: str, account: str, cursor: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ChannelCursor)
                .where(ChannelCursor.channel == channel, ChannelCursor.account == account)
                .values(cursor=cursor, updated_at=utcnow())
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]
