"""Editing FAQ entries one at a time, with every change recorded (who, when, before and after).

Validation is the importer's (``knowledge.importer.parse_records``), so an entry the editor
saves is exactly one the import would accept. Publishing is separate: edits are a draft until
the next publish builds a version from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, ValidationFailed
from knowledge.importer import ImportErrors, parse_records, to_record
from knowledge.store import to_entry
from knowledge.tables import FaqEntryChange, FaqEntryRow
from knowledge.types import FaqEntry

KEY_MAX = 128
QUESTION_MAX = 500
ANSWER_MAX = 5000
SIMILAR_MAX = 500


@dataclass(frozen=True)
class EntryFilter:
    q: str | None = None
    lang: str | None = None
    tag: str | None = None
    enabled: bool | None = None
    limit: int = 50
    offset: int = 0


def parse_entry(body: dict[str, Any], *, key: str | None = None) -> FaqEntry:
    """One entry from an API body ``{key, lang, question, similar, answer, tags, enabled}``."""
    record = dict(body)
    record["id"] = key if key is not None else body.get("key")
    if not isinstance(record["id"], str) or not record["id"].strip() or len(record["id"]) > KEY_MAX:
        raise ValidationFailed(f"key must be 1-{KEY_MAX} characters", code="invalid_key")
    record.pop("key", None)
    try:
        (entry,) = parse_records([record])
    except ImportErrors as exc:
        raise ValidationFailed(
            "; ".join(message for _, message in exc.problems), code="invalid_entry"
        ) from exc
    if len(entry.question) > QUESTION_MAX or len(entry.answer) > ANSWER_MAX:
        raise ValidationFailed(
            f"question at most {QUESTION_MAX}, answer at most {ANSWER_MAX} characters", code="invalid_entry"
        )
    if len(entry.similar) > SIMILAR_MAX or any(len(s) > QUESTION_MAX for s in entry.similar):
        raise ValidationFailed(
            f"at most {SIMILAR_MAX} similar questions of {QUESTION_MAX} characters each", code="invalid_entry"
        )
    return entry


def entry_json(entry: FaqEntry) -> dict[str, Any]:
    record = to_record(entry)
    record["key"] = record.pop("id")
    return record


async def list_entries(session: AsyncSession, flt: EntryFilter) -> tuple[list[FaqEntry], int]:
    """One page of entries (by key) and the number that match."""
    query = select(FaqEntryRow)
    if flt.lang:
        query = query.where(FaqEntryRow.lang == flt.lang)
    if flt.enabled is not None:
        query = query.where(FaqEntryRow.enabled.is_(flt.enabled))
    rows = list((await session.scalars(query.order_by(FaqEntryRow.key))).all())
    # tags and similar questions are JSON lists (stored escaped): matched here, the same on
    # SQLite and PostgreSQL
    if flt.tag:
        rows = [r for r in rows if flt.tag in (r.tags or [])]
    if flt.q:
        needle = flt.q.casefold()
        rows = [r for r in rows if any(needle in t.casefold() for t in _searchable(r))]
    return [to_entry(r) for r in rows[flt.offset : flt.offset + flt.limit]], len(rows)


def _searchable(row: FaqEntryRow) -> list[str]:
    return [row.key, row.question, row.answer, *(str(t) for t in row.similar or ())]


async def all_entries(session: AsyncSession) -> list[FaqEntry]:
    rows = await session.scalars(select(FaqEntryRow).order_by(FaqEntryRow.key))
    return [to_entry(r) for r in rows.all()]


async def _row(session: AsyncSession, key: str) -> FaqEntryRow:
    row = await session.scalar(select(FaqEntryRow).where(FaqEntryRow.key == key))
    if row is None:
        raise NotFound(f"no FAQ entry {key!r}", code="faq_entry_not_found")
    return row


async def get_entry(session: AsyncSession, key: str) -> FaqEntry:
    return to_entry(await _row(session, key))


def record_change(
    session: AsyncSession, key: str, action: str, actor: str, before: Any, after: Any, now: datetime
) -> None:
    session.add(
        FaqEntryChange(
            entry_key=key,
            action=action,
            actor=actor,
            before=entry_json(before) if before else None,
            after=entry_json(after) if after else None,
            created_at=now,
        )
    )


def _apply(row: FaqEntryRow, entry: FaqEntry, now: datetime) -> None:
    row.lang = entry.lang
    row.question = entry.question
    row.similar = list(entry.similar)
    row.answer = entry.answer
    row.tags = list(entry.tags)
    row.enabled = entry.enabled
    row.updated_at = now


async def create_entry(session: AsyncSession, entry: FaqEntry, *, actor: str, now: datetime) -> FaqEntry:
    if await session.scalar(select(FaqEntryRow.id).where(FaqEntryRow.key == entry.key)) is not None:
        raise Conflict(f"an FAQ entry {entry.key!r} exists already", code="faq_entry_exists")
    row = FaqEntryRow(key=entry.key)
    _apply(row, entry, now)
    session.add(row)
    record_change(session, entry.key, "create", actor, None, entry, now)
    await session.flush()
    return entry


async def update_entry(session: AsyncSession, entry: FaqEntry, *, actor: str, now: datetime) -> FaqEntry:
    row = await _row(session, entry.key)
    before = to_entry(row)
    if before != entry:
        _apply(row, entry, now)
        record_change(session, entry.key, "update", actor, before, entry, now)
    return entry


async def add_similar(
    session: AsyncSession, key: str, texts: Sequence[str], *, actor: str, now: datetime
) -> FaqEntry:
    """Append ``texts`` (those the entry does not have yet) to an entry's similar questions."""
    before = await get_entry(session, key)
    have = set(before.texts())
    extra = tuple(t for t in dict.fromkeys(t.strip() for t in texts) if t and t not in have)
    after = FaqEntry(
        before.key,
        before.lang,
        before.question,
        (*before.similar, *extra),
        before.answer,
        before.tags,
        before.enabled,
    )
    return await update_entry(session, after, actor=actor, now=now)


async def delete_entry(session: AsyncSession, key: str, *, actor: str, now: datetime) -> None:
    row = await _row(session, key)
    record_change(session, key, "delete", actor, to_entry(row), None, now)
    await session.delete(row)


async def history(session: AsyncSession, key: str, limit: int) -> list[FaqEntryChange]:
    rows = await session.scalars(
        select(FaqEntryChange)
        .where(FaqEntryChange.entry_key == key)
        .order_by(FaqEntryChange.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def last_change_at(session: AsyncSession) -> datetime | None:
    value: datetime | None = await session.scalar(select(func.max(FaqEntryChange.created_at)))
    return value


def change_json(row: FaqEntryChange) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.entry_key,
        "action": row.action,
        "actor": row.actor,
        "before": row.before,
        "after": row.after,
        "created_at": row.created_at.isoformat(),
    }
