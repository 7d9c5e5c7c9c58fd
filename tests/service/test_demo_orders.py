"""The demo orders belong to demo member ids, so the order form can be tried once a customer
holds one (and a stranger still sees none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import identities
from conversations.tables import Order
from service.commands.demo import DEMO, _load_orders


async def test_every_demo_order_has_a_member_owner(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await _load_orders(session, DEMO / "orders.yaml") > 0
    async with sessions() as session:
        orders = (await session.scalars(select(Order))).all()
    for order in orders:
        assert order.owner_channel == identities.MEMBER, order.order_no
        assert identities.normalize(identities.MEMBER, order.owner_id) == order.owner_id
