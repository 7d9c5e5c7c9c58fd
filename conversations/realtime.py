"""Push of new conversation messages over Redis pub/sub, so any replica can serve the socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from conversations import keys
from conversations.tables import Message


def message_event(message: Message) -> dict[str, Any]:
    return {"type": "message", "message": message_json(message)}


def message_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
    buttons = (message.payload or {}).get("buttons")
    if buttons:
        data["buttons"] = buttons
    return data


class RedisEvents:
    """Only writer of the conversation event channels."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def message_added(self, conversation_id: str, message: Message) -> None:
        if message.sender == "note":
            return
        await self._client.publish(
            keys.conversation_events(conversation_id), json.dumps(message_event(message))
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
            await pubsub.aclose()  # type: ignore[no-untyped-call]
