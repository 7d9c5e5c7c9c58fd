"""SQL repository for customers, conversations, messages and state transitions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import ChannelIdentity, Conversation, Customer, Message, StateTransition
from core.errors import NotFound
from core.types import LAST_MESSAGE_ID, ConversationState
from store.base import utcnow


def new_id() -> str:
    return uuid.uuid4().hex


async def resolve_customer(session: AsyncSession, channel: str, channel_user_id: str, lang: str) -> str:
    """The customer behind a channel identity, created on first contact."""
    found = await session.scalar(
        select(ChannelIdentity.customer_id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    )
    if found is not None:
        return found
    customer = Customer(id=new_id(), lang=lang)
    session.add(customer)
    await session.flush()  # the identity's foreign key needs the customer row first
    session.add(ChannelIdentity(customer_id=customer.id, channel=channel, channel_user_id=channel_user_id))
    await session.flush()
    return customer.id


async def current_conversation(
    session: AsyncSession,
    *,
    channel: str,
    channel_user_id: str,
    entry_point: str,
    lang: str,
    reopen: bool = True,
) -> Conversation:
    """The identity's latest conversation; a closed one goes back to the bot (same thread)
    unless ``reopen`` is false (the caller decides, e.g. after reading a CSAT rating)."""
    conv = await session.scalar(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.channel_user_id == channel_user_id)
        .order_by(Conversation.created_at.desc())
        .limit(1)
    )
    if conv is None:
        customer_id = await resolve_customer(session, channel, channel_user_id, lang)
        conv = Conversation(
            id=new_id(),
            customer_id=customer_id,
            channel=channel,
            channel_user_id=channel_user_id,
            entry_point=entry_point,
            state=ConversationState.BOT,
            lang=lang,
        )
        session.add(conv)
        await session.flush()
    elif reopen and conv.state == ConversationState.CLOSED:
        await transition(session, conv, ConversationState.BOT, reason="customer_returned", actor="customer")
    conv.lang = lang
    return conv


async def get_conversation(session: AsyncSession, conversation_id: str) -> Conversation:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound("conversation not found", code="conversation_not_found")
    return conv


async def transition(
    session: AsyncSession,
    conv: Conversation,
    to_state: ConversationState,
    *,
    reason: str,
    actor: str,
) -> None:
    """Change a conversation's state and log why and by whom."""
    session.add(
        StateTransition(
            conversation_id=conv.id,
            from_state=conv.state,
            to_state=to_state,
            reason=reason,
            actor=actor,
        )
    )
    conv.state = to_state
    conv.updated_at = utcnow()


async def find_client_message(
    session: AsyncSession, conversation_id: str, client_message_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.sender == "customer",
            Message.client_message_id == client_message_id,
        )
    )


def add_message(
    session: AsyncSession,
    conversation_id: str,
    sender: str,
    text: str,
    *,
    payload: dict[str, Any] | None = None,
    client_message_id: str | None = None,
    reply_to: int | None = None,
    bot_status: str = "none",
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        sender=sender,
        text=text,
        payload=payload or {},
        client_message_id=client_message_id,
        reply_to=reply_to,
        bot_status=bot_status,
    )
    session.add(message)
    return message


async def replies_to(session: AsyncSession, message_id: int) -> Sequence[Message]:
    result = await session.scalars(select(Message).where(Message.reply_to == message_id).order_by(Message.id))
    return result.all()


async def messages_after(
    session: AsyncSession,
    conversation_id: str,
    after: int,
    *,
    include_notes: bool = False,
    limit: int = 200,
) -> Sequence[Message]:
    if after >= LAST_MESSAGE_ID:  # nothing can follow it (and PostgreSQL refuses a larger integer)
        return []
    query = select(Message).where(Message.conversation_id == conversation_id, Message.id > after)
    if not include_notes:
        query = query.where(Message.sender != "note")
    result = await session.scalars(query.order_by(Message.id).limit(limit))
    return result.all()


async def customer_of(session: AsyncSession, conversation_id: str) -> str | None:
    """The id of the customer a conversation belongs to (None: no such conversation)."""
    conv = await session.get(Conversation, conversation_id)
    return conv.customer_id if conv is not None else None
