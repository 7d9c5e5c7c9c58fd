"""The demo order table behind a small Protocol, and order-number parsing.

Order numbers look like ``YQ20261101001``: "YQ" and 11 digits, in any letter case. Numbers are
guessable, so an order is found only for the customer who owns it: the customer holding the
order's owner identity (see ``kefu.db.models.Order``). Anyone else gets the same "not found"
as for a number that does not exist, so a lookup never tells whether an order exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kefu.db.engine import create_engine
from kefu.db.models import ChannelIdentity, Order
from kefu.errors import Unavailable
from kefu.identities import resolve

ORDER_NO = re.compile(r"(?<![A-Za-z0-9])YQ\d{11}(?!\d)", re.IGNORECASE)


def find_order_no(text: str) -> str | None:
    """The first order number in ``text``, upper-cased; None when there is none."""
    match = ORDER_NO.search(text)
    return match.group(0).upper() if match else None


@dataclass(frozen=True)
class OrderInfo:
    order_no: str
    status: str
    carrier: str = ""
    tracking_no: str = ""
    eta: str = ""


class OrderLookup(Protocol):
    async def find(self, order_no: str, customer_id: str | None) -> OrderInfo | None:
        """The order if ``customer_id`` owns it; None for a missing order or another's."""
        ...


class SqlOrderLookup:
    """Reads the ``orders`` table. The engine opens on first use, in the process that uses it."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._engine: AsyncEngine | None = None

    def __getstate__(self) -> dict[str, Any]:
        # rasa_sdk pickles the executor into its Sanic workers: never carry a live engine along.
        return {**self.__dict__, "_engine": None}

    async def find(self, order_no: str, customer_id: str | None) -> OrderInfo | None:
        if not customer_id:
            return None
        if self._engine is None:
            self._engine = create_engine(self._url)
        owner = and_(
            ChannelIdentity.channel == Order.owner_channel, ChannelIdentity.channel_user_id == Order.owner_id
        )
        owned = select(Order).join(ChannelIdentity, owner)
        try:
            async with AsyncSession(self._engine) as session:
                customer = await resolve(session, customer_id)
                row = await session.scalar(
                    owned.where(Order.order_no == order_no, ChannelIdentity.customer_id == customer)
                )
        except SQLAlchemyError as exc:
            raise Unavailable("the order database is not reachable", code="orders_unavailable") from exc
        if row is None:
            return None
        return OrderInfo(
            order_no=row.order_no,
            status=row.status,
            carrier=row.carrier or "",
            tracking_no=row.tracking_no or "",
            eta=row.eta or "",
        )

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
