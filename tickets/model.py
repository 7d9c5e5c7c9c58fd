"""Ticket statuses, the moves between them, and the typed views the API and the bot read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import Conflict, ValidationFailed
from core.tickets import ACTIVE, REOPENABLE, Status, TicketSummary
from core.types import MessageView
from tickets.sla import Priority, SlaStatus

__all__ = [
    "ACTIVE",
    "REOPENABLE",
    "EventView",
    "Priority",
    "Status",
    "TicketChange",
    "TicketDetail",
    "TicketFilter",
    "TicketPage",
    "TicketSummary",
    "TicketView",
    "check_transition",
    "parse_priority",
    "parse_status",
    "parse_tags",
]


MOVES: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def parse_status(value: object) -> Status:
    try:
        return Status(str(value))
    except ValueError:
        raise ValidationFailed(f"status must be one of {', '.join(Status)}", code="invalid_status") from None


def parse_priority(value: object) -> Priority:
    try:
        return Priority(str(value))
    except ValueError:
        raise ValidationFailed(
            f"priority must be one of {', '.join(Priority)}", code="invalid_priority"
        ) from None


def check_transition(old: Status, new: Status) -> None:
    if old == Status.CLOSED:
        raise Conflict("the ticket is closed and cannot change", code="ticket_closed")
    if new != old and new not in MOVES[old]:
        raise Conflict(f"a ticket cannot go from {old} to {new}", code="invalid_transition")


@dataclass(frozen=True)
class TicketChange:
    """A PATCH: only the fields given change (``assignee_set`` tells 'unassign' from 'absent')."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    assignee_set: bool = False
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TicketFilter:
    status: Status | None = None
    priority: Priority | None = None
    group: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    text: str = ""
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class TicketView:
    number: str
    subject: str
    status: Status
    priority: str
    group: str
    channel: str
    customer_id: str
    conversation_id: str
    assignee_id: int | None
    tags: tuple[str, ...]
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    pending_since: datetime | None
    created_at: datetime
    updated_at: datetime
    sla: SlaStatus | None = None


@dataclass(frozen=True)
class EventView:
    kind: str
    actor: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class TicketDetail:
    ticket: TicketView
    events: tuple[EventView, ...]
    transcript: tuple[MessageView, ...]  # the one message view (core.types)


@dataclass(frozen=True)
class TicketPage:
    tickets: tuple[TicketView, ...]
    total: int
    page: int
    page_size: int


MAX_TAGS = 20
MAX_TAG_LENGTH = 32


def parse_tags(value: object) -> tuple[str, ...]:
    """A list of 1-32 character strings (trimmed, duplicates dropped, order kept), at most 20."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValidationFailed("tags must be a list of strings", code="invalid_tags")
    tags = tuple(dict.fromkeys(tag.strip() for tag in value))
    if len(tags) > MAX_TAGS or any(not tag or len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValidationFailed(
            f"at most {MAX_TAGS} tags of 1-{MAX_TAG_LENGTH} characters each", code="invalid_tags"
        )
    return tags
