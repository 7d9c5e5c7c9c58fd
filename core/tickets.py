"""What the bot and the tickets domain share about a ticket: its status and the summary the bot
tells a customer who asks after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer: both SLA clocks stop
    SOLVED = "solved"
    CLOSED = "closed"  # final


ACTIVE = (Status.NEW, Status.OPEN)  # statuses whose SLA clocks run
REOPENABLE = (Status.PENDING, Status.SOLVED)  # a customer's answer reopens these


@dataclass(frozen=True)
class TicketSummary:
    """What the bot tells a customer who asks after their ticket."""

    number: str
    subject: str
    status: Status
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
