"""The shop's orders read for the bot's order-status form, owner checked.

An order belongs to a channel identity (``Order.owner_channel``, ``owner_id``); the customer who
holds that identity (after links and merges) may read it, nobody else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from conversations.identities import resolve
from conversations.tables import ChannelIdentity, Order
from core.errors import Unavailable
from core.orders import OrderInfo
from store.engine import create_engine


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
