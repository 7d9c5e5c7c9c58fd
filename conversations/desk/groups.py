"""Which agent groups exist: a group is known when the floor settings name it (the groups
supervisors keep and the groups routing rules send to, passed in as ``routed_groups``), its
business hours are saved, or a staff account has it as a skill (docs/architecture.md,
"Decisions")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.tables import User
from tickets import store as ticket_store
from tickets.tables import BusinessHours


async def group_known(session: AsyncSession, group: str, routed_groups: Iterable[str]) -> bool:
    if group in set(routed_groups):
        return True
    if await ticket_store.get_business_hours(session, group) is not None:
        return True
    for skills in (await session.scalars(select(User.skills))).all():
        if isinstance(skills, list) and group in skills:
            return True
    return False


async def known_groups(session: AsyncSession, routed_groups: Iterable[str]) -> list[str]:
    """Every group ``group_known`` accepts, sorted: what a transfer may name."""
    found = set(routed_groups)
    found.update((await session.scalars(select(BusinessHours.group))).all())
    for skills in (await session.scalars(select(User.skills))).all():
        if isinstance(skills, list):
            found.update(s for s in skills if isinstance(s, str) and s)
    return sorted(found)
