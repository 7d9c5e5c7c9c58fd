"""Real-time quality inspection of agent replies against the word lists.

Every committed agent reply is checked at once: each forbidden or sensitive word is a
``quality_hits`` row on the conversation and an alert (``forbidden_word`` / ``sensitive_word``);
an agent's first reply in a conversation without any greeting of the conversation's language is
a ``missing_greeting`` hit; a close whose last agent reply has no closing phrase is a
``missing_closing`` hit. A list with no words for the language checks nothing. Alerts follow
the enabled rule of their kind (no enabled rule: the hit is recorded, no alert is raised).

A customer's message to an agent is read for mood (``supervision.sentiment``): an upset one is a
``negative_sentiment`` hit on the agent's conversation, and once the conversation holds as many
of them as the ``negative_sentiment`` rule's threshold (at least one), one alert is raised for
the conversation while it stays open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, Message
from core.clock import utc_now
from handoff.auth import Staff
from handoff.tables import User
from supervision.alerts import WORD_ALERTS, Alerts, Condition
from supervision.scoring import score_conversation
from supervision.sentiment import PackagedSentiment, Sentiment
from supervision.tables import QualityHit
from supervision.words import WordLists, flagged_words, found, load_lists

NEGATIVE_SENTIMENT = "negative_sentiment"


class QualityInspector:
    """A ``conversations.desk.observers.DeskObserver``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        alerts: Alerts,
        *,
        clock: Callable[[], datetime] = utc_now,
        sentiment: Sentiment | None = None,
    ) -> None:
        self._sessions = sessions
        self._alerts = alerts
        self._clock = clock
        self.sentiment: Sentiment = sentiment or PackagedSentiment()

    async def agent_replied(self, conv: Conversation, message: Message, staff: Staff) -> None:
        async with self._sessions.begin() as session:
            lists = await load_lists(session)
            hits = [(kind, word) for kind, word in flagged_words(message.text, lists)]
            if await _agent_replies(session, conv.id) == 1 and _lacks(
                message.text, lists, "greeting", conv.lang
            ):
                hits.append(("missing_greeting", ""))
            rows = [self._hit(conv, message, staff.user_id, kind, word) for kind, word in hits]
            session.add_all(rows)
        for row in rows:
            await self._alert(conv, staff, row)

    async def conversation_closed(self, conv: Conversation, staff: Staff) -> None:
        """Check the closing phrase, then score the conversation by the rubric."""
        row = None
        async with self._sessions.begin() as session:
            lists = await load_lists(session)
            last = await session.scalar(
                select(Message)
                .where(Message.conversation_id == conv.id, Message.sender == "agent")
                .order_by(Message.id.desc())
                .limit(1)
            )
            if last is not None and _lacks(last.text, lists, "closing", conv.lang):
                row = self._hit(conv, last, staff.user_id, "missing_closing", "")
                session.add(row)
        if row is not None:
            await self._alert(conv, staff, row)
        await self._alerts.resolve(_upset_key(conv.id))
        async with self._sessions.begin() as session:
            scored = await score_conversation(session, conv.id, self._clock)
            if scored.agent_id is None:
                scored.agent_id = staff.user_id

    async def customer_wrote(self, conv: Conversation, message: Message) -> None:
        agent_id = conv.assigned_agent_id
        if agent_id is None:
            return
        if not await asyncio.to_thread(self.sentiment.negative, message.text, conv.lang):
            return
        async with self._sessions.begin() as session:
            session.add(self._hit(conv, message, agent_id, NEGATIVE_SENTIMENT, ""))
            await session.flush()
            upset = await _hits_of_kind(session, conv.id, NEGATIVE_SENTIMENT)
            agent = await session.get(User, agent_id)
        rule = await self._alerts.rule_of_kind(NEGATIVE_SENTIMENT)
        if rule is None or upset < max(1, int(rule.threshold)):
            return
        await self._alerts.raise_condition(
            Condition(
                type=NEGATIVE_SENTIMENT,
                key=_upset_key(conv.id),
                rule_id=rule.id,
                data={
                    "agent": agent.username if agent else str(agent_id),
                    "count": upset,
                    "conversation_id": conv.id,
                    "text": message.text[:200],
                },
                conversation_id=conv.id,
                agent_id=agent_id,
            )
        )

    def _hit(self, conv: Conversation, message: Message, agent_id: int, kind: str, word: str) -> QualityHit:
        return QualityHit(
            conversation_id=conv.id,
            message_id=message.id,
            agent_id=agent_id,
            kind=kind,
            word=word,
            text=message.text[:2000],
            created_at=self._clock(),
        )

    async def _alert(self, conv: Conversation, staff: Staff, hit: QualityHit) -> None:
        alert_type = WORD_ALERTS[hit.kind]
        rule = await self._alerts.rule_of_kind(alert_type)
        if rule is None:
            return
        await self._alerts.raise_condition(
            Condition(
                type=alert_type,
                key=f"{alert_type}:{hit.message_id}:{hit.word}",
                rule_id=rule.id,
                data={"agent": staff.username, "word": hit.word, "conversation_id": conv.id},
                conversation_id=conv.id,
                agent_id=staff.user_id,
            ),
            instant=True,
        )


def _lacks(text: str, lists: WordLists, kind: str, lang: str) -> bool:
    words = lists.of(kind, lang)
    return bool(words) and not found(text, words, lang)


async def _agent_replies(session: AsyncSession, conversation_id: str) -> int:
    count = await session.scalar(
        select(func.count()).where(Message.conversation_id == conversation_id, Message.sender == "agent")
    )
    return int(count or 0)


def _upset_key(conversation_id: str) -> str:
    return f"{NEGATIVE_SENTIMENT}:{conversation_id}"


async def _hits_of_kind(session: AsyncSession, conversation_id: str, kind: str) -> int:
    count = await session.scalar(
        select(func.count()).where(QualityHit.conversation_id == conversation_id, QualityHit.kind == kind)
    )
    return int(count or 0)


async def hits_of(session: AsyncSession, conversation_id: str) -> list[QualityHit]:
    rows = await session.scalars(
        select(QualityHit).where(QualityHit.conversation_id == conversation_id).order_by(QualityHit.id)
    )
    return list(rows)
