"""The committed side of the handoff queue (table ``queue_entries``): what a conversation's queue
entry is, written in the same transaction as its ``queued`` state, so Redis can always be told
(or told again) from committed rows."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Conversation, QueueEntryRecord
from core.types import ConversationState
from handoff import codec
from handoff.model import QueueEntry, Tier
from store.base import utcnow


async def record(session: AsyncSession, entry: QueueEntry) -> QueueEntryRecord:
    """Store (or replace) the conversation's queue entry in the caller's transaction."""
    row = await session.get(QueueEntryRecord, entry.conversation_id)
    if row is None:
        row = QueueEntryRecord(conversation_id=entry.conversation_id)
        session.add(row)
    row.group = entry.group
    row.score = codec.score(entry.tier, entry.enqueued_at)
    row.enqueued_at = entry.enqueued_at
    row.tier = entry.tier.value
    row.customer_id = entry.customer_id
    row.lang = entry.lang
    row.channel = entry.channel
    row.topic = entry.topic
    row.reason = entry.reason
    row.preferred_agent_id = entry.preferred_agent_id
    row.avoid_agent_id = entry.avoid_agent_id
    row.updated_at = utcnow()
    await session.flush()
    return row


def to_entry(row: QueueEntryRecord) -> QueueEntry:
    return QueueEntry(
        conversation_id=row.conversation_id,
        group=row.group,
        customer_id=row.customer_id,
        tier=Tier.parse(row.tier),
        lang=row.lang,
        channel=row.channel,
        topic=row.topic,
        enqueued_at=row.enqueued_at,
        preferred_agent_id=row.preferred_agent_id,
        reason=row.reason,
        avoid_agent_id=row.avoid_agent_id,
    )


async def position(session: AsyncSession, row: QueueEntryRecord) -> int:
    """1-based place among the committed waiting conversations of the row's group, in the
    queue's own order (score, then conversation id)."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(QueueEntryRecord)
        .join(Conversation, Conversation.id == QueueEntryRecord.conversation_id)
        .where(
            Conversation.state == ConversationState.QUEUED,
            QueueEntryRecord.group == row.group,
            QueueEntryRecord.conversation_id != row.conversation_id,
            or_(
                QueueEntryRecord.score < row.score,
                and_(
                    QueueEntryRecord.score == row.score,
                    QueueEntryRecord.conversation_id < row.conversation_id,
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


async def waiting(session: AsyncSession, conversation_id: str) -> QueueEntry | None:
    """The committed queue entry of a conversation that is queued now, else None."""
    row = await session.scalar(
        select(QueueEntryRecord)
        .join(Conversation, Conversation.id == QueueEntryRecord.conversation_id)
        .where(
            QueueEntryRecord.conversation_id == conversation_id,
            Conversation.state == ConversationState.QUEUED,
        )
    )
    return to_entry(row) if row is not None else None
