"""SQL for tickets, their events and business hours. AsyncSession in; the caller owns the transaction.

SQLite keeps no timezone: every datetime is written in UTC (``to_db``) and read back as UTC
(``aware``), so comparisons in SQL and in Python agree on both databases.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from handoff.tables import User
from tickets.model import ACTIVE, Status, TicketFilter
from tickets.tables import BusinessHours, Ticket, TicketEvent

SLA_ALERT = "sla_alert"


def to_db(value: datetime) -> datetime:
    """The instant in UTC (SQLite stores the wall time it is given)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    return value.astimezone(UTC)


def aware(value: datetime) -> datetime:
    """A stored datetime as an aware UTC instant (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def maybe_aware(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


async def get_ticket(session: AsyncSession, number: str, *, for_update: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.number == number)
    if for_update:
        query = query.with_for_update()
    ticket = await session.scalar(query)
    if ticket is None:
        raise NotFound(f"ticket {number} not found", code="ticket_not_found")
    return ticket


def add_event(
    session: AsyncSession, ticket: Ticket, kind: str, actor: str, data: dict[str, Any], now: datetime
) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor[:64], data=data, created_at=to_db(now))
    session.add(event)
    return event


async def events_of(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    result = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return result.all()


async def staff_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


def _filtered(query: Select[Any], wanted: TicketFilter) -> Select[Any]:
    if wanted.status is not None:
        query = query.where(Ticket.status == wanted.status)
    if wanted.priority is not None:
        query = query.where(Ticket.priority == wanted.priority)
    if wanted.group is not None:
        query = query.where(Ticket.group == wanted.group)
    if wanted.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif wanted.assignee_id is not None:
        query = query.where(Ticket.assignee_id == wanted.assignee_id)
    if wanted.text:
        query = query.where(
            or_(Ticket.subject.icontains(wanted.text, autoescape=True), Ticket.number == wanted.text)
        )
    return query


async def list_tickets(session: AsyncSession, wanted: TicketFilter) -> tuple[Sequence[Ticket], int]:
    """One page (newest change first) and how many tickets match in all."""
    total = await session.scalar(_filtered(select(func.count(Ticket.id)), wanted)) or 0
    page = await session.scalars(
        _filtered(select(Ticket), wanted)
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .offset((wanted.page - 1) * wanted.page_size)
        .limit(wanted.page_size)
    )
    return page.all(), total


async def latest_ticket(
    session: AsyncSession,
    *,
    statuses: Collection[Status],
    customer_id: str | None = None,
    conversation_id: str | None = None,
) -> Ticket | None:
    query = select(Ticket).where(Ticket.status.in_(list(statuses)))
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if conversation_id is not None:
        query = query.where(Ticket.conversation_id == conversation_id)
    return await session.scalar(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


async def tickets_due(session: AsyncSession, before: datetime) -> Sequence[Ticket]:
    """Tickets whose clocks run and that have a deadline at or before ``before`` still to meet."""
    limit = to_db(before)
    result = await session.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(list(ACTIVE)),
            or_(
                (Ticket.first_responded_at.is_(None)) & (Ticket.first_response_due <= limit),
                Ticket.resolution_due <= limit,
            ),
        )
        .order_by(Ticket.id)
    )
    return result.all()


async def alerts_recorded(session: AsyncSession, ticket_ids: Collection[int]) -> set[tuple[int, str, str]]:
    """(ticket id, target, level) of the SLA alerts already raised for these tickets."""
    if not ticket_ids:
        return set()
    result = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data).where(
            TicketEvent.kind == SLA_ALERT, TicketEvent.ticket_id.in_(list(ticket_ids))
        )
    )
    return {(ticket_id, str(data.get("target")), str(data.get("level"))) for ticket_id, data in result}


async def get_business_hours(session: AsyncSession, group: str) -> BusinessHours | None:
    return await session.get(BusinessHours, group)


async def save_business_hours(
    session: AsyncSession,
    group: str,
    schedule: dict[str, Any],
    after_hours_mode: str,
    announcement: str,
    now: datetime,
) -> BusinessHours:
    row = await session.get(BusinessHours, group, with_for_update=True)
    if row is None:
        row = BusinessHours(group=group)
        session.add(row)
    row.schedule = schedule
    row.after_hours_mode = after_hours_mode
    row.announcement = announcement
    row.updated_at = to_db(now)
    await session.flush()
    return row


__all__ = [
    "SLA_ALERT",
    "add_event",
    "alerts_recorded",
    "aware",
    "events_of",
    "get_business_hours",
    "get_ticket",
    "latest_ticket",
    "list_tickets",
    "maybe_aware",
    "save_business_hours",
    "staff_user",
    "tickets_due",
    "to_db",
]
