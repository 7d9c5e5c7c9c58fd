"""The log of bot answers from the FAQ index (table ``knowledge_answers``): per-entry usage, hot
questions, the customer's "was this helpful?" rating, and the answers editors should review
(rated unhelpful, given with a low margin, or followed by a request for a person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from knowledge.normalise import normalise
from knowledge.tables import KnowledgeAnswer

LOW_MARGIN = 0.15  # the same width as the clarify margin: a close call between two entries
ReviewKind = Literal["unhelpful", "low_margin", "handoff"]
REVIEW_KINDS: tuple[str, ...] = ("unhelpful", "low_margin", "handoff")


def answer_of(custom: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``{"kefu": {"answer": {key, score, margin?}}}`` payload of a bot reply, if it has one."""
    kefu = (custom or {}).get("kefu")
    answer = kefu.get("answer") if isinstance(kefu, dict) else None
    if isinstance(answer, dict) and isinstance(answer.get("key"), str):
        return answer
    return None


def record_answer(
    session: AsyncSession,
    *,
    conversation_id: str,
    message_id: int,
    question: str,
    lang: str,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> None:
    margin = payload.get("margin")
    session.add(
        KnowledgeAnswer(
            conversation_id=conversation_id,
            message_id=message_id,
            question=question,
            lang=lang,
            entry_key=str(payload["key"])[:128],
            score=float(payload.get("score") or 0.0),
            margin=float(margin) if isinstance(margin, int | float) else None,
            **({"created_at": now} if now is not None else {}),
        )
    )


async def mark_handoff(session: AsyncSession, conversation_id: str) -> None:
    """The customer asked for a person: the conversation's latest bot answer did not do."""
    row = await session.scalar(
        select(KnowledgeAnswer)
        .where(KnowledgeAnswer.conversation_id == conversation_id)
        .order_by(KnowledgeAnswer.id.desc())
        .limit(1)
    )
    if row is not None:
        row.handed_off = True


async def rate(
    session: AsyncSession, conversation_id: str, message_id: int, helpful: bool
) -> KnowledgeAnswer:
    """The customer's rating of one answer in their own conversation (the last rating counts)."""
    row = await session.scalar(
        select(KnowledgeAnswer).where(
            KnowledgeAnswer.message_id == message_id, KnowledgeAnswer.conversation_id == conversation_id
        )
    )
    if row is None:
        raise NotFound("that message is not a bot answer in this conversation", code="answer_not_found")
    row.helpful = helpful
    return row


def _review_clause(kind: str | None) -> Any:
    clauses = {
        "unhelpful": KnowledgeAnswer.helpful.is_(False),
        "low_margin": KnowledgeAnswer.margin < LOW_MARGIN,
        "handoff": KnowledgeAnswer.handed_off.is_(True),
    }
    return clauses[kind] if kind else or_(*clauses.values())


async def for_review(session: AsyncSession, kind: str | None, limit: int) -> list[KnowledgeAnswer]:
    rows = await session.scalars(
        select(KnowledgeAnswer)
        .where(KnowledgeAnswer.review == "open", _review_clause(kind))
        .order_by(KnowledgeAnswer.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def resolve_review(session: AsyncSession, answer_id: int, status: str) -> KnowledgeAnswer:
    row = await session.get(KnowledgeAnswer, answer_id)
    if row is None:
        raise NotFound(f"no answer {answer_id}", code="answer_not_found")
    if row.review != "open":
        raise Conflict(f"this answer was already {row.review}", code="already_resolved")
    row.review = status
    return row


def _between(query: Any, start: datetime, end: datetime) -> Any:
    return query.where(KnowledgeAnswer.created_at >= start, KnowledgeAnswer.created_at < end)


async def entry_usage(
    session: AsyncSession, start: datetime, end: datetime, limit: int
) -> list[dict[str, Any]]:
    """Per entry: answers given, rated helpful / unhelpful, followed by a handoff; most used first."""
    helpful = func.sum(case((KnowledgeAnswer.helpful.is_(True), 1), else_=0))
    unhelpful = func.sum(case((KnowledgeAnswer.helpful.is_(False), 1), else_=0))
    handed = func.sum(case((KnowledgeAnswer.handed_off.is_(True), 1), else_=0))
    count = func.count(KnowledgeAnswer.id)
    query = _between(
        select(KnowledgeAnswer.entry_key, count, helpful, unhelpful, handed).group_by(
            KnowledgeAnswer.entry_key
        ),
        start,
        end,
    )
    rows = await session.execute(query.order_by(count.desc(), KnowledgeAnswer.entry_key).limit(limit))
    return [
        {
            "key": k,
            "answers": int(n),
            "helpful": int(h or 0),
            "unhelpful": int(u or 0),
            "handoffs": int(o or 0),
        }
        for k, n, h, u, o in rows.all()
    ]


async def hot_questions(
    session: AsyncSession, start: datetime, end: datetime, limit: int
) -> list[dict[str, Any]]:
    """The most asked questions answered in the range, grouped by their normalised wording."""
    rows = await session.execute(
        _between(select(KnowledgeAnswer.question, KnowledgeAnswer.entry_key), start, end).limit(100_000)
    )
    groups: dict[str, dict[str, Any]] = {}
    for question, key in rows.all():
        norm = normalise(question) or question
        group = groups.setdefault(norm, {"question": question, "count": 0, "keys": {}})
        group["count"] += 1
        group["keys"][key] = group["keys"].get(key, 0) + 1
    hot = sorted(groups.values(), key=lambda g: (-g["count"], g["question"]))[:limit]
    return [
        {"question": g["question"], "count": g["count"], "key": max(g["keys"], key=g["keys"].get)}
        for g in hot
    ]


def answer_json(row: KnowledgeAnswer) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "message_id": row.message_id,
        "question": row.question,
        "lang": row.lang,
        "key": row.entry_key,
        "score": row.score,
        "margin": row.margin,
        "helpful": row.helpful,
        "handed_off": row.handed_off,
        "review": row.review,
        "created_at": row.created_at.isoformat(),
    }
