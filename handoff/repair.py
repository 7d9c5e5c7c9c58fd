"""Read the whole engine state and set one conversation's record to a wanted state: the handoff
engine's side of rebuilding Redis from a source of truth (``conversations.reconcile``).

``snapshot`` reads every record, queue and load (SCAN, so it never blocks the server). ``reset``
is one Lua step that first checks the record is still what the snapshot saw, then takes the
conversation out of the queues and loads it should not be in and writes the wanted record, so
a repair never overwrites a change another replica made after the snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from handoff import codec, keys
from handoff.model import QueueEntry
from handoff.scripts import Scripts, register


@dataclass(frozen=True)
class Record:
    """What the engine holds for one conversation (empty state: no record)."""

    state: str = ""  # queued | assigned | ""
    group: str = ""
    agent_id: str = ""
    queues: frozenset[tuple[str, int]] = frozenset()  # (group, score) of every queue it is in
    loads: frozenset[str] = frozenset()  # every agent whose load holds it


@dataclass(frozen=True)
class Wanted:
    """The record a conversation should have: queued (``agent_id`` empty), assigned, or none
    (``entry`` None)."""

    entry: QueueEntry | None = None
    agent_id: str = ""

    @property
    def state(self) -> str:
        if self.entry is None:
            return ""
        return "assigned" if self.agent_id else "queued"

    def satisfied_by(self, record: Record) -> bool:
        if self.entry is None:
            return record == Record()
        score = codec.score(self.entry.tier, self.entry.enqueued_at)
        if self.agent_id:
            return (
                record.state == "assigned"
                and record.agent_id == self.agent_id
                and not record.queues
                and record.loads == {self.agent_id}
            )
        return (
            record.state == "queued"
            and record.group == self.entry.group
            and record.queues == {(self.entry.group, score)}
            and not record.loads
        )


@dataclass(frozen=True)
class EngineState:
    records: Mapping[str, Record] = field(default_factory=dict)

    def record(self, conversation_id: str) -> Record:
        return self.records.get(conversation_id, Record())


class EngineRepair:
    def __init__(self, client: aioredis.Redis, *, scripts: Scripts | None = None) -> None:
        self._client = client
        self._scripts = scripts or register(client)

    async def snapshot(self) -> EngineState:
        hashes: dict[str, dict[str, str]] = {}
        conv_prefix = keys.conversation("")
        ids = [str(k)[len(conv_prefix) :] async for k in self._client.scan_iter(match=f"{conv_prefix}*")]
        async with self._client.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.hmget(keys.conversation(conversation_id), ["state", "group", "agent_id"])
            rows: list[list[str | None]] = await pipe.execute()
        for conversation_id, row in zip(ids, rows, strict=True):
            names = ("state", "group", "agent_id")
            hashes[conversation_id] = {name: str(value or "") for name, value in zip(names, row, strict=True)}
        queues: dict[str, set[tuple[str, int]]] = {}
        queue_prefix = keys.queue("")
        async for key in self._client.scan_iter(match=f"{queue_prefix}*"):
            group = str(key)[len(queue_prefix) :]
            members: list[Any] = await self._client.zrange(str(key), 0, -1, withscores=True)
            for member, score in members:
                queues.setdefault(str(member), set()).add((group, int(score)))
        loads: dict[str, set[str]] = {}
        load_prefix = keys.load("")
        async for key in self._client.scan_iter(match=f"{load_prefix}*"):
            agent_id = str(key)[len(load_prefix) :]
            for held in await self._client.smembers(str(key)):
                loads.setdefault(str(held), set()).add(agent_id)
        records = {
            conversation_id: Record(
                state=hashes.get(conversation_id, {}).get("state", ""),
                group=hashes.get(conversation_id, {}).get("group", ""),
                agent_id=hashes.get(conversation_id, {}).get("agent_id", ""),
                queues=frozenset(queues.get(conversation_id, ())),
                loads=frozenset(loads.get(conversation_id, ())),
            )
            for conversation_id in {*hashes, *queues, *loads}
        }
        return EngineState(records)

    async def reset(self, conversation_id: str, seen: Record, wanted: Wanted, now: float) -> bool:
        """Give the conversation the wanted record, if its record is still ``seen``; the wanted
        queue entry keeps its original enqueue time (its place). True when changed."""
        stale_queues = [keys.queue(group) for group, _ in sorted(seen.queues)]
        stale_loads = [keys.load(agent_id) for agent_id in sorted(seen.loads)]
        entry = wanted.entry
        fields: dict[str, str] = {}
        target = keys.conversation(conversation_id)
        score = 0
        group = ""
        if entry is not None:
            fields = codec.encode(entry)
            score = codec.score(entry.tier, entry.enqueued_at)
            group = entry.group
            if wanted.agent_id:
                fields.update(agent_id=wanted.agent_id, assigned_at=repr(now))
                target = keys.load(wanted.agent_id)
            else:
                target = keys.queue(entry.group)
        changed = await self._scripts.reset(
            keys=[keys.conversation(conversation_id), target, keys.groups(), *stale_queues, *stale_loads],
            args=[
                conversation_id,
                seen.state,
                seen.agent_id,
                wanted.state or "absent",
                score,
                group,
                len(stale_queues),
                *codec.flatten(fields),
            ],
        )
        return bool(int(changed))
