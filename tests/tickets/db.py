"""Helpers for the SQL ticket tests: a conversation with messages, as the switchboard stores them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repo as conversations
from conversations.tables import Conversation, Customer


async def conversation_with(
    session: AsyncSession,
    user: str,
    *texts: str,
    channel: str = "web",
    tier: str = "normal",
) -> Conversation:
    """A conversation of ``user`` on ``channel`` with the customer's messages ``texts``."""
    conv = await conversations.current_conversation(
        session, channel=channel, channel_user_id=user, entry_point="", lang="zh"
    )
    customer = await session.get(Customer, conv.customer_id)
    assert customer is not None
    customer.tier = tier
    for text in texts:
        conversations.add_message(session, conv.id, "customer", text)
    await session.flush()
    return conv
