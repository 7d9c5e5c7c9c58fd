"""FAQ entries in SQL: the source of truth the index is built from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.tables import FaqEntryRow
from knowledge.types import FaqEntry
from store.base import utcnow


def to_entry(row: FaqEntryRow) -> FaqEntry:
    return FaqEntry(
        key=row.key,
        lang=row.lang,  # type: ignore[arg-type]
        question=row.question,
        similar=tuple(row.similar or ()),
        answer=row.answer,
        tags=tuple(row.tags or ()),
        enabled=row.enabled,
    )


def _apply(row: FaqEntryRow, entry: FaqEntry) -> None:
    row.lang = entry.lang
    row.question = entry.question
    row.similar = list(entry.similar)
    row.answer = entry.answer
    row.tags = list(entry.tags)
    row.enabled = entry.enabled
    row.updated_at = utcnow()


async def import_entries(
    session: AsyncSession, entries: Sequence[FaqEntry], *, replace: bool
) -> dict[str, int]:
    """Upsert by key; with ``replace`` the entries not in the file are deleted."""
    existing = {row.key: row for row in (await session.scalars(select(FaqEntryRow))).all()}
    counts = {"added": 0, "updated": 0, "deleted": 0}
    for entry in entries:
        row = existing.get(entry.key)
        if row is None:
            row = FaqEntryRow(key=entry.key)
            session.add(row)
            counts["added"] += 1
        else:
            counts["updated"] += 1
        _apply(row, entry)
    if replace:
        stale = set(existing) - {e.key for e in entries}
        if stale:
            await session.execute(delete(FaqEntryRow).where(FaqEntryRow.key.in_(stale)))
        counts["deleted"] = len(stale)
    await session.flush()
    return counts


async def list_entries(session: AsyncSession, *, enabled_only: bool = False) -> list[FaqEntry]:
    query = select(FaqEntryRow).order_by(FaqEntryRow.id)
    if enabled_only:
        query = query.where(FaqEntryRow.enabled.is_(True))
    return [to_entry(row) for row in (await session.scalars(query)).all()]


async def count_entries(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(FaqEntryRow)) or 0)
