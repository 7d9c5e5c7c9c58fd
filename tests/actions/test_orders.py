from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from actions.orders import find_order_no
from conversations.identities import link
from conversations.orders import SqlOrderLookup
from conversations.tables import Order
from core.errors import Unavailable
from core.orders import OrderInfo
from store.engine import create_engine, session_factory
from tests.actions.conftest import OWNER, STRANGER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YQ20261101001", "YQ20261101001"),
        ("yq20261101001", "YQ20261101001"),
        ("查一下订单Yq20261101001到哪了", "YQ20261101001"),
        ("order YQ20261101001, please", "YQ20261101001"),
        ("YQ2026110100", None),  # 10 digits
        ("YQ202611010011", None),  # 12 digits
        ("XYQ20261101001", None),
        ("我的订单到哪了", None),
    ],
)
def test_find_order_no(text: str, expected: str | None) -> None:
    assert find_order_no(text) == expected


async def test_finds_an_order_in_the_table(orders: SqlOrderLookup) -> None:
    assert await orders.find("YQ20261101001", OWNER) == OrderInfo(
        order_no="YQ20261101001",
        status="shipped",
        carrier="SF Express",
        tracking_no="SF1234567890",
        eta="2026-11-05",
    )
    assert await orders.find("YQ20261101002", OWNER) == OrderInfo(order_no="YQ20261101002", status="paid")


async def test_unknown_order_is_none(orders: SqlOrderLookup) -> None:
    assert await orders.find("YQ29999999999", OWNER) is None


@pytest.mark.parametrize("customer", [STRANGER, "cust-unknown", None])
async def test_another_customers_order_is_not_found(orders: SqlOrderLookup, customer: str | None) -> None:
    assert await orders.find("YQ20261101001", customer) is None


async def test_an_order_without_an_owner_is_nobodys(order_db: str, orders: SqlOrderLookup) -> None:
    engine = create_engine(order_db)
    try:
        async with session_factory(engine).begin() as session:
            session.add(Order(order_no="YQ20261101009", status="paid"))
    finally:
        await engine.dispose()
    for customer in (OWNER, STRANGER):
        assert await orders.find("YQ20261101009", customer) is None


async def test_a_customer_linked_to_the_owner_reads_the_order(order_db: str, orders: SqlOrderLookup) -> None:
    engine = create_engine(order_db)
    try:
        async with session_factory(engine).begin() as session:
            await link(session, OWNER, STRANGER, reason="same member", actor="test")
    finally:
        await engine.dispose()
    # The merged-away id (as an older message's metadata may still carry it) resolves to the owner.
    assert await orders.find("YQ20261101002", STRANGER) == OrderInfo(order_no="YQ20261101002", status="paid")


async def test_a_database_without_the_table_is_unavailable(tmp_path: Path) -> None:
    lookup = SqlOrderLookup(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Unavailable) as caught:
            await lookup.find("YQ20261101001", OWNER)
        assert caught.value.code == "orders_unavailable"
    finally:
        await lookup.close()


async def test_pickles_without_its_engine(orders: SqlOrderLookup) -> None:
    await orders.find("YQ20261101001", OWNER)  # opens the engine
    copy = pickle.loads(pickle.dumps(orders))
    try:
        assert copy._engine is None
        assert (await copy.find("YQ20261101002", OWNER)) is not None
    finally:
        await copy.close()
