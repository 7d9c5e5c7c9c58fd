"""Typed views of stored tickets, events and messages (datetimes as aware UTC instants)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tickets.model import EventView, Status, TicketSummary, TicketView
from tickets.sla import Deadlines, SlaStatus, sla_status
from tickets.store import aware, maybe_aware
from tickets.tables import Ticket, TicketEvent


def ticket_view(
    ticket: Ticket, now: datetime | None = None, warn_before: timedelta | None = None
) -> TicketView:
    """The ticket; with ``now`` and ``warn_before`` also its SLA state (None while paused)."""
    return TicketView(
        number=ticket.number,
        subject=ticket.subject,
        status=Status(ticket.status),
        priority=ticket.priority,
        group=ticket.group,
        channel=ticket.channel,
        customer_id=ticket.customer_id,
        conversation_id=ticket.conversation_id,
        assignee_id=ticket.assignee_id,
        tags=tuple(ticket.tags or ()),
        first_response_due=maybe_aware(ticket.first_response_due),
        resolution_due=maybe_aware(ticket.resolution_due),
        first_responded_at=maybe_aware(ticket.first_responded_at),
        resolved_at=maybe_aware(ticket.resolved_at),
        pending_since=maybe_aware(ticket.pending_since),
        created_at=aware(ticket.created_at),
        updated_at=aware(ticket.updated_at),
        sla=None if now is None or warn_before is None else current_sla(ticket, now, warn_before),
    )


def current_sla(ticket: Ticket, now: datetime, warn_before: timedelta) -> SlaStatus | None:
    """Both targets' state at ``now``; None without deadlines or while the clocks stand still."""
    if ticket.first_response_due is None or ticket.resolution_due is None:
        return None
    if ticket.status == Status.PENDING:
        return None
    deadlines = Deadlines(aware(ticket.first_response_due), aware(ticket.resolution_due))
    return sla_status(
        deadlines,
        now,
        maybe_aware(ticket.first_responded_at),
        maybe_aware(ticket.resolved_at),
        warn_before,
    )


def event_view(event: TicketEvent) -> EventView:
    return EventView(event.kind, event.actor, dict(event.data or {}), aware(event.created_at))


def ticket_summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        number=ticket.number,
        subject=ticket.subject,
        status=Status(ticket.status),
        created_at=aware(ticket.created_at),
        updated_at=aware(ticket.updated_at),
        first_response_due=maybe_aware(ticket.first_response_due),
        resolution_due=maybe_aware(ticket.resolution_due),
        first_responded_at=maybe_aware(ticket.first_responded_at),
    )
