"""Staff accounts: agents, supervisors, knowledge editors and admins.

One set of rules for every way in (``kefu agents``, ``/api/admin/staff``, the demo loader): the
``check_*`` functions validate one field each and raise ``ValidationFailed`` with a stable code.
Disabling an account or changing its role ends the person's access at once (``end_access``):
every session is deleted and their presence goes offline, so no new conversation is routed to
them; conversations they hold stay theirs (as when an agent goes offline).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, ValidationFailed
from handoff.auth import Sessions
from handoff.model import AgentStatus
from handoff.passwords import hash_password
from handoff.presence import Presence
from handoff.tables import User

ROLES = ("agent", "supervisor", "editor", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
# A skill is a routing group name (as business hours and routing rules spell groups).
SKILL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_CONCURRENT = 100
MAX_SKILLS = 20
MAX_DISPLAY_NAME = 64
# What an admin may change with PATCH /api/admin/staff/<id> (the password has its own route).
CHANGEABLE = ("display_name", "role", "skills", "max_concurrent", "enabled")
NEW_FIELDS = ("username", "password", "role", "display_name", "skills", "max_concurrent")


def check_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME.match(value):
        raise ValidationFailed(
            "username: 2-64 of a-z 0-9 _ . - starting with a letter or digit", code="invalid_username"
        )
    return value


def check_password(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_PASSWORD:
        raise ValidationFailed(
            f"password: a string of at most {MAX_PASSWORD} characters", code="invalid_password"
        )
    if len(value) < MIN_PASSWORD:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD} characters", code="weak_password")
    return value


def check_role(value: object) -> str:
    if not isinstance(value, str) or value not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    return value


def check_skills(value: object) -> list[str]:
    """A list of skill groups, each 1-64 of a-z 0-9 _ - (duplicates dropped, order kept)."""
    if not isinstance(value, list | tuple) or len(value) > MAX_SKILLS:
        raise ValidationFailed(f"skills: a list of at most {MAX_SKILLS} groups", code="invalid_skills")
    if not all(isinstance(s, str) and SKILL.match(s) for s in value):
        raise ValidationFailed(
            "skills: each 1-64 of a-z 0-9 _ - starting with a letter or digit", code="invalid_skills"
        )
    return list(dict.fromkeys(value))


def check_max_concurrent(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENT:
        raise ValidationFailed(f"max concurrent must be 1-{MAX_CONCURRENT}", code="invalid_max_concurrent")
    return value


def check_display_name(value: object) -> str:
    if not isinstance(value, str) or len(value.strip()) > MAX_DISPLAY_NAME:
        raise ValidationFailed(
            f"display name: at most {MAX_DISPLAY_NAME} characters", code="invalid_display_name"
        )
    return value.strip()


def check_enabled(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed("enabled must be true or false", code="invalid_enabled")
    return value


CHECKS = {
    "display_name": check_display_name,
    "role": check_role,
    "skills": check_skills,
    "max_concurrent": check_max_concurrent,
    "enabled": check_enabled,
}


def only_fields(body: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Refuse a key that is not ``allowed`` (422 ``invalid_field``): a typo is not ignored."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationFailed(
            f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}", code="invalid_field"
        )


def check_new(body: Mapping[str, Any]) -> dict[str, Any]:
    """The validated fields of a new account (``add_user``'s keyword arguments)."""
    only_fields(body, NEW_FIELDS)
    return {
        "username": check_username(body.get("username")),
        "password": check_password(body.get("password")),
        "role": check_role(body.get("role")),
        "skills": check_skills(body.get("skills", [])),
        "max_concurrent": check_max_concurrent(body.get("max_concurrent", 5)),
        "display_name": check_display_name(body.get("display_name", "")),
    }


def check_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """The validated fields of a change (at least one of ``CHANGEABLE``)."""
    only_fields(body, CHANGEABLE)
    if not body:
        raise ValidationFailed(
            f"nothing to change; changeable: {', '.join(CHANGEABLE)}", code="invalid_field"
        )
    return {name: CHECKS[name](value) for name, value in body.items()}


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
    user = User(
        username=check_username(username),
        role=check_role(role),
        skills=check_skills(list(skills)),
        max_concurrent=check_max_concurrent(max_concurrent),
        display_name=check_display_name(display_name),
    )
    check_password(password)
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username} is taken", code="username_taken")
    await set_password(user, password)
    session.add(user)
    await session.flush()
    return user


async def find_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no staff account {username}", code="user_not_found")
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no staff account {user_id}", code="user_not_found")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.id)))


def apply_changes(user: User, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Set the validated ``changes`` on ``user``; returns the fields whose value changed."""
    changed = {name: value for name, value in changes.items() if getattr(user, name) != value}
    for name, value in changed.items():
        setattr(user, name, value)
    return changed


def ends_access(changed: Mapping[str, Any]) -> bool:
    """Whether a change must end the person's sessions: disabled, or a new role."""
    return "role" in changed or changed.get("enabled") is False


async def guard_admins(session: AsyncSession, user: User, changes: Mapping[str, Any], actor_id: int) -> None:
    """An admin cannot disable or demote themselves, and the last enabled admin stays one.

    Only the API applies this: ``kefu agents`` runs with the server's own rights and is how an
    operator gets back in."""
    loses_admin = (
        user.role == "admin"
        and user.enabled
        and (changes.get("enabled") is False or changes.get("role", "admin") != "admin")
    )
    if user.id == actor_id and (
        changes.get("enabled") is False or changes.get("role", user.role) != user.role
    ):
        raise Conflict("you cannot disable yourself or change your own role", code="cannot_change_self")
    if not loses_admin:
        return
    # The enabled admins' rows, locked where the database can (Postgres): two admins demoting
    # each other at once cannot both pass this check.
    query = select(User.id).where(User.role == "admin", User.enabled.is_(True)).with_for_update()
    if [admin_id for admin_id in await session.scalars(query) if admin_id != user.id] == []:
        raise Conflict("this is the last enabled admin", code="last_admin")


async def set_role(session: AsyncSession, username: str, role: str) -> User:
    user = await find_user(session, username)
    apply_changes(user, {"role": check_role(role)})
    return user


async def set_password(user: User, password: str) -> None:
    """Hash a new password (scrypt: in a thread, so other requests keep flowing)."""
    user.password_hash = await asyncio.to_thread(hash_password, check_password(password))


async def end_access(sessions: Sessions, presence: Presence, user_id: int) -> int:
    """End every session of the user and set their presence offline (no new conversations);
    returns how many sessions ended."""
    ended = await sessions.logout_everywhere(user_id)
    with contextlib.suppress(NotFound):  # never had presence: nothing to take away
        await presence.set_status(str(user_id), AgentStatus.OFFLINE)
    return ended


def user_json(user: User) -> dict[str, Any]:
    """What an admin sees of an account (never the password hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "skills": list(user.skills or []),
        "max_concurrent": user.max_concurrent,
        "enabled": user.enabled,
        "created_at": _iso(user.created_at),
    }


def added_json(user: User) -> dict[str, Any]:
    """The audit log's record of a new account: what was set, never the password."""
    shown = ("display_name", "role", "skills", "max_concurrent")
    return {name: value for name, value in user_json(user).items() if name in shown}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
