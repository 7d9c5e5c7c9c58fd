"""Ticket operations: create from a conversation, change, reply, note, find.

Every function takes the caller's AsyncSession and commits nothing; ``now`` is passed in.
Every change is a TicketEvent with its actor ("staff:<username>", "customer" or "system").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repo as conversations
from conversations.tables import Conversation, Customer, Message
from conversations.views import view_of
from core.errors import Conflict, ValidationFailed
from tickets import store
from tickets.group_hours import DEFAULT_GROUP, group_problems
from tickets.lifecycle import refresh_deadlines, set_status
from tickets.model import (
    REOPENABLE,
    Status,
    TicketChange,
    TicketDetail,
    TicketFilter,
    TicketPage,
    TicketView,
    parse_priority,
    parse_tags,
)
from tickets.numbers import assign_number, provisional_number
from tickets.sla import DEFAULT_SLA_TABLE, SlaTable
from tickets.store import to_db
from tickets.tables import Ticket
from tickets.views import event_view, ticket_view

SYSTEM = "system"
CUSTOMER = "customer"
AGENT_ROLES = ("agent", "supervisor", "admin")
MAX_SUBJECT = 256
TRANSCRIPT_LIMIT = 500
DEFAULT_WARN_BEFORE = timedelta(minutes=30)


class MessageSink(Protocol):
    """Stores a staff message in a conversation (``conversations.outbound``); delivery follows commit."""

    def add(
        self,
        session: AsyncSession,
        conv: Conversation,
        sender: str,
        text: str,
        *,
        payload: dict[str, Any] | None = None,
    ) -> Message: ...


@dataclass(frozen=True)
class ReplyResult:
    """The stored reply: after the commit, deliver ``message`` in ``conversation``."""

    ticket: TicketView
    conversation: Conversation
    message: Message


def staff_actor(username: str) -> str:
    return f"staff:{username}"


async def create_ticket_from_conversation(
    session: AsyncSession,
    conversation: Conversation,
    *,
    now: datetime,
    subject: str | None = None,
    priority: str = "normal",
    group: str = DEFAULT_GROUP,
    tier: str | None = None,
    actor: str = SYSTEM,
    table: SlaTable = DEFAULT_SLA_TABLE,
) -> TicketView:
    """A new ticket holding the conversation; the subject defaults to the first customer message.

    Deadlines use the group's hours (the default hours if it has none) and ``tier`` (default:
    the customer's), which the ticket keeps: later recomputations (pause, priority) use the
    tier the ticket was opened with.
    """
    level = parse_priority(priority)
    if group_problems(group):
        raise ValidationFailed(group_problems(group)[0], code="invalid_group")
    text = subject if subject is not None else await first_customer_text(session, conversation.id)
    tier = tier or await customer_tier(session, conversation.customer_id)
    ticket = Ticket(
        number=provisional_number(),
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        subject=_subject(text),
        status=Status.NEW,
        priority=level,
        group=group,
        tier=tier,
        tags=[],
        paused=[],
        created_at=to_db(now),
        updated_at=to_db(now),
    )
    session.add(ticket)
    await session.flush()
    await assign_number(session, ticket, now)
    await refresh_deadlines(session, ticket, now, table, record=False, tier=tier)
    created = ticket_view(ticket)
    store.add_event(
        session,
        ticket,
        "created",
        actor,
        {
            "priority": level,
            "group": group,
            "tier": tier,
            "first_response_due": _iso(created.first_response_due),
            "resolution_due": _iso(created.resolution_due),
        },
        now,
    )
    return created


def _subject(text: str | None) -> str:
    line = " ".join((text or "").split())
    return line[:MAX_SUBJECT] if line else "(no subject)"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def update_ticket(
    session: AsyncSession,
    number: str,
    change: TicketChange,
    *,
    actor: str,
    now: datetime,
    table: SlaTable = DEFAULT_SLA_TABLE,
) -> TicketView:
    """Apply the fields given; each real change is an event with its old and new value."""
    ticket = await store.get_ticket(session, number, for_update=True)
    if ticket.status == Status.CLOSED:
        raise Conflict("the ticket is closed and cannot change", code="ticket_closed")
    if change.assignee_set and change.assignee_id is not None:
        await _check_assignee(session, change.assignee_id)
    changed = False
    if change.priority is not None and change.priority != ticket.priority:
        store.add_event(
            session, ticket, "priority", actor, {"old": ticket.priority, "new": change.priority}, now
        )
        ticket.priority = change.priority
        await refresh_deadlines(session, ticket, now, table)
        changed = True
    if change.assignee_set and change.assignee_id != ticket.assignee_id:
        store.add_event(
            session, ticket, "assignee", actor, {"old": ticket.assignee_id, "new": change.assignee_id}, now
        )
        ticket.assignee_id = change.assignee_id
        changed = True
    tags = None if change.tags is None else list(parse_tags(list(change.tags)))
    if tags is not None and tags != list(ticket.tags or []):
        data = {"old": list(ticket.tags or []), "new": tags}
        store.add_event(session, ticket, "tags", actor, data, now)
        ticket.tags = tags
        changed = True
    if change.status is not None:
        changed = (
            await set_status(session, ticket, change.status, actor=actor, now=now, table=table) or changed
        )
    if changed:
        ticket.updated_at = to_db(now)
    return ticket_view(ticket)


async def _check_assignee(session: AsyncSession, user_id: int) -> None:
    user = await store.staff_user(session, user_id)
    if user is None or user.role not in AGENT_ROLES:
        raise ValidationFailed(f"no agent with id {user_id}", code="invalid_assignee")


async def reply(
    session: AsyncSession,
    number: str,
    text: str,
    *,
    actor: str,
    now: datetime,
    sink: MessageSink,
    table: SlaTable = DEFAULT_SLA_TABLE,
) -> ReplyResult:
    """Store an agent's reply in the conversation and on the ticket; deliver it after the commit.

    The first reply stamps ``first_responded_at``; a reply to a new ticket opens it.
    """
    ticket = await store.get_ticket(session, number, for_update=True)
    if ticket.status == Status.CLOSED:
        raise Conflict(
            "the ticket is closed; the customer's next message starts a new one", code="ticket_closed"
        )
    conv = await conversations.get_conversation(session, ticket.conversation_id)
    message = sink.add(session, conv, "agent", text, payload={"ticket": ticket.number})
    message.created_at = to_db(now)
    await session.flush()
    store.add_event(session, ticket, "reply", actor, {"message_id": message.id, "text": text}, now)
    if ticket.first_responded_at is None:
        ticket.first_responded_at = to_db(now)
    if ticket.status == Status.NEW:
        await set_status(session, ticket, Status.OPEN, actor=actor, now=now, table=table)
    ticket.updated_at = to_db(now)
    return ReplyResult(ticket_view(ticket), conv, message)


async def add_note(session: AsyncSession, number: str, text: str, *, actor: str, now: datetime) -> TicketView:
    """An internal note: on the ticket's history only, never shown to the customer."""
    ticket = await store.get_ticket(session, number, for_update=True)
    store.add_event(session, ticket, "note", actor, {"text": text}, now)
    ticket.updated_at = to_db(now)
    return ticket_view(ticket)


