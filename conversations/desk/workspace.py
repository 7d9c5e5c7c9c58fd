"""What an agent reads in the console: their conversations (with what the list shows), one
conversation's whole view, and the customer panel beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import identities, repo
from conversations.desk.agent_actions import AgentActions
from conversations.tables import (
    ChannelIdentity,
    Conversation,
    CsatRating,
    Customer,
    Message,
    OutboxEntry,
    StateTransition,
)
from handoff.auth import Staff
from handoff.model import Tier
from tickets.tables import Ticket

TRANSCRIPT_LIMIT = 1000
HISTORY_LIMIT = 20
PREVIEW_CHARS = 80


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the agent's list."""

    conversation: Conversation
    customer_name: str
    tier: str
    last_text: str
    last_sender: str
    last_at: datetime | None
    unread: int  # customer messages since the agent last wrote (reply or note)
    waiting_since: datetime | None  # the customer's last message, while it is unanswered


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    tier: str
    handoff_reason: str | None
    messages: Sequence[Message]
    delivery: dict[int, str]  # message id -> pending | sent | failed | dead (messages to the customer)
    queue_wait: float | None  # seconds between the handoff and the agent taking it
    customer_name: str = ""


@dataclass(frozen=True)
class CustomerPanel:
    customer: Customer
    identities: Sequence[ChannelIdentity]
    conversations: Sequence[Conversation]
    tickets: Sequence[Ticket]
    ratings: Sequence[CsatRating]


def list_order(summary: ConversationSummary) -> tuple[int, float]:
    """VIP tiers first, then whoever has waited longest for an answer."""
    at = summary.waiting_since or summary.last_at
    return Tier.parse(summary.tier).rank, at.timestamp() if at else float("inf")


@dataclass
class Workspace:
    sessions: async_sessionmaker[AsyncSession]
    agents: AgentActions

    async def mine(self, staff: Staff) -> list[ConversationSummary]:
        """The conversations this agent holds now, VIP first, then longest waiting."""
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(Conversation).where(
                        Conversation.assigned_agent_id == staff.user_id, Conversation.state == "agent"
                    )
                )
            ).all()
            found = [await summarise(session, conv) for conv in rows]
        return sorted(found, key=list_order)

    async def view(self, staff: Staff, conversation_id: str) -> ConversationView:
        """The transcript (bot part and notes included), the customer's tier, why it was handed
        off, how long it waited in the queue and each reply's delivery state."""
        async with self.sessions() as session:
            conv = await self.agents.owned(session, staff, conversation_id)
            customer = await session.get(Customer, conv.customer_id)
            messages = await repo.messages_after(
                session, conv.id, 0, include_notes=True, limit=TRANSCRIPT_LIMIT
            )
            handoff = await _last_transition(session, conv.id, "queued")
            taken = await _last_transition(session, conv.id, "agent")
            delivery = await delivery_states(session, [m.id for m in messages])
        wait = None
        if handoff is not None and taken is not None and taken.created_at >= handoff.created_at:
            wait = (taken.created_at - handoff.created_at).total_seconds()
        return ConversationView(
            conv,
            customer.tier if customer else "normal",
            handoff.reason if handoff else None,
            messages,
            delivery,
            wait,
            customer.display_name if customer else "",
        )

    async def held(self, staff: Staff, conversation_id: str) -> Conversation:
        """The conversation if this agent may open it (else not found)."""
        async with self.sessions() as session:
            return await self.agents.owned(session, staff, conversation_id)

    async def customer_panel(self, staff: Staff, conversation_id: str) -> CustomerPanel:
        """Who the customer of a conversation is: their channels and linked identities, past
        conversations and tickets, CSAT history (newest first)."""
        async with self.sessions() as session:
            conv = await self.agents.owned(session, staff, conversation_id)
            customer = await session.get(Customer, conv.customer_id)
            if customer is None:
                customer = Customer(id=conv.customer_id, display_name="", tier="normal", lang=conv.lang)
            linked = await identities.identities_of(session, customer.id)
            past = await identities.conversations_of(session, customer.id, limit=HISTORY_LIMIT)
            tickets = (
                await session.scalars(
                    select(Ticket)
                    .where(Ticket.customer_id == customer.id)
                    .order_by(Ticket.created_at.desc())
                    .limit(HISTORY_LIMIT)
                )
            ).all()
            ratings = (
                await session.scalars(
                    select(CsatRating)
                    .join(Conversation, Conversation.id == CsatRating.conversation_id)
                    .where(Conversation.customer_id == customer.id)
                    .order_by(CsatRating.created_at.desc())
                    .limit(HISTORY_LIMIT)
                )
            ).all()
        return CustomerPanel(customer, linked, past, tickets, ratings)


async def summarise(session: AsyncSession, conv: Conversation) -> ConversationSummary:
    customer = await session.get(Customer, conv.customer_id)
    last = await session.scalar(
        select(Message)
        .where(Message.conversation_id == conv.id, Message.sender != "note")
        .order_by(Message.id.desc())
        .limit(1)
    )
    answered = await session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conv.id, Message.sender.in_(("agent", "note"))
        )
    )
    unread_rows = select(Message).where(
        Message.conversation_id == conv.id, Message.sender == "customer", Message.id > (answered or 0)
    )
    unread = await session.scalar(select(func.count()).select_from(unread_rows.subquery()))
    first_unanswered = await session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conv.id, Message.sender == "customer", Message.id > (answered or 0)
        )
    )
    tier = customer.tier if customer else "normal"
    return ConversationSummary(
        conversation=conv,
        customer_name=customer.display_name if customer else "",
        tier=tier,
        last_text=(last.text[:PREVIEW_CHARS] if last else ""),
        last_sender=last.sender if last else "",
        last_at=last.created_at if last else None,
        unread=int(unread or 0),
        waiting_since=first_unanswered,
    )


async def delivery_states(session: AsyncSession, message_ids: Sequence[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    rows = await session.execute(
        select(OutboxEntry.message_id, OutboxEntry.status).where(OutboxEntry.message_id.in_(message_ids))
    )
    return {message_id: status for message_id, status in rows.all()}


async def _last_transition(
    session: AsyncSession, conversation_id: str, to_state: str
) -> StateTransition | None:
    found: StateTransition | None = await session.scalar(
        select(StateTransition)
        .where(StateTransition.conversation_id == conversation_id, StateTransition.to_state == to_state)
        .order_by(StateTransition.id.desc())
        .limit(1)
    )
    return found
