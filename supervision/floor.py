"""The live floor: who is working, how loaded, what waits where.

Agents come from the staff accounts (agents and supervisors, plus anyone with presence), with
their presence and load from the handoff engine (Redis) and their current conversations from
SQL. Groups are every group known anywhere (queues, skills, the floor settings' groups and
rules), each with its queue length and longest wait (Redis) and its conversations waiting and
with agents (SQL). Bot
conversations have no group: ``totals.bot`` counts those active in the last 30 minutes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, QueueEntryRecord
from core.clock import utc_now
from handoff.presence import Presence
from handoff.queue import HandoffQueue
from handoff.tables import User

BOT_ACTIVE = timedelta(minutes=30)
FLOOR_ROLES = ("agent", "supervisor")


@dataclass
class Floor:
    sessions: async_sessionmaker[AsyncSession]
    presence: Presence
    queue: HandoffQueue
    routed_groups: Callable[[], Awaitable[Iterable[str]]] = field(default=lambda: _no_groups())
    clock: Callable[[], datetime] = utc_now

    async def snapshot(self) -> dict[str, Any]:
        async with self.sessions() as session:
            users = list(await session.scalars(select(User).order_by(User.username)))
            held = (
                await session.execute(
                    select(
                        Conversation.assigned_agent_id,
                        Conversation.id,
                        Conversation.channel,
                        Conversation.lang,
                    )
                    .where(Conversation.state == "agent")
                    .order_by(Conversation.updated_at)
                )
            ).all()
            per_group = (
                await session.execute(
                    select(QueueEntryRecord.group, Conversation.state, func.count())
                    .join(Conversation, Conversation.id == QueueEntryRecord.conversation_id)
                    .where(Conversation.state.in_(("queued", "agent")))
                    .group_by(QueueEntryRecord.group, Conversation.state)
                )
            ).all()
            totals = dict(
                (
                    await session.execute(
                        select(Conversation.state, func.count())
                        .where(Conversation.state.in_(("queued", "agent")))
                        .group_by(Conversation.state)
                    )
                ).all()
            )
            bots = await session.scalar(
                select(func.count()).where(
                    Conversation.state == "bot", Conversation.updated_at >= self.clock() - BOT_ACTIVE
                )
            )
        conversations: dict[int, list[dict[str, str]]] = {}
        for agent_id, conv_id, channel, lang in held:
            if agent_id is not None:
                conversations.setdefault(agent_id, []).append(
                    {"id": conv_id, "channel": channel, "lang": lang}
                )
        agents: list[dict[str, Any]] = []
        for user in users:
            view = await self.presence.get(str(user.id))
            if user.role not in FLOOR_ROLES and view is None:
                continue
            agents.append(
                {
                    "id": user.id,
                    "username": user.username,
                    "role": user.role,
                    "status": view.status.value if view else "offline",
                    "skills": sorted(view.skills) if view else sorted(str(s) for s in user.skills),
                    "load": view.load if view else len(conversations.get(user.id, [])),
                    "max_concurrent": view.max_concurrent if view else user.max_concurrent,
                    "conversations": conversations.get(user.id, []),
                }
            )
        names = set(await self.queue.groups()) | set(await self.routed_groups())
        for user in users:
            names.update(str(s) for s in user.skills if s)
        counts: dict[str, dict[str, int]] = {}
        for group, state, count in per_group:
            counts.setdefault(group, {})[state] = int(count)
        groups = []
        for name in sorted(names):
            stats = await self.queue.stats(name)
            groups.append(
                {
                    "group": name,
                    "queue_length": stats.length,
                    "longest_wait_seconds": round(stats.oldest_wait, 1),
                    "queued": counts.get(name, {}).get("queued", 0),
                    "with_agent": counts.get(name, {}).get("agent", 0),
                    "agents_online": sum(
                        1 for a in agents if a["status"] == "online" and name in a["skills"]
                    ),
                }
            )
        return {
            "agents": agents,
            "groups": groups,
            "totals": {
                "bot": int(bots or 0),
                "queued": int(totals.get("queued", 0)),
                "agent": int(totals.get("agent", 0)),
            },
            "at": self.clock().isoformat(),
        }


async def _no_groups() -> list[str]:
    return []
