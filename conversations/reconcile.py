"""Rebuild the handoff engine's Redis state from committed SQL state, then serve the queues.

SQL is the source of truth: every conversation in state ``queued`` has its queue entry (its
committed ``queue_entries`` row, so its original tier and enqueue time, hence its place); every
conversation in state ``agent`` is assigned to its agent in Redis and counted in that agent's
load; every other record, queue member or load member is removed. So each agent's load equals
the number of their SQL conversations in state ``agent``.

Claims and transfers change Redis a moment before SQL commits, so a difference can be a change
in flight rather than drift: a repair is made only when the same difference is seen twice,
``settle`` seconds apart, and each repair is one Lua step that first checks the record is still
what was seen. Runs at service start-up (one replica at a time, under a Redis lock) and on
demand (``kefu handoff reconcile``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import keys
from conversations.desk.assignments import Assignments
from conversations.queue_entries import to_entry
from conversations.tables import Conversation, QueueEntryRecord
from core.clock import Clock, system_clock
from core.types import ConversationState
from handoff.model import QueueEntry, Tier
from handoff.queue import HandoffQueue
from handoff.repair import EngineRepair, Record, Wanted

log = logging.getLogger(__name__)
FALLBACK_GROUP = "general"  # a queued conversation from before queue entries were recorded


@dataclass(frozen=True)
class Repair:
    conversation_id: str
    seen: Record
    wanted: Wanted


@dataclass
class Report:
    requeued: list[str] = field(default_factory=list)
    reassigned: list[tuple[str, str]] = field(default_factory=list)  # (conversation, agent)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changed between the check and the repair
    assigned: int = 0  # waiting conversations assigned by the drain afterwards

    @property
    def repaired(self) -> int:
        return len(self.requeued) + len(self.reassigned) + len(self.removed)

    def lines(self) -> list[str]:
        out = []
        if self.requeued:
            out.append(f"requeued {len(self.requeued)} conversation(s): {', '.join(self.requeued)}")
        if self.reassigned:
            pairs = ", ".join(f"{c} -> agent {a}" for c, a in self.reassigned)
            out.append(f"restored {len(self.reassigned)} assignment(s): {pairs}")
        if self.removed:
            out.append(f"removed {len(self.removed)} stale record(s): {', '.join(self.removed)}")
        if self.skipped:
            out.append(f"skipped {len(self.skipped)} changed meanwhile: {', '.join(self.skipped)}")
        if not out:
            out.append("nothing to repair: Redis matches the database")
        out.append(f"assigned {self.assigned} waiting conversation(s)")
        return out


@dataclass
class Reconciler:
    sessions: async_sessionmaker[AsyncSession]
    repair: EngineRepair
    assignments: Assignments
    queue: HandoffQueue
    settle: float = 1.0  # seconds between the two looks at a difference
    clock: Clock = system_clock

    async def run(self) -> Report:
        """Repair what differs from SQL (seen twice), then drain every queue."""
        first = await self.plan()
        if first and self.settle > 0:
            await asyncio.sleep(self.settle)
        second = await self.plan() if first else {}
        report = Report()
        for conversation_id, repair in sorted(second.items()):
            if first.get(conversation_id) != repair:
                continue  # a change in flight, or too new to tell: the next run decides
            if not await self.repair.reset(conversation_id, repair.seen, repair.wanted, self.clock()):
                report.skipped.append(conversation_id)
            elif repair.wanted.entry is None:
                report.removed.append(conversation_id)
            elif repair.wanted.agent_id:
                report.reassigned.append((conversation_id, repair.wanted.agent_id))
            else:
                report.requeued.append(conversation_id)
        for group in await self.queue.groups():
            assignments = await self.assignments.assigner.drain(group)
            await self.assignments.apply(assignments)
            report.assigned += len(assignments)
        return report

    async def plan(self) -> dict[str, Repair]:
        """Every conversation whose Redis record differs from what SQL says it should be."""
        wanted = await self._wanted()
        state = await self.repair.snapshot()
        plan = {}
        for conversation_id in {*wanted, *state.records}:
            want, guessed = wanted.get(conversation_id, (Wanted(), False))
            seen = state.record(conversation_id)
            if not (want.satisfied_by(seen) or (guessed and _consistent_queued(seen, want))):
                plan[conversation_id] = Repair(conversation_id, seen, _with_group(want, seen, guessed))
        return plan

    async def _wanted(self) -> dict[str, tuple[Wanted, bool]]:
        """conversation id -> (the record SQL implies, whether its entry had to be guessed)."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Conversation, QueueEntryRecord)
                    .outerjoin(QueueEntryRecord, QueueEntryRecord.conversation_id == Conversation.id)
                    .where(Conversation.state.in_([ConversationState.QUEUED, ConversationState.AGENT]))
                )
            ).all()
        wanted: dict[str, tuple[Wanted, bool]] = {}
        for conv, row in rows:
            entry = to_entry(row) if row is not None else _guess(conv)
            if conv.state == ConversationState.QUEUED:
                wanted[conv.id] = (Wanted(entry), row is None)
            elif conv.assigned_agent_id is not None:
                wanted[conv.id] = (Wanted(entry, str(conv.assigned_agent_id)), row is None)
        return wanted


async def reconcile_once(
    reconciler: Reconciler, client: aioredis.Redis, timeout: float = 300.0
) -> Report | None:
    """Run the reconciler unless another process is running it (None then)."""
    lock = client.lock(keys.reconcile_lock(), timeout=timeout, blocking=False)
    if not await lock.acquire():
        return None
    try:
        return await reconciler.run()
    finally:
        try:
            await lock.release()
        except LockError:  # expired during a very long run; nothing to undo
            log.warning("the reconcile lock expired before the run ended")


def _guess(conv: Conversation) -> QueueEntry:
    """An entry for a conversation with no committed queue entry (handed off before they were
    recorded): the default group, in the order of its last state change."""
    return QueueEntry(
        conversation_id=conv.id,
        group=FALLBACK_GROUP,
        customer_id=conv.customer_id,
        tier=Tier.NORMAL,
        lang=conv.lang,
        channel=conv.channel,
        enqueued_at=_aware(conv.updated_at).timestamp(),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _consistent_queued(seen: Record, want: Wanted) -> bool:
    """A guessed queued entry yields to a queue entry Redis already holds in good order."""
    return (
        want.state == "queued"
        and seen.state == "queued"
        and len(seen.queues) == 1
        and next(iter(seen.queues))[0] == seen.group
        and not seen.loads
    )


def _with_group(want: Wanted, seen: Record, guessed: bool) -> Wanted:
    """A guessed assignment keeps the group Redis knew, if any."""
    if guessed and want.entry is not None and want.agent_id and seen.group:
        return Wanted(replace(want.entry, group=seen.group), want.agent_id)
    return want


__all__ = ["Reconciler", "Report", "reconcile_once"]
