"""Rubric scoring of closed conversations.

Each part is scored 0-100 from signals the system stores; a part without any signal is left
out and the weights of the others are renormalised (a conversation nobody rated is not
punished for it):
- process: the first agent response against its target (100 at or under the target, falling
  linearly to 0 at four times it), minus 20 for a missing greeting and 20 for a missing closing;
- attitude: 100 minus 50 per forbidden and 20 per sensitive word hit; averaged with the CSAT
  (1 -> 0, 5 -> 100) when the customer rated, and with the customer's mood when they wrote to
  the agent: the share of those messages that were not upset (``supervision.sentiment``), as 0-100;
- accuracy: agreement with the knowledge base, from the suggestions the agent sent: an answer
  sent unedited 100, edited 80; no suggestion used: no signal.
The weights (default attitude 40, accuracy 40, process 20) and targets are the rubric row.
A supervisor's override is kept beside the computed score, with a comment; both are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import (
    Conversation,
    CsatRating,
    Message,
    QueueEntryRecord,
    StateTransition,
    SuggestionUse,
)
from core.clock import utc_now
from core.errors import NotFound, ValidationFailed
from supervision.tables import QualityHit, QualityRubric, QualityScore

PARTS = ("attitude", "accuracy", "process")
DEFAULT_WEIGHTS = {"attitude": 40.0, "accuracy": 40.0, "process": 20.0}
DEFAULT_TARGETS = {"first_response_seconds": 60.0}


async def rubric(session: AsyncSession) -> tuple[dict[str, float], dict[str, float]]:
    row = await session.get(QualityRubric, 1)
    if row is None:
        return dict(DEFAULT_WEIGHTS), dict(DEFAULT_TARGETS)
    return {**DEFAULT_WEIGHTS, **row.weights}, {**DEFAULT_TARGETS, **row.targets}


def check_rubric(body: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    weights = body.get("weights", DEFAULT_WEIGHTS)
    targets = body.get("targets", DEFAULT_TARGETS)
    if not isinstance(weights, dict) or set(weights) - set(PARTS) or not weights:
        raise ValidationFailed(f"weights name parts of {', '.join(PARTS)}", code="invalid_weights")
    if any(
        isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100 for v in weights.values()
    ):
        raise ValidationFailed("each weight is a number 0-100", code="invalid_weights")
    if sum(weights.values()) <= 0:
        raise ValidationFailed("the weights may not all be 0", code="invalid_weights")
    if not isinstance(targets, dict) or set(targets) - set(DEFAULT_TARGETS):
        raise ValidationFailed("unknown target", code="invalid_targets")
    if any(
        isinstance(v, bool) or not isinstance(v, int | float) or not 1 <= v <= 86400 for v in targets.values()
    ):
        raise ValidationFailed("each target is 1-86400 seconds", code="invalid_targets")
    return {k: float(v) for k, v in weights.items()}, {k: float(v) for k, v in targets.items()}


async def save_rubric(
    session: AsyncSession, body: dict[str, Any]
) -> tuple[dict[str, float], dict[str, float]]:
    weights, targets = check_rubric(body)
    row = await session.get(QualityRubric, 1)
    if row is None:
        row = QualityRubric(id=1)
        session.add(row)
    row.weights, row.targets, row.updated_at = weights, targets, utc_now()
    return weights, targets


def combine(parts: dict[str, float | None], weights: dict[str, float]) -> float:
    present = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
    if not present:
        return 100.0
    total = sum(weights[k] for k in present)
    return round(sum(weights[k] * v for k, v in present.items()) / total, 1)


def process_part(first_response: float | None, target: float, missing: int) -> float | None:
    if first_response is None and not missing:
        return None
    base = 100.0
    if first_response is not None and first_response > target:
        base = max(0.0, 100.0 * (1 - (first_response - target) / (3 * target)))
    return max(0.0, base - 20.0 * missing)


def attitude_part(
    forbidden: int, sensitive: int, rating: int | None, mood: tuple[int, int] | None = None
) -> float:
    """The word score, averaged with the CSAT and the customer's mood where there are any."""
    scores = [max(0.0, 100.0 - 50.0 * forbidden - 20.0 * sensitive)]
    if rating is not None:
        scores.append((rating - 1) * 25.0)
    if mood is not None and mood[1] > 0:
        upset, written = mood
        scores.append(100.0 * (1 - min(upset, written) / written))
    return sum(scores) / len(scores)


def accuracy_part(unedited: int, edited: int) -> float | None:
    if not unedited and not edited:
        return None
    return (100.0 * unedited + 80.0 * edited) / (unedited + edited)


