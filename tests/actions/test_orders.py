from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from actions.orders import OrderInfo, SqlOrderLookup, find_order_no
from core.errors import Unavailable


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
    assert await orders.find("YQ20261101001") == OrderInfo(
        order_no="YQ20261101001",
        status="shipped",
        carrier="SF Express",
        tracking_no="SF1234567890",
        eta="2026-11-05",
    )
    assert await orders.find("YQ20261101002") == OrderInfo(order_no="YQ20261101002", status="paid")


async def test_unknown_order_is_none(orders: SqlOrderLookup) -> None:
    assert await orders.find("YQ29999999999") is None


async def test_a_database_without_the_table_is_unavailable(tmp_path: Path) -> None:
    lookup = SqlOrderLookup(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Unavailable) as caught:
            await lookup.find("YQ20261101001")
        assert caught.value.code == "orders_unavailable"
    finally:
        await lookup.close()


async def test_pickles_without_its_engine(orders: SqlOrderLookup) -> None:
    await orders.find("YQ20261101001")  # opens the engine
    copy = pickle.loads(pickle.dumps(orders))
    try:
        assert copy._engine is None
        assert (await copy.find("YQ20261101002")) is not None
    finally:
        await copy.close()
