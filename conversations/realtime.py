"""Push of new conversation messages over Redis pub/sub, so any replica can serve the socket.

``SocketSender`` is the web channel's sender for the outbox: a message to a web customer is
published to the conversation's channel, which the widget's socket relays (the widget keeps
messages by id, so a second publish of the same message shows it once).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from conversations import keys
from conversations.tables import Message
from conversations.views import message_json, view_of
from core.types import MessageView, OutboundMessage
from core.types import message_json as view_json


def message_event(view: MessageView) -> dict[str, Any]:
    return {"type": "message", "message": view_json(view)}


class RedisEvents:
    """Only writer of the conversation event channels."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def message_added(self, conversation_id: str, message: Message) -> None:
        if message.sender == "note":
            return
        await self.publish(conversation_id, view_of(message))

    async def publish(self, conversation_id: str, view: MessageView) -> None:
        await self._client.publish(
            keys.conversation_events(conversation_id), json.dumps(message_event(view), ensure_ascii=False)
        )

    async def typing(self, conversation_id: str, sender: str) -> None:
        """Someone other than the customer is typing (the widget shows dots for a few seconds)."""
        await self._client.publish(
            keys.conversation_events(conversation_id), json.dumps({"type": "typing", "sender": sender})
        )

    async def subscribe(self, conversation_id: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._client.pubsub()
        await pubsub.subscribe(keys.conversation_events(conversation_id))
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()


class SocketSender:
    """The web channel's ``ChannelSender``: the customer's open sockets get the message."""

    def __init__(self, events: RedisEvents) -> None:
        self._events = events

    async def send(self, message: OutboundMessage) -> None:
        await self._events.publish(message.conversation_id, message.view())


__all__ = ["RedisEvents", "SocketSender", "message_event", "message_json"]
