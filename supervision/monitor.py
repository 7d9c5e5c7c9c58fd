"""Evaluates the alert rules every few seconds (any replica; a Redis lock makes one at a time).

- ``queue_length``: a group's queue is longer than the threshold (key per group);
- ``queue_wait``: a group's longest wait is over the threshold in seconds (key per group);
- ``first_response``: a conversation assigned to an agent for more than the threshold without
  an agent reply since (key per conversation and assignment, so a transfer re-arms it);
- ``sla``: each SLA alert the tickets sweeper recorded (``ticket_events`` "sla_alert") in the
  last day becomes one alert.

A condition that stops holding resolves its alert; when it holds again it is a new alert.
A rule with a group watches that group; without, every group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, CsatRating, Message, QueueEntryRecord, StateTransition
from core.background import repeat
from core.clock import utc_now
from handoff.queue import HandoffQueue
from handoff.tables import User
from supervision import keys
from supervision.alerts import Alerts, Condition
from supervision.scoring import score_conversation
from supervision.tables import AlertRule, QualityScore
from tickets.store import SLA_ALERT, aware
from tickets.tables import Ticket, TicketEvent

log = logging.getLogger(__name__)

WATCHED = ("queue_length", "queue_wait", "first_response")
SLA_WINDOW = timedelta(days=1)


@dataclass
class Monitor:
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    queue: HandoffQueue
    alerts: Alerts
    clock: Callable[[], datetime] = utc_now

    async def evaluate(self) -> list[Condition]:
        """One pass: what holds now under the enabled rules."""
        async with self.sessions() as session:
            rules = list(await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))))
        found: list[Condition] = []
        groups = await self.queue.groups()
        for rule in rules:
            if rule.kind in ("queue_length", "queue_wait"):
                for group in [rule.group] if rule.group else groups:
                    found.extend(await self._queue(rule, group))
            elif rule.kind == "first_response":
                found.extend(await self._first_response(rule))
            elif rule.kind == "sla":
                found.extend(await self._sla(rule))
        # a group's own rule wins over the every-group rule of the same kind
        chosen: dict[str, Condition] = {}
        for cond in found:
            if cond.key not in chosen or cond.group:
                chosen[cond.key] = cond
        return list(chosen.values())

    async def sweep(self, *, lock_timeout: float = 30.0) -> int:
        """Evaluate, raise the new alerts, resolve the ended ones; returns how many were raised."""
        lock = self.redis.lock(keys.monitor_lock(), timeout=lock_timeout, blocking=False)
        if not await lock.acquire():
            return 0
        try:
            holding = await self.evaluate()
            raised = 0
            for cond in holding:
                if await self.alerts.raise_condition(cond) is not None:
                    raised += 1
            await self.alerts.resolve_except(WATCHED, {c.key for c in holding})
            await self.rescore_rated()
            return raised
        finally:
            with contextlib.suppress(Exception):
                await lock.release()

    async def rescore_rated(self) -> int:
        """Score again the conversations rated after they were scored (CSAT comes after close)."""
        async with self.sessions.begin() as session:
            stale = list(
                await session.scalars(
                    select(QualityScore.conversation_id)
                    .join(CsatRating, CsatRating.conversation_id == QualityScore.conversation_id)
                    .where(CsatRating.created_at > QualityScore.computed_at)
                    .limit(200)
                )
            )
            for conversation_id in stale:
                await score_conversation(session, conversation_id, self.clock)
        return len(stale)

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        await repeat(self.sweep, stop, interval, log=log, what="alert monitor pass")

    async def _queue(self, rule: AlertRule, group: str) -> list[Condition]:
        stats = await self.queue.stats(group)
        if rule.kind == "queue_length" and stats.length > rule.threshold:
            data = {"group": group, "length": stats.length, "threshold": rule.threshold}
        elif rule.kind == "queue_wait" and stats.length and stats.oldest_wait > rule.threshold:
            data = {"group": group, "wait": round(stats.oldest_wait), "threshold": rule.threshold}
        else:
            return []
        return [Condition(rule.kind, f"{rule.kind}:{group}", rule.id, data, group=group)]

    async def _first_response(self, rule: AlertRule) -> list[Condition]:
        assigned = (
            select(StateTransition.conversation_id, func.max(StateTransition.created_at).label("at"))
            .where(StateTransition.to_state == "agent")
            .group_by(StateTransition.conversation_id)
            .subquery()
        )
        cutoff = self.clock() - timedelta(seconds=rule.threshold)
        replied = exists().where(
            and_(
                Message.conversation_id == Conversation.id,
                Message.sender == "agent",
                Message.created_at >= assigned.c.at,
            )
        )
        query = (
            select(Conversation.id, Conversation.assigned_agent_id, assigned.c.at, User.username)
            .join(assigned, assigned.c.conversation_id == Conversation.id)
            .outerjoin(User, User.id == Conversation.assigned_agent_id)
            .where(Conversation.state == "agent", assigned.c.at <= cutoff, ~replied)
        )
        if rule.group:
            query = query.join(QueueEntryRecord, QueueEntryRecord.conversation_id == Conversation.id).where(
                QueueEntryRecord.group == rule.group
            )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        now = self.clock()
        return [
            Condition(
                "first_response",
                f"first_response:{conv_id}:{aware(at).isoformat()}",
                rule.id,
                {
                    "conversation_id": conv_id,
                    "agent": username or str(agent_id),
                    "wait": round((now - aware(at)).total_seconds()),
                    "threshold": rule.threshold,
                },
                conversation_id=conv_id,
                agent_id=agent_id,
                group=rule.group,
            )
            for conv_id, agent_id, at, username in rows
        ]

    async def _sla(self, rule: AlertRule) -> list[Condition]:
        query = (
            select(TicketEvent.id, TicketEvent.data, Ticket.number, Ticket.conversation_id, Ticket.group)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.kind == SLA_ALERT, TicketEvent.created_at >= self.clock() - SLA_WINDOW)
        )
        if rule.group:
            query = query.where(Ticket.group == rule.group)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            Condition(
                "sla",
                f"sla:{event_id}",
                rule.id,
                {
                    "ticket": number,
                    "target": data.get("target", ""),
                    "level": data.get("level", ""),
                    "due": data.get("due", ""),
                },
                conversation_id=conversation_id,
                group=group,
            )
            for event_id, data, number, conversation_id, group in rows
        ]
