"""Status moves with their side effects: SLA pauses while pending, resolution time, deadlines.

Both SLA clocks stop while a ticket is pending (waiting on the customer). Leaving pending
closes the pause and moves the deadlines on by the open time it covered. Solving or closing
stamps ``resolved_at``; reopening a solved ticket clears it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tickets import store
from tickets.errors import BeyondHorizon, HolidayDataMissing
from tickets.group_hours import load_group_hours
from tickets.model import Status, check_transition
from tickets.sla import Deadlines, SlaTable, compute_deadlines, pauses_as_of
from tickets.store import aware, maybe_aware, to_db
from tickets.tables import Ticket

log = logging.getLogger(__name__)


def stored_pauses(ticket: Ticket) -> list[tuple[datetime, datetime]]:
    """``Ticket.paused`` ([[start, end], ...] ISO text) as aware instants."""
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in ticket.paused or []
    ]


async def deadlines_for(
    session: AsyncSession, ticket: Ticket, now: datetime, table: SlaTable, tier: str | None = None
) -> Deadlines:
    """Deadlines from the group's hours, the tier (default: the ticket's) and the pauses so far."""
    hours = await load_group_hours(session, ticket.group)
    tier = tier or ticket.tier or "normal"
    pauses = pauses_as_of(stored_pauses(ticket), maybe_aware(ticket.pending_since), now)
    return compute_deadlines(
        table.policy_for(ticket.priority, tier), hours.schedule, aware(ticket.created_at), pauses
    )


async def refresh_deadlines(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    table: SlaTable,
    *,
    record: bool = True,
    tier: str | None = None,
) -> None:
    """Recompute and store both deadlines; a change is recorded as a "deadlines" event.

    When the holiday data or the horizon cannot place a deadline the ticket keeps none (and the
    sweeper skips it) rather than losing the customer's request: an "sla_unavailable" event says why.
    """
    old = _deadline_texts(ticket)
    try:
        deadlines = await deadlines_for(session, ticket, now, table, tier)
    except (HolidayDataMissing, BeyondHorizon) as exc:
        log.warning("ticket %s has no SLA deadlines: %s", ticket.number, exc)
        ticket.first_response_due = ticket.resolution_due = None
        store.add_event(
            session, ticket, "sla_unavailable", "system", {"code": exc.code, "reason": str(exc)}, now
        )
        return
    ticket.first_response_due = to_db(deadlines.first_response_due)
    ticket.resolution_due = to_db(deadlines.resolution_due)
    new = _deadline_texts(ticket)
    if record and new != old:
        store.add_event(session, ticket, "deadlines", "system", {"old": old, "new": new}, now)


def _deadline_texts(ticket: Ticket) -> dict[str, str | None]:
    return {
        "first_response_due": _iso(maybe_aware(ticket.first_response_due)),
        "resolution_due": _iso(maybe_aware(ticket.resolution_due)),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def set_status(
    session: AsyncSession,
    ticket: Ticket,
    new: Status,
    *,
    actor: str,
    now: datetime,
    table: SlaTable,
    reason: str = "",
) -> bool:
    """Move the ticket to ``new`` (recorded with old/new); False when it already was there."""
    old = Status(ticket.status)
    check_transition(old, new)
    if new == old:
        return False
    clocks_changed = _leave(ticket, old, now) | _enter(ticket, new, now)
    ticket.status = new
    data: dict[str, str] = {"old": old, "new": new}
    if reason:
        data["reason"] = reason
    store.add_event(session, ticket, "status", actor, data, now)
    if clocks_changed:
        await refresh_deadlines(session, ticket, now, table)
    return True


def _leave(ticket: Ticket, old: Status, now: datetime) -> bool:
    if old != Status.PENDING or ticket.pending_since is None:
        return False
    start = aware(ticket.pending_since)
    ticket.paused = [*(ticket.paused or []), [start.isoformat(), max(start, aware(now)).isoformat()]]
    ticket.pending_since = None
    return True


def _enter(ticket: Ticket, new: Status, now: datetime) -> bool:
    if new == Status.PENDING:
        ticket.pending_since = to_db(now)
        return True
    if new in (Status.SOLVED, Status.CLOSED) and ticket.resolved_at is None:
        ticket.resolved_at = to_db(now)
    elif new == Status.OPEN:
        ticket.resolved_at = None
    return False
