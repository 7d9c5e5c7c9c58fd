"""One CSAT rating per conversation: a later one replaces it, however many are sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.desk.csat import record
from conversations.tables import Conversation, CsatRating, Customer
from service.deps import Deps
from store.engine import create_engine, session_factory, sync_url
from store.migrate import upgrade
from tests.service.visitors import visitor_headers


async def closed_conversation(sessions: async_sessionmaker[AsyncSession], conv_id: str, visitor: str) -> None:
    async with sessions.begin() as session:
        session.add(Customer(id=f"cust-{conv_id}"))
        await session.flush()
        session.add(
            Conversation(
                id=conv_id,
                customer_id=f"cust-{conv_id}",
                channel="web",
                channel_user_id=visitor,
                state="closed",
            )
        )


async def ratings(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(CsatRating).order_by(CsatRating.id))
        return [(r.conversation_id, r.rating, r.comment) for r in rows]


async def test_rating_a_conversation_again_replaces_the_rating(
    client: SanicASGITestClient, deps: Deps
) -> None:
    await closed_conversation(deps.sessions, "c1", "v1")
    await closed_conversation(deps.sessions, "c2", "v2")
    for rating in (1, 1, 1, 5, 2):
        _, resp = await client.post(
            "/api/web/conversations/c1/csat",
            json={"visitor_id": "v1", "rating": rating, "comment": f"r{rating}"},
            headers=visitor_headers(client, "v1"),
        )
        assert resp.status == 200, resp.text
    _, resp = await client.post(
        "/api/web/conversations/c2/csat", json={"rating": 4}, headers=visitor_headers(client, "v2")
    )
    assert await ratings(deps.sessions) == [("c1", 2, "r2"), ("c2", 4, "")]


async def test_concurrent_ratings_leave_one(client: SanicASGITestClient, deps: Deps) -> None:
    await closed_conversation(deps.sessions, "c3", "v3")
    await asyncio.gather(*(deps.desk.csat.rate("c3", 1 + i % 5, "") for i in range(10)))
    [(conversation_id, rating, _)] = await ratings(deps.sessions)
    assert conversation_id == "c3" and 1 <= rating <= 5


async def upsert_twice(url: str) -> list[tuple[str, int, str]]:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await closed_conversation(sessions, "c4", "v4")
        for rating, comment in ((1, "bad"), (5, "good after all")):
            async with sessions.begin() as session:
                conv = await session.get(Conversation, "c4")
                assert conv is not None
                await record(session, conv, rating, comment)
        return await ratings(sessions)
    finally:
        await engine.dispose()


async def test_the_upsert_on_sqlite(tmp_path: Path) -> None:
    assert await upsert_twice(f"sqlite:///{tmp_path / 'csat.db'}") == [("c4", 5, "good after all")]


@pytest.mark.postgres
async def test_the_upsert_on_postgres(postgres_url: str) -> None:
    assert await upsert_twice(postgres_url) == [("c4", 5, "good after all")]


CUSTOMER = (
    "INSERT INTO customers (id, display_name, tier, lang, created_at) VALUES ('k', '', 'normal', 'zh', :t)"
)
CONVERSATION = (
    "INSERT INTO conversations (id, customer_id, channel, channel_user_id, entry_point, state, lang,"
    " created_at, updated_at) VALUES (:id, 'k', 'web', :id, '', 'closed', 'zh', :t, :t)"
)
RATING = "INSERT INTO csat_ratings (conversation_id, rating, comment, created_at) VALUES (:c, :r, '', :t)"


def test_the_migration_keeps_each_conversations_latest_rating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0004")
    engine = create_sync_engine(sync_url(url))
    when = "2026-01-01 00:00:00"
    try:
        with engine.begin() as conn:
            conn.execute(text(CUSTOMER), {"t": when})
            for conv in ("a", "b"):
                conn.execute(text(CONVERSATION), {"id": conv, "t": when})
            for conv, rating in (("a", 1), ("a", 1), ("b", 3), ("a", 4)):
                conn.execute(text(RATING), {"c": conv, "r": rating, "t": when})
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT conversation_id, rating FROM csat_ratings ORDER BY conversation_id")
            )
            assert [tuple(r) for r in rows] == [("a", 4), ("b", 3)]
    finally:
        engine.dispose()
