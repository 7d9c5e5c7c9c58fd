from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, ValidationFailed
from handoff.passwords import hash_password, verify_password
from handoff.staff import add_user


def test_password_round_trip_and_salt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # salted
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("x", "not-a-hash")


async def test_add_user_validates_and_rejects_duplicates(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        user = await add_user(session, "alice", "s3cret-pass", "agent", skills=["zh"], max_concurrent=3)
        assert user.password_hash != "s3cret-pass"
    async with sessions.begin() as session:
        with pytest.raises(Conflict):
            await add_user(session, "alice", "another-pass", "agent")
    async with sessions() as session:
        for bad in [
            ("Bad Name", "longenough", "agent"),
            ("bob", "short", "agent"),
            ("bob", "longenough", "boss"),
        ]:
            with pytest.raises(ValidationFailed):
                await add_user(session, *bad)
