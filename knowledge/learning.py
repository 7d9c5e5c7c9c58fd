"""Learning from use: customers' own wordings become similar questions on the next publish.

Two sources feed ``learned_questions``: an editor who files an unanswered question under an
FAQ entry, and an agent who sends an FAQ suggestion unedited (the customer's last question is
then taken to mean that entry). Editors can reject a learned question; ``publish`` merges the
active ones into the entries it builds from. Texts that look like personal data (long digit
runs such as phone or order numbers, e-mail addresses, links) are never learned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, ValidationFailed
from knowledge.normalise import normalise
from knowledge.tables import FaqEntryRow, LearnedQuestion, UnansweredQuestion
from knowledge.types import FaqEntry

MIN_CHARS = 2
MAX_CHARS = 200
MAX_LEARNED_PER_ENTRY = 50  # newest first; an entry's own similar questions always stay
_PERSONAL = re.compile(r"\d{6,}|[\w.+-]+@[\w-]+\.\w+|https?://|www\.", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

Source = Literal["unanswered", "suggestion"]
UnansweredStatus = Literal["open", "added", "dismissed"]
LearnedStatus = Literal["active", "rejected"]
UNANSWERED_STATUSES: tuple[str, ...] = ("open", "added", "dismissed")
LEARNED_STATUSES: tuple[str, ...] = ("active", "rejected")


def looks_personal(text: str) -> bool:
    """Whether a text may carry personal data (6+ digits, an e-mail address, a link): such a
    text is never learned, nor shown to anyone but the conversation's own people."""
    return _PERSONAL.search(text) is not None


def learnable(text: str) -> str | None:
    """The text to learn (spaces collapsed), or None: too short, too long or personal-looking."""
    cleaned = _SPACE.sub(" ", text).strip()
    if not MIN_CHARS <= len(cleaned) <= MAX_CHARS or looks_personal(cleaned):
        return None
    return cleaned


def merge(
    entries: Sequence[FaqEntry], learned: Mapping[str, Sequence[str]], cap: int = MAX_LEARNED_PER_ENTRY
) -> list[FaqEntry]:
    """Entries with their learned questions appended (``learned`` lists newest first); a text the
    entry already has (after normalisation) is skipped, and at most ``cap`` are added per entry."""
    out = []
    for entry in entries:
        seen = {normalise(t) for t in entry.texts()}
        extra: list[str] = []
        for text in learned.get(entry.key, ()):
            norm = normalise(text)
            if norm and norm not in seen and len(extra) < cap:
                seen.add(norm)
                extra.append(text)
        out.append(replace(entry, similar=(*entry.similar, *extra)) if extra else entry)
    return out


async def learn(
    session: AsyncSession, entry_key: str, text: str, *, source: Source, source_id: int, actor: str
) -> LearnedQuestion | None:
    """Record ``text`` as a wording of ``entry_key`` (idempotent: an existing row is returned as it
    is, so a rejected wording stays rejected). None when the text is not learnable."""
    cleaned = learnable(text)
    if cleaned is None:
        return None
    if await session.scalar(select(FaqEntryRow.id).where(FaqEntryRow.key == entry_key)) is None:
        raise NotFound(f"no FAQ entry {entry_key!r}", code="faq_entry_not_found")
    existing = await session.scalar(
        select(LearnedQuestion).where(LearnedQuestion.entry_key == entry_key, LearnedQuestion.text == cleaned)
    )
    if existing is not None:
        return existing
    row = LearnedQuestion(
        entry_key=entry_key,
        text=cleaned,
        source=source,
        source_id=source_id,
        status="active",
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    return row


async def active_learned(session: AsyncSession) -> dict[str, list[str]]:
    """Entry key -> its active learned questions, newest first."""
    rows = await session.scalars(
        select(LearnedQuestion)
        .where(LearnedQuestion.status == "active")
        .order_by(LearnedQuestion.created_at.desc(), LearnedQuestion.id.desc())
    )
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        out[row.entry_key].append(row.text)
    return dict(out)


async def list_learned(
    session: AsyncSession, *, entry_key: str | None, status: str | None, limit: int
) -> list[LearnedQuestion]:
    query = select(LearnedQuestion).order_by(LearnedQuestion.id.desc()).limit(limit)
    if entry_key is not None:
        query = query.where(LearnedQuestion.entry_key == entry_key)
    if status is not None:
        query = query.where(LearnedQuestion.status == status)
    return list((await session.scalars(query)).all())


async def set_learned_status(
    session: AsyncSession, learned_id: int, status: LearnedStatus
) -> LearnedQuestion:
    row = await session.get(LearnedQuestion, learned_id)
    if row is None:
        raise NotFound(f"no learned question {learned_id}", code="learned_question_not_found")
    row.status = status
    return row


async def list_unanswered(
    session: AsyncSession, *, status: str | None, limit: int
) -> list[UnansweredQuestion]:
    query = select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
    if status is not None:
        query = query.where(UnansweredQuestion.status == status)
    return list((await session.scalars(query)).all())


async def resolve_unanswered(
    session: AsyncSession,
    question_id: int,
    *,
    entry_key: str | None,
    actor: str,
    now: datetime,
) -> tuple[UnansweredQuestion, LearnedQuestion | None]:
    """File an open unanswered question under ``entry_key`` (learned), or dismiss it (None)."""
    question = await session.get(UnansweredQuestion, question_id, with_for_update=True)
    if question is None:
        raise NotFound(f"no unanswered question {question_id}", code="unanswered_not_found")
    if question.status != "open":
        raise Conflict(f"this question was already {question.status}", code="already_resolved")
    learned = None
    if entry_key is not None:
        learned = await learn(
            session, entry_key, question.text, source="unanswered", source_id=question.id, actor=actor
        )
        if learned is None:
            raise ValidationFailed(
                "this question looks like personal data or is too long to learn; dismiss it instead",
                code="not_learnable",
            )
    question.status = "added" if entry_key is not None else "dismissed"
    question.entry_key = entry_key
    question.resolved_by = actor
    question.resolved_at = now
    return question, learned
