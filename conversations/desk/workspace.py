"""What an agent reads in the console: their conversations and one conversation's whole view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from conversations.desk.agent_actions import AgentActions
from conversations.tables import Conversation, Customer, Message, StateTransition
from handoff.auth import Staff

TRANSCRIPT_LIMIT = 1000


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    tier: str
    handoff_reason: str | None
    messages: Sequence[Message]


@dataclass
class Workspace:
    sessions: async_sessionmaker[AsyncSession]
    agents: AgentActions

    async def mine(self, staff: Staff) -> Sequence[Conversation]:
        """The conversations this agent holds now, longest untouched first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Conversation)
                .where(Conversation.assigned_agent_id == staff.user_id, Conversation.state == "agent")
                .order_by(Conversation.updated_at)
            )
            return rows.all()

    async def view(self, staff: Staff, conversation_id: str) -> ConversationView:
        """The transcript (bot part and notes included), the customer's tier, why it was handed off."""
        async with self.sessions() as session:
            conv = await self.agents.owned(session, staff, conversation_id)
            customer = await session.get(Customer, conv.customer_id)
            messages = await repo.messages_after(
                session, conv.id, 0, include_notes=True, limit=TRANSCRIPT_LIMIT
            )
            handoff = await session.scalar(
                select(StateTransition)
                .where(StateTransition.conversation_id == conv.id, StateTransition.to_state == "queued")
                .order_by(StateTransition.id.desc())
                .limit(1)
            )
        return ConversationView(
            conv, customer.tier if customer else "normal", handoff.reason if handoff else None, messages
        )

    async def held(self, staff: Staff, conversation_id: str) -> Conversation:
        """The conversation if this agent may open it (else not found)."""
        async with self.sessions() as session:
            return await self.agents.owned(session, staff, conversation_id)
