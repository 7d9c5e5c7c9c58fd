"""Channel sync cursors in SQL: one per channel and account, replaced in place."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.channel_cursors import SqlCursorStore


async def test_cursors_are_saved_per_channel_and_account(
    each_database: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCursorStore(each_database)
    assert await store.get("wecom_kf", "wk1") == ""
    await store.put("wecom_kf", "wk1", "c1")
    await store.put("wecom_kf", "wk1", "c2")
    await store.put("wecom_kf", "wk2", "x")
    await store.put("other", "wk9", "y")
    assert await store.get("wecom_kf", "wk1") == "c2"
    assert await store.accounts("wecom_kf") == ["wk1", "wk2"]
    assert await store.accounts("other") == ["wk9"]
