"""The case library: conversations supervisors marked as good or bad examples, with a tag and a
comment, for agents to learn from (agents read it; supervisors write it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Conversation
from core.errors import NotFound, ValidationFailed
from supervision.audit import iso
from supervision.tables import QualityCase

VERDICTS = ("good", "bad")


async def add_case(session: AsyncSession, conversation_id: str, body: dict[str, Any], by: str) -> QualityCase:
    verdict, tag, comment = body.get("verdict"), body.get("tag", ""), body.get("comment", "")
    if verdict not in VERDICTS:
        raise ValidationFailed('verdict must be "good" or "bad"', code="invalid_verdict")
    if not isinstance(tag, str) or len(tag) > 64:
        raise ValidationFailed("tag: at most 64 characters", code="invalid_tag")
    if not isinstance(comment, str) or len(comment) > 2000:
        raise ValidationFailed("comment: at most 2000 characters", code="invalid_comment")
    if await session.get(Conversation, conversation_id) is None:
        raise NotFound("conversation not found", code="conversation_not_found")
    case = QualityCase(
        conversation_id=conversation_id,
        verdict=verdict,
        tag=tag.strip(),
        comment=comment.strip(),
        created_by=by,
    )
    session.add(case)
    await session.flush()
    return case


async def list_cases(session: AsyncSession, verdict: str = "", tag: str = "") -> list[QualityCase]:
    query = select(QualityCase).order_by(QualityCase.id.desc()).limit(200)
    if verdict:
        query = query.where(QualityCase.verdict == verdict)
    if tag:
        query = query.where(QualityCase.tag == tag)
    return list(await session.scalars(query))


def case_json(case: QualityCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "conversation_id": case.conversation_id,
        "verdict": case.verdict,
        "tag": case.tag,
        "comment": case.comment,
        "created_by": case.created_by,
        "created_at": iso(case.created_at),
    }
