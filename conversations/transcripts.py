"""Read side of conversations for customers: only their own conversation, never notes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from conversations.tables import Conversation, Message
from conversations.views import view_of
from core.errors import NotFound
from core.types import Transcript
from handoff.tables import User


class SqlTranscripts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        position: Callable[[str], Awaitable[int | None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._position = position  # the live queue position (Redis), while queued

    async def known(self, channel: str, channel_user_id: str, retrying: str = "") -> bool:
        """Whether this channel user has written before (a visitor's first contact has no
        conversation). A first message sent again (``retrying``: its client id) is not "before":
        its answer, with the visitor's token, may have been lost to an error."""
        async with self._sessions() as session:
            found = await session.execute(
                select(Conversation.id, Message.client_message_id)
                .outerjoin(Message, Message.conversation_id == Conversation.id)
                .where(Conversation.channel == channel, Conversation.channel_user_id == channel_user_id)
                .order_by(Message.id)
                .limit(1)
            )
            first = found.first()
        if first is None:
            return False
        return not (retrying and first.client_message_id == retrying)

    async def for_customer(
        self, conversation_id: str, channel: str, channel_user_id: str, after: int
    ) -> Transcript:
        async with self._sessions() as session:
            try:
                conv = await repo.get_conversation(session, conversation_id)
            except NotFound:
                conv = None
            # The same answer for "missing" and "someone else's": existence is not leaked.
            if conv is None or conv.channel != channel or conv.channel_user_id != channel_user_id:
                raise NotFound("conversation not found", code="conversation_not_found")
            messages = await repo.messages_after(session, conversation_id, after)
            agent = None
            if conv.state == "agent" and conv.assigned_agent_id is not None:
                agent = await session.get(User, conv.assigned_agent_id)
        position = None
        if conv.state == "queued" and self._position is not None:
            position = await self._position(conv.id)
        name = (agent.display_name or agent.username) if agent is not None else ""
        return Transcript(conv.id, conv.state, tuple(view_of(m) for m in messages), position, name)
