"""Canned replies: the texts agents insert with a ``/`` shortcut.

Two kinds: shared ones (``owner_id`` NULL), which supervisors and admins keep, and each agent's
own. An agent sees both; their own shortcut hides a shared one of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from handoff.auth import Staff
from handoff.tables import CannedReply

SHORTCUT = re.compile(r"^[\w.-]{1,32}$")
MAX_TEXT = 2000
LANGS = ("zh", "en")


def check(shortcut: object, text: object, lang: object) -> tuple[str, str, str]:
    """A canned reply's fields, or a 422 naming the bad one."""
    if not isinstance(shortcut, str) or not SHORTCUT.match(shortcut.removeprefix("/")):
        raise ValidationFailed("shortcut: 1-32 letters, digits, _ . -", code="invalid_shortcut")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ValidationFailed(f"text: 1-{MAX_TEXT} characters", code="invalid_text")
    if lang not in LANGS:
        raise ValidationFailed('lang must be "zh" or "en"', code="invalid_lang")
    return shortcut.removeprefix("/"), text.strip(), str(lang)


async def visible(sessions: async_sessionmaker[AsyncSession], staff: Staff) -> list[CannedReply]:
    """The shared replies and the agent's own, by shortcut; the agent's own first on a clash."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(CannedReply)
                .where(or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == staff.user_id))
                .order_by(CannedReply.shortcut, CannedReply.owner_id.is_(None))
            )
        ).all()
    seen: set[str] = set()
    chosen = []
    for row in rows:
        if row.shortcut not in seen:
            seen.add(row.shortcut)
            chosen.append(row)
    return chosen


async def all_replies(sessions: async_sessionmaker[AsyncSession]) -> Sequence[CannedReply]:
    async with sessions() as session:
        rows = await session.scalars(select(CannedReply).order_by(CannedReply.shortcut))
        return rows.all()


def _owner(staff: Staff, shared: bool) -> int | None:
    if not shared:
        return staff.user_id
    if not staff.may("supervisor"):
        raise Forbidden("only supervisors and admins keep the shared replies", code="forbidden_role")
    return None


async def create(
    session: AsyncSession, staff: Staff, shortcut: str, text: str, lang: str, *, shared: bool
) -> CannedReply:
    owner = _owner(staff, shared)
    clash = await session.scalar(
        select(CannedReply.id).where(
            CannedReply.shortcut == shortcut,
            CannedReply.owner_id.is_(None) if owner is None else CannedReply.owner_id == owner,
        )
    )
    if clash is not None:
        raise Conflict(f"/{shortcut} exists already", code="shortcut_exists")
    row = CannedReply(owner_id=owner, shortcut=shortcut, text=text, lang=lang)
    session.add(row)
    await session.flush()
    return row


async def editable(session: AsyncSession, staff: Staff, reply_id: int) -> CannedReply:
    """The reply if this person may change it: their own, or a shared one for a supervisor."""
    row = await session.get(CannedReply, reply_id)
    if row is None or (row.owner_id is not None and row.owner_id != staff.user_id):
        raise NotFound("canned reply not found", code="canned_not_found")
    if row.owner_id is None:
        _owner(staff, shared=True)
    return row


async def update(
    session: AsyncSession, staff: Staff, reply_id: int, shortcut: str, text: str, lang: str
) -> CannedReply:
    row = await editable(session, staff, reply_id)
    if shortcut != row.shortcut:
        clash = await session.scalar(
            select(CannedReply.id).where(
                CannedReply.shortcut == shortcut,
                CannedReply.owner_id.is_(None)
                if row.owner_id is None
                else CannedReply.owner_id == row.owner_id,
            )
        )
        if clash is not None:
            raise Conflict(f"/{shortcut} exists already", code="shortcut_exists")
    row.shortcut, row.text, row.lang = shortcut, text, lang
    await session.flush()
    return row


async def delete(session: AsyncSession, staff: Staff, reply_id: int) -> None:
    row = await editable(session, staff, reply_id)
    await session.delete(row)
