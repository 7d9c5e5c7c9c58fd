"""The assignment mirror: each decision of the Redis engine (``handoff.assigner``) written into
SQL (conversation state, assigned agent, transition log), told to the customer, and passed to
the channel's own session hooks (WeCom servicer takeover).

Presence changes live here too, because an agent coming online or freeing a seat is what
drains the backlog into new assignments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from conversations.channel_sessions import ChannelSessions, SessionHooks
from conversations.outbound import Outbound
from conversations.tables import Conversation, Message
from conversations.texts import text_for
from core.errors import NotFound
from core.lang import lang_of
from core.types import Channel, ConversationState
from handoff.assigner import Assigner
from handoff.auth import Staff
from handoff.model import AgentStatus, Assignment
from handoff.presence import Presence
from handoff.tables import User

log = logging.getLogger(__name__)


def shown_name(agent: User) -> str:
    """The name a customer sees: the display name, else the login name."""
    return agent.display_name or agent.username


_SERVABLE = (ConversationState.QUEUED, ConversationState.AGENT)  # AGENT: a transfer between agents


@dataclass
class Assignments:
    sessions: async_sessionmaker[AsyncSession]
    presence: Presence
    assigner: Assigner
    outbound: Outbound
    channel_sessions: SessionHooks = field(default_factory=SessionHooks)
    on_assigned: Callable[[Assignment], None] = lambda assignment: None  # e.g. a metrics counter

    def register_sessions(self, channel: Channel, sessions: ChannelSessions) -> None:
        self.channel_sessions.register(channel, sessions)

    async def apply(self, assignments: Sequence[Assignment]) -> None:
        """Mirror the engine's claims into SQL, each in its own transaction, then tell the customer.

        Idempotent: a claim already mirrored is skipped. A claim for a conversation that SQL does
        not have waiting (closed meanwhile, gone) frees the seat. If a mirror fails, that claim
        and those not yet mirrored are undone in Redis (seat freed, conversation back in its
        place in the queue) before the error propagates, so no agent keeps a seat SQL never gave.
        """
        for done, assignment in enumerate(assignments):
            try:
                mirrored = await self._mirror(assignment)
            except Exception:
                for pending in assignments[done:]:
                    await self.assigner.unclaim(pending)
                raise
            if mirrored is not None:
                self.on_assigned(assignment)
                conv, notice, username = mirrored
                await self.outbound.deliver(conv, notice)
                await self.channel_sessions.took_over(conv, username)

    async def _mirror(self, assignment: Assignment) -> tuple[Conversation, Message, str] | None:
        """Record the claim in SQL (committed on return); None when there is nothing to tell."""
        async with self.sessions.begin() as session:
            conv = await session.get(Conversation, assignment.conversation_id)
            agent = await session.get(User, int(assignment.agent_id))
            if conv is not None and agent is not None and conv.state in _SERVABLE:
                if conv.state == ConversationState.AGENT and conv.assigned_agent_id == agent.id:
                    return None  # already mirrored
                reason = "sticky" if assignment.sticky else "assigned"
                await repo.transition(
                    session, conv, ConversationState.AGENT, reason=reason, actor=f"agent:{agent.username}"
                )
                conv.assigned_agent_id = agent.id
                notice = self.outbound.add(
                    session,
                    conv,
                    "system",
                    text_for("agent_joined", lang_of(conv.lang), name=shown_name(agent)),
                    payload={"agent_name": shown_name(agent)},
                )
                return conv, notice, agent.username
        # SQL has nothing waiting for this claim (closed meanwhile, or gone): free the seat.
        await self.assigner.release_seat(assignment.agent_id, assignment.conversation_id)
        return None

    async def drain(self, group: str) -> None:
        """Assign the group's queue to whoever can take it now."""
        await self.apply(await self.assigner.drain(group))

    async def agent_available(self, agent_id: str) -> None:
        await self.apply(await self.assigner.on_agent_available(agent_id))

    async def release(self, agent_id: str, conversation_id: str) -> None:
        """The agent's seat is free again: it may take the next waiting conversation."""
        await self.apply(await self.assigner.release(agent_id, conversation_id))

    async def set_status(self, staff: Staff, status: AgentStatus) -> None:
        async with self.sessions() as session:
            user = await session.get(User, staff.user_id)
        if user is None:
            raise NotFound("agent not found", code="agent_not_found")
        await self.presence.register(str(user.id), user.skills or ["general"], user.max_concurrent)
        await self.presence.set_status(str(user.id), status)
        if status == AgentStatus.ONLINE:
            await self.agent_available(str(user.id))

    async def heartbeat(self, staff: Staff) -> None:
        if await self.presence.heartbeat(str(staff.user_id)):
            await self.agent_available(str(staff.user_id))
