from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, ValidationFailed
from handoff.passwords import hash_password, verify_password
from handoff.staff import add_user, check_skills, get_user, guard_admins


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


async def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        first = await add_user(session, "root", "s3cret-pass", "admin")
        second = await add_user(session, "root2", "s3cret-pass", "admin")
        second.enabled = False
        boss = await add_user(session, "boss", "s3cret-pass", "supervisor")
    async with sessions() as session:
        root = await get_user(session, first.id)
        for change in ({"enabled": False}, {"role": "supervisor"}):
            with pytest.raises(Conflict) as refused:
                await guard_admins(session, root, change, actor_id=boss.id)
            assert refused.value.code == "last_admin"
            with pytest.raises(Conflict) as refused:
                await guard_admins(session, root, change, actor_id=root.id)
            assert refused.value.code == "cannot_change_self"
        await guard_admins(session, root, {"display_name": "老板", "enabled": True}, actor_id=root.id)
    async with sessions.begin() as session:
        (await get_user(session, second.id)).enabled = True
    async with sessions() as session:
        root = await get_user(session, first.id)
        await guard_admins(session, root, {"role": "agent"}, actor_id=second.id)  # another remains


def test_skills_are_group_names() -> None:
    assert check_skills(["general", "vip", "general"]) == ["general", "vip"]
    for bad in ("general", ["VIP"], ["a,b"], [""], [1], ["x"] * 21):
        with pytest.raises(ValidationFailed) as refused:
            check_skills(bad)
        assert refused.value.code == "invalid_skills"
