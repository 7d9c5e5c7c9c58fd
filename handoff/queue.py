"""The handoff queue of each skill group: enqueue, cancel, position, length, oldest wait.

Writes go through the Lua scripts of ``handoff.scripts``; everything lives in Redis (AOF on), so
a restarted or different replica sees the same queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis

from core.clock import Clock, system_clock
from core.errors import Conflict, ValidationFailed
from handoff import codec, keys
from handoff.events import HandoffEvents, QueueChanged
from handoff.model import GroupStats, QueueEntry, Tier
from handoff.scripts import Scripts, register


class HandoffQueue:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        clock: Clock = system_clock,
        events: HandoffEvents | None = None,
        scripts: Scripts | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._events = events
        self._scripts = scripts or register(client)

    async def enqueue(self, entry: QueueEntry) -> int:
        """Queue a conversation (or move it to ``entry.group``); returns its 1-based position.

        Enqueueing a conversation already queued in the same group keeps its place. ``enqueued_at``
        0 means now. Raises ``Conflict`` when the conversation is assigned to an agent.
        """
        _check_group(entry.group)
        if not entry.conversation_id:
            raise ValidationFailed("conversation id is empty", code="bad_conversation")
        if entry.enqueued_at <= 0:
            entry = _with_time(entry, self._clock())
        fields = codec.encode(entry)
        outcome: list[Any] = await self._scripts.enqueue(
            keys=[keys.conversation(entry.conversation_id), keys.queue(entry.group), keys.groups()],
            args=[
                entry.conversation_id,
                entry.group,
                codec.score(entry.tier, entry.enqueued_at),
                keys.PREFIX,
                *codec.flatten(fields),
            ],
        )
        if outcome[0] == "assigned":
            raise Conflict(f"conversation is assigned to agent {outcome[1]}", code="already_assigned")
        await self._publish(entry.group, entry.conversation_id, "enqueued")
        return int(outcome[1])

    async def cancel(self, conversation_id: str) -> bool:
        """Take a waiting conversation out of its queue (customer left, ticket instead, ...)."""
        group: str | None = await self._scripts.cancel(
            keys=[keys.conversation(conversation_id)], args=[conversation_id, keys.PREFIX]
        )
        if group is None:
            return False
        await self._publish(group, conversation_id, "cancelled")
        return True

    async def position(self, conversation_id: str) -> int | None:
        """1-based place in its group's queue ("you are number N"), None when not queued."""
        found: list[Any] | None = await self._scripts.position(
            keys=[keys.conversation(conversation_id)], args=[conversation_id, keys.PREFIX]
        )
        return int(found[1]) if found else None

    async def entry(self, conversation_id: str) -> QueueEntry | None:
        """The conversation's entry while it waits, None otherwise."""
        fields = _text(await self._client.hgetall(keys.conversation(conversation_id)))
        if fields.get("state") != "queued":
            return None
        return codec.decode(fields)

    async def assigned_agent(self, conversation_id: str) -> str | None:
        state, agent = await self._client.hmget(keys.conversation(conversation_id), ["state", "agent_id"])
        return str(agent) if state == "assigned" and agent else None

    async def head(self, group: str, limit: int = 10) -> list[QueueEntry]:
        """The next ``limit`` entries of a group, in service order."""
        ids = [str(i) for i in await self._client.zrange(keys.queue(group), 0, limit - 1)]
        async with self._client.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.hgetall(keys.conversation(conversation_id))
            records: list[dict[str, str]] = await pipe.execute()
        return [codec.decode(r) for r in records if r.get("state") == "queued"]

    async def length(self, group: str) -> int:
        return int(await self._client.zcard(keys.queue(group)))

    async def oldest_wait(self, group: str) -> float:
        """Seconds the longest-waiting conversation of the group has waited (0 when empty).

        The oldest entry is the head of one of the tier bands, so this reads one entry per tier.
        """
        async with self._client.pipeline(transaction=False) as pipe:
            for tier in Tier:
                low = tier.rank * codec.TIER_SPAN
                pipe.zrangebyscore(keys.queue(group), low, low + codec.TIER_SPAN - 1, 0, 1, withscores=True)
            bands: list[list[tuple[str, float]]] = await pipe.execute()
        starts = [(score % codec.TIER_SPAN) / 1000 for band in bands for _, score in band]
        return max(0.0, self._clock() - min(starts)) if starts else 0.0

    async def stats(self, group: str) -> GroupStats:
        return GroupStats(
            group=group, length=await self.length(group), oldest_wait=await self.oldest_wait(group)
        )

    async def groups(self) -> list[str]:
        return sorted(str(g) for g in await self._client.smembers(keys.groups()))

    async def _publish(self, group: str, conversation_id: str, change: str) -> None:
        if self._events is not None:
            await self._events.publish(QueueChanged(group, conversation_id, change, self._clock()))


def _check_group(group: str) -> None:
    if not group or "," in group:
        raise ValidationFailed(f"bad skill group name {group!r}", code="bad_group")


def _with_time(entry: QueueEntry, now: float) -> QueueEntry:
    return replace(entry, enqueued_at=now)


def _text(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in fields.items()}
