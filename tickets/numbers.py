"""Human ticket numbers: "T" + local date + "-" + a daily sequence, e.g. ``T20250930-0007``.

The sequence is the day's highest number plus one, taken inside a savepoint after the ticket
row exists; a concurrent writer that took the same number makes the flush fail on the unique
index, and the next attempt reads the new highest number. On SQLite the ticket's own insert
already holds the write lock, so the first attempt always wins there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from tickets.hours import as_utc
from tickets.tables import Ticket

NUMBER_TIMEZONE = ZoneInfo("Asia/Shanghai")  # the day in a number is the day in Beijing
ATTEMPTS = 8


def day_prefix(now: datetime, tz: ZoneInfo = NUMBER_TIMEZONE) -> str:
    return "T" + as_utc(now, "now").astimezone(tz).strftime("%Y%m%d") + "-"


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:04d}"


def next_sequence(prefix: str, latest: str | None) -> int:
    """One more than the day's latest number (1 for the day's first ticket)."""
    if latest is None:
        return 1
    return int(latest.removeprefix(prefix)) + 1


def provisional_number() -> str:
    """A unique placeholder (32 characters) while the ticket row waits for its real number."""
    return "~" + uuid.uuid4().hex[:31]


async def latest_number(session: AsyncSession, prefix: str) -> str | None:
    query = (
        select(Ticket.number)
        .where(Ticket.number.startswith(prefix, autoescape=True))
        .order_by(func.length(Ticket.number).desc(), Ticket.number.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def assign_number(session: AsyncSession, ticket: Ticket, now: datetime) -> str:
    """Give a flushed ticket (holding a provisional number) the day's next number."""
    prefix = day_prefix(now)
    for _ in range(ATTEMPTS):
        number = format_number(prefix, next_sequence(prefix, await latest_number(session, prefix)))
        try:
            async with session.begin_nested():
                ticket.number = number
                await session.flush()
        except IntegrityError:
            continue  # someone else took it: read the new highest number and try again
        return number
    raise Conflict("could not allocate a ticket number, retry", code="ticket_number_busy")
