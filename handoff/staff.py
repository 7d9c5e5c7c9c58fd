"""Staff accounts: agents, supervisors, knowledge editors and admins."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, ValidationFailed
from handoff.passwords import hash_password
from handoff.tables import User

ROLES = ("agent", "supervisor", "editor", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


async def add_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: str,
    *,
    skills: Sequence[str] = (),
    max_concurrent: int = 5,
    display_name: str = "",
) -> User:
    if not USERNAME.match(username):
        raise ValidationFailed(
            "username: 2-64 of a-z 0-9 _ . - starting with a letter or digit", code="invalid_username"
        )
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if len(password) < 8:
        raise ValidationFailed("password must have at least 8 characters", code="weak_password")
    if not 1 <= max_concurrent <= 100:
        raise ValidationFailed("max concurrent must be 1-100", code="invalid_max_concurrent")
    if len(display_name) > 64:
        raise ValidationFailed("display name: at most 64 characters", code="invalid_display_name")
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username} exists", code="user_exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        skills=[s for s in skills if s],
        max_concurrent=max_concurrent,
        display_name=display_name.strip(),
    )
    session.add(user)
    await session.flush()
    return user


async def find_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no staff account {username}", code="user_not_found")
    return user


async def set_enabled(session: AsyncSession, username: str, enabled: bool) -> User:
    user = await find_user(session, username)
    user.enabled = enabled
    return user


async def set_role(session: AsyncSession, username: str, role: str) -> User:
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    user = await find_user(session, username)
    user.role = role
    return user


async def reset_password(session: AsyncSession, username: str, password: str) -> User:
    if len(password) < 8:
        raise ValidationFailed("password must have at least 8 characters", code="weak_password")
    user = await find_user(session, username)
    user.password_hash = hash_password(password)
    return user