async def score_conversation(
    session: AsyncSession, conversation_id: str, clock: Callable[[], datetime] = utc_now
) -> QualityScore:
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound("conversation not found", code="conversation_not_found")
    weights, targets = await rubric(session)
    handoff = await session.scalar(
        select(func.min(StateTransition.created_at)).where(
            StateTransition.conversation_id == conversation_id, StateTransition.to_state == "queued"
        )
    )
    closed = await session.scalar(
        select(func.max(StateTransition.created_at)).where(
            StateTransition.conversation_id == conversation_id, StateTransition.to_state == "closed"
        )
    )
    first_agent = await session.scalar(
        select(func.min(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.sender == "agent"
        )
    )
    hits = dict(
        (
            await session.execute(
                select(QualityHit.kind, func.count())
                .where(QualityHit.conversation_id == conversation_id)
                .group_by(QualityHit.kind)
            )
        ).all()
    )
    rating = await session.scalar(
        select(CsatRating.rating).where(CsatRating.conversation_id == conversation_id)
    )
    uses = dict(
        (
            await session.execute(
                select(SuggestionUse.edited, func.count())
                .where(SuggestionUse.conversation_id == conversation_id)
                .group_by(SuggestionUse.edited)
            )
        ).all()
    )
    group = await session.scalar(
        select(QueueEntryRecord.group).where(QueueEntryRecord.conversation_id == conversation_id)
    )
    assigned = await session.scalar(
        select(func.min(StateTransition.created_at)).where(
            StateTransition.conversation_id == conversation_id, StateTransition.to_state == "agent"
        )
    )
    written: int | None = 0
    if assigned is not None:  # what the customer wrote to an agent is what was read for mood
        written = await session.scalar(
            select(func.count()).where(
                Message.conversation_id == conversation_id,
                Message.sender == "customer",
                Message.created_at >= assigned,
            )
        )
    mood = (hits.get("negative_sentiment", 0), int(written or 0))
    first_response = (
        (_aware(first_agent) - _aware(handoff)).total_seconds() if first_agent and handoff else None
    )
    parts: dict[str, float | None] = {
        "attitude": attitude_part(hits.get("forbidden", 0), hits.get("sensitive", 0), rating, mood),
        "accuracy": accuracy_part(uses.get(False, 0), uses.get(True, 0)),
        "process": process_part(
            first_response,
            targets["first_response_seconds"],
            hits.get("missing_greeting", 0) + hits.get("missing_closing", 0),
        ),
    }
    row = await session.get(QualityScore, conversation_id)
    if row is None:
        row = QualityScore(conversation_id=conversation_id)
        session.add(row)
    row.agent_id = conv.assigned_agent_id if conv.assigned_agent_id is not None else row.agent_id
    row.group = group or ""
    row.score = combine(parts, weights)
    row.parts = {
        **{k: (round(v, 1) if v is not None else None) for k, v in parts.items()},
        "signals": {
            "first_response_seconds": first_response,
            "hits": hits,
            "csat": rating,
            "customer_messages": mood[1],
            "upset_messages": mood[0],
            "suggestions_unedited": uses.get(False, 0),
            "suggestions_edited": uses.get(True, 0),
        },
    }
    row.closed_at = _aware(closed) if closed else clock()
    row.computed_at = clock()
    return row


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def override(
    session: AsyncSession, conversation_id: str, score: Any, comment: Any, by: str
) -> QualityScore:
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 100:
        raise ValidationFailed("score is a number 0-100", code="invalid_score")
    if not isinstance(comment, str) or not comment.strip() or len(comment) > 2000:
        raise ValidationFailed("a comment of 1-2000 characters is required", code="invalid_comment")
    row = await session.get(QualityScore, conversation_id)
    if row is None:
        raise NotFound("this conversation has no score yet", code="score_not_found")
    row.override_score, row.override_comment = float(score), comment.strip()
    row.override_by, row.overridden_at = by, utc_now()
    return row


def score_json(row: QualityScore, agent: str = "") -> dict[str, Any]:
    return {
        "conversation_id": row.conversation_id,
        "agent_id": row.agent_id,
        "agent": agent,
        "group": row.group,
        "score": row.score,
        "final_score": row.override_score if row.override_score is not None else row.score,
        "parts": row.parts,
        "closed_at": _aware(row.closed_at).isoformat(),
        "override": None
        if row.override_score is None
        else {
            "score": row.override_score,
            "comment": row.override_comment,
            "by": row.override_by,
            "at": _aware(row.overridden_at).isoformat() if row.overridden_at else None,
        },
    }