async def list_tickets(
    session: AsyncSession,
    wanted: TicketFilter,
    *,
    now: datetime,
    warn_before: timedelta = DEFAULT_WARN_BEFORE,
) -> TicketPage:
    rows, total = await store.list_tickets(session, wanted)
    views = tuple(ticket_view(ticket, now, warn_before) for ticket in rows)
    return TicketPage(views, total, wanted.page, wanted.page_size)


async def ticket_detail(
    session: AsyncSession, number: str, *, now: datetime, warn_before: timedelta = DEFAULT_WARN_BEFORE
) -> TicketDetail:
    """The ticket, its whole history and the conversation transcript (internal notes included)."""
    ticket = await store.get_ticket(session, number)
    events = await store.events_of(session, ticket.id)
    messages: Sequence[Message] = await conversations.messages_after(
        session, ticket.conversation_id, 0, include_notes=True, limit=TRANSCRIPT_LIMIT
    )
    return TicketDetail(
        ticket_view(ticket, now, warn_before),
        tuple(event_view(event) for event in events),
        tuple(view_of(message) for message in messages),
    )


async def on_customer_message(
    session: AsyncSession,
    conversation_id: str,
    text: str,
    *,
    now: datetime | None = None,
    table: SlaTable = DEFAULT_SLA_TABLE,
) -> TicketView | None:
    """The switchboard calls this for each customer message: an answer reopens a pending or
    solved ticket of the conversation (its SLA clocks run again). Returns the ticket, if any."""
    at = now if now is not None else datetime.now(UTC)
    statuses = [status for status in Status if status != Status.CLOSED]
    ticket = await store.latest_ticket(session, statuses=statuses, conversation_id=conversation_id)
    if ticket is None:
        return None
    if ticket.status in REOPENABLE:
        await set_status(
            session, ticket, Status.OPEN, actor=CUSTOMER, now=at, table=table, reason="customer_message"
        )
    ticket.updated_at = to_db(at)
    return ticket_view(ticket)


async def open_ticket_number(session: AsyncSession, conversation_id: str) -> str | None:
    """The number of the conversation's ticket that is still being worked on, if any: a second
    after-hours handoff in the same thread adds to it instead of opening another."""
    working = [status for status in Status if status not in (Status.SOLVED, Status.CLOSED)]
    ticket = await store.latest_ticket(session, statuses=working, conversation_id=conversation_id)
    return None if ticket is None else ticket.number


async def first_customer_text(session: AsyncSession, conversation_id: str) -> str | None:
    return await session.scalar(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.sender == "customer")
        .order_by(Message.id)
        .limit(1)
    )


async def customer_tier(session: AsyncSession, customer_id: str) -> str:
    tier = await session.scalar(select(Customer.tier).where(Customer.id == customer_id))
    return tier or "normal"
