"""Staff and system messages to a customer: stored in the conversation, pushed to the customer's
sockets, and handed to the channel's sender (web needs none; app and WeCom push to the vendor).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repo
from conversations.tables import Conversation, Message
from core.types import Channel, OutboundMessage

log = logging.getLogger(__name__)


class ChannelSender(Protocol):
    """Delivers a stored message on a vendor channel; must be idempotent per message id."""

    async def send(self, message: OutboundMessage) -> None: ...


class EventPublisher(Protocol):
    async def message_added(self, conversation_id: str, message: Message) -> None: ...


class Outbound:
    def __init__(self, events: EventPublisher, senders: Mapping[str, ChannelSender] | None = None) -> None:
        self._events = events
        self._senders = dict(senders or {})

    def register(self, channel: Channel, sender: ChannelSender) -> None:
        self._senders[channel] = sender

    def add(
        self,
        session: AsyncSession,
        conv: Conversation,
        sender: str,
        text: str,
        *,
        payload: dict[str, Any] | None = None,
    ) -> Message:
        """Store the message in the caller's transaction; call ``deliver`` after the commit."""
        return repo.add_message(session, conv.id, sender, text, payload=payload)

    async def deliver(self, conv: Conversation, message: Message) -> bool:
        """Push a committed message to the customer (socket fan-out and the vendor channel).

        Never raises: the message is stored either way; False means the vendor channel refused
        or could not be reached (logged), so a caller can tell the agent.
        """
        await self._events.message_added(conv.id, message)
        channel_sender = self._senders.get(conv.channel)
        if message.sender == "note" or channel_sender is None:
            return True
        try:
            await channel_sender.send(
                OutboundMessage(
                    conversation_id=conv.id,
                    channel=Channel(conv.channel),
                    channel_user_id=conv.channel_user_id,
                    text=message.text,
                    sender="agent" if message.sender == "agent" else "system",
                    message_id=str(message.id),
                    entry_point=conv.entry_point,
                )
            )
        except Exception:
            log.exception("delivering message %s on %s failed", message.id, conv.channel)
            return False
        return True
