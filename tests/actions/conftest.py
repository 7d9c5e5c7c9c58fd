"""Real rasa_sdk trackers and dispatchers for the action tests, and an order table in SQLite.

Both demo orders belong to customer ``OWNER`` (through a member identity); the trackers speak
for ``OWNER`` unless a test gives another ``customer_id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy.ext.asyncio import AsyncEngine

from conversations.orders import SqlOrderLookup
from conversations.tables import ChannelIdentity, Customer, Order
from core.settings import ROOT
from core.types import Lang
from knowledge.types import SearchResult
from store.base import Base
from store.engine import create_engine, session_factory

MakeTracker = Callable[..., Tracker]

OWNER = "cust-owner"
STRANGER = "cust-stranger"


class FakeSearcher:
    """Records the queries; answers with a prepared result or raises a prepared error."""

    def __init__(self, result: SearchResult | None = None, error: Exception | None = None) -> None:
        self.result, self.error = result, error
        self.calls: list[tuple[str, Lang | None, int]] = []

    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult:
        self.calls.append((text, lang, k))
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The bot's real domain, as Rasa sends it to the action server."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    return loaded


def user_message(
    text: str,
    lang: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    customer_id: str | None = None,
) -> dict[str, Any]:
    metadata = {"lang": lang} if lang else {}
    if customer_id:
        metadata["customer_id"] = customer_id
    return {
        "text": text,
        "intent": {"name": "faq", "confidence": 0.9},
        "entities": entities or [],
        "metadata": metadata,
    }


@pytest.fixture
def make_tracker() -> MakeTracker:
    """A tracker whose latest message is ``text``; ``slot_events`` end the event list (form style)."""

    def make(
        text: str,
        *,
        lang: str | None = None,
        slots: dict[str, Any] | None = None,
        slot_events: dict[str, Any] | None = None,
        active_loop: str | None = None,
        customer_id: str | None = OWNER,
    ) -> Tracker:
        message = user_message(text, lang, customer_id=customer_id)
        events: list[dict[str, Any]] = [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": message, "metadata": message["metadata"]},
        ]
        events += [{"event": "slot", "name": k, "value": v} for k, v in (slot_events or {}).items()]
        return Tracker(
            sender_id="conv-1",
            slots={"order_no": None, "order_attempts": 0.0, "requested_slot": None, **(slots or {})},
            latest_message=message,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return make


async def add_orders(engine: AsyncEngine, *orders: Order) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with session_factory(engine).begin() as session:
        session.add_all([Customer(id=OWNER), Customer(id=STRANGER)])
        await session.flush()
        session.add_all(
            [
                ChannelIdentity(customer_id=OWNER, channel="member", channel_user_id="m-owner"),
                ChannelIdentity(customer_id=STRANGER, channel="web", channel_user_id="v-stranger"),
            ]
        )
        session.add_all(orders)


@pytest.fixture
async def order_db(tmp_path: Path) -> AsyncIterator[str]:
    """URL of a SQLite file with the schema and two demo orders."""
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    engine = create_engine(url)
    try:
        await add_orders(
            engine,
            Order(
                order_no="YQ20261101001",
                status="shipped",
                carrier="SF Express",
                tracking_no="SF1234567890",
                eta="2026-11-05",
                owner_channel="member",
                owner_id="m-owner",
            ),
            Order(order_no="YQ20261101002", status="paid", owner_channel="member", owner_id="m-owner"),
        )
    finally:
        await engine.dispose()
    yield url


@pytest.fixture
async def orders(order_db: str) -> AsyncIterator[SqlOrderLookup]:
    lookup = SqlOrderLookup(order_db)
    try:
        yield lookup
    finally:
        await lookup.close()
