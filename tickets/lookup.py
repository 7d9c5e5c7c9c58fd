"""The ticket lookup the bot's ticket-status action asks (``actions.ticket_status.TicketLookup``),
read straight from the ticket tables by the action server."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.errors import NotFound, Unavailable
from core.tickets import Status, TicketSummary
from store.engine import create_engine, session_factory
from tickets import store
from tickets.views import ticket_summary


async def ticket_status_for_customer(session: AsyncSession, customer_id: str) -> TicketSummary | None:
    """The customer's latest ticket that is not closed (for "我的工单怎么样了")."""
    statuses = [status for status in Status if status != Status.CLOSED]
    ticket = await store.latest_ticket(session, statuses=statuses, customer_id=customer_id)
    return None if ticket is None else ticket_summary(ticket)


class SqlTicketLookup:
    """Reads the ticket tables. The engine opens on first use, in the process that uses it."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # rasa_sdk pickles the executor into its Sanic workers: never carry a live engine along.
        return {**self.__dict__, "_engine": None, "_sessions": None}

    async def latest_open(self, customer_id: str) -> TicketSummary | None:
        try:
            async with self._session() as session:
                return await ticket_status_for_customer(session, customer_id)
        except SQLAlchemyError as exc:
            raise Unavailable("the ticket database is not reachable", code="tickets_unavailable") from exc

    async def by_number(self, number: str, customer_id: str) -> TicketSummary | None:
        try:
            async with self._session() as session:
                ticket = await store.get_ticket(session, number)
        except NotFound:
            return None
        except SQLAlchemyError as exc:
            raise Unavailable("the ticket database is not reachable", code="tickets_unavailable") from exc
        return ticket_summary(ticket) if ticket.customer_id == customer_id else None

    def _session(self) -> AsyncSession:
        if self._sessions is None:
            self._engine = create_engine(self._url)
            self._sessions = session_factory(self._engine)
        return self._sessions()

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._sessions = None
