"""Handoff events over Redis pub/sub, so a customer and an agent may sit on different replicas.

Channels (``handoff.keys``): one per agent (their console) and one per skill group (queue
watchers, position notices, supervisors). Payloads are JSON objects with a ``type`` field.
Pub/sub is fire-and-forget: state lives in Redis keys, and a console that (re)connects reads
its snapshot first, then follows the events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, fields
from types import TracebackType
from typing import Any, ClassVar

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from core.errors import ValidationFailed
from handoff import keys


@dataclass(frozen=True)
class Assigned:
    type: ClassVar[str] = "assigned"
    conversation_id: str
    agent_id: str
    group: str
    sticky: bool
    at: float


@dataclass(frozen=True)
class QueueChanged:
    """A group's queue changed; watchers re-read positions and lengths."""

    type: ClassVar[str] = "queue_changed"
    group: str
    conversation_id: str
    change: str  # enqueued | cancelled | assigned | transferred_in | transferred_out
    at: float


@dataclass(frozen=True)
class Transferred:
    type: ClassVar[str] = "transferred"
    conversation_id: str
    from_agent: str
    to_agent: str  # "" when moved to a group's queue
    to_group: str  # "" when moved straight to an agent
    at: float


@dataclass(frozen=True)
class Released:
    type: ClassVar[str] = "released"
    conversation_id: str
    agent_id: str
    at: float


@dataclass(frozen=True)
class NewMessage:
    """A customer message for the agent who owns the conversation."""

    type: ClassVar[str] = "new_message"
    conversation_id: str
    agent_id: str
    message_id: str
    sender: str
    text: str
    at: float


@dataclass(frozen=True)
class CustomerTyping:
    """The customer of an agent's conversation is typing (the console shows it for a few seconds)."""

    type: ClassVar[str] = "customer_typing"
    conversation_id: str
    agent_id: str
    at: float


HandoffEvent = Assigned | QueueChanged | Transferred | Released | NewMessage | CustomerTyping
_TYPES: dict[str, type[HandoffEvent]] = {
    cls.type: cls for cls in (Assigned, QueueChanged, Transferred, Released, NewMessage, CustomerTyping)
}


def to_json(event: HandoffEvent) -> str:
    return json.dumps({"type": event.type, **asdict(event)}, ensure_ascii=False)


def from_json(text: str | bytes) -> HandoffEvent:
    try:
        data = json.loads(text)
        cls = _TYPES[data["type"]]
        values = {f.name: data[f.name] for f in fields(cls)}
        return cls(**values)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("malformed handoff event", code="bad_event") from exc


def channels_for(event: HandoffEvent) -> tuple[str, ...]:
    match event:
        case Assigned():
            return (keys.agent_events(event.agent_id), keys.group_events(event.group))
        case QueueChanged():
            return (keys.group_events(event.group),)
        case Transferred():
            targets = [keys.agent_events(event.from_agent)] if event.from_agent else []
            if event.to_agent:
                targets.append(keys.agent_events(event.to_agent))
            if event.to_group:
                targets.append(keys.group_events(event.to_group))
            return tuple(targets)
        case Released() | NewMessage() | CustomerTyping():
            return (keys.agent_events(event.agent_id),)


class HandoffEvents:
    """The only publisher of the handoff event channels."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def publish(self, *events: HandoffEvent) -> None:
        """Publish events, in order, in one round trip."""
        async with self._client.pipeline(transaction=False) as pipe:
            for event in events:
                payload = to_json(event)
                for channel in channels_for(event):
                    pipe.publish(channel, payload)
            await pipe.execute()

    def subscribe(self, *, agents: Iterable[str] = (), groups: Iterable[str] = ()) -> Subscription:
        names = [keys.agent_events(a) for a in agents] + [keys.group_events(g) for g in groups]
        return Subscription(self._client.pubsub(), names)


class Subscription:
    """``async with events.subscribe(agents=[...]) as sub: async for event in sub: ...``

    The subscription is active when ``__aenter__`` returns, so nothing published afterwards is
    missed. Malformed payloads are skipped.
    """

    def __init__(self, pubsub: PubSub, channels: list[str]) -> None:
        if not channels:
            raise ValidationFailed("subscribe to at least one agent or group", code="no_channels")
        self._pubsub = pubsub
        self._channels = channels

    async def __aenter__(self) -> Subscription:
        await self._pubsub.subscribe(*self._channels)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._pubsub.unsubscribe()
        await self._pubsub.aclose()

    def __aiter__(self) -> AsyncIterator[HandoffEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[HandoffEvent]:
        while True:
            event = await self.get(timeout=None)
            if event is not None:
                yield event

    async def get(self, timeout: float | None = 1.0) -> HandoffEvent | None:
        """The next event, or None when ``timeout`` seconds pass without one (None: wait forever).

        Waits through redis-py's own timeout rather than cancelling a read, which would drop the
        connection and with it anything published meanwhile.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = 60.0 if deadline is None else deadline - loop.time()
            if left <= 0:
                return None
            item: dict[str, Any] | None = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=left
            )
            if item is None or item.get("type") != "message":
                continue
            try:
                return from_json(item["data"])
            except ValidationFailed:
                continue
