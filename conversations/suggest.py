"""Suggestions for the agent: top FAQ answers from the live knowledge index, and replies that
agents gave to similar questions in past resolved conversations (a FAISS index over them)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import Conversation, Message
from core.lang import lang_of
from knowledge.encoders import Encoder, get_encoder
from knowledge.index import IndexConfig
from knowledge.learning import looks_personal
from knowledge.live import LiveIndex

PAST_REPLIES_REFRESH = 300.0  # seconds between rebuilds of the past-replies index
PAST_REPLIES_LIMIT = 5000


@dataclass(frozen=True)
class PastReply:
    key: str  # the agent message id
    question: str
    answer: str


class PastReplies:
    """(customer question → agent reply) pairs from closed conversations, searchable by meaning."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._pairs: list[PastReply] = []
        self._index: Any = None
        self._built_at = 0.0
        self._lock = threading.Lock()

    def stale(self, now: float) -> bool:
        return now - self._built_at > PAST_REPLIES_REFRESH

    def rebuild(self, pairs: list[PastReply], now: float) -> None:
        index = None
        if pairs:
            vectors = self._encoder.encode([p.question for p in pairs]).astype(np.float32)
            index = faiss.IndexFlatIP(vectors.shape[1])
            index.add(vectors)
        with self._lock:
            self._pairs, self._index, self._built_at = pairs, index, now

    def search(self, text: str, k: int = 3) -> list[tuple[PastReply, float]]:
        with self._lock:
            pairs, index = self._pairs, self._index
        if index is None or not text:
            return []
        scores, ids = index.search(self._encoder.encode([text]).astype(np.float32), min(k, len(pairs)))
        return [(pairs[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]


async def load_pairs(session: AsyncSession, limit: int = PAST_REPLIES_LIMIT) -> list[PastReply]:
    """Each agent reply in a closed conversation, with the customer message just before it.

    Other customers' words are shown to agents as suggestions: a pair in which either side may
    carry personal data (``knowledge.learning.looks_personal``) is left out."""
    closed = select(Conversation.id).where(Conversation.state.in_(("closed", "bot")))
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(closed), Message.sender.in_(("customer", "agent")))
            .order_by(Message.conversation_id, Message.id)
            .limit(limit * 4)
        )
    ).all()
    pairs: list[PastReply] = []
    last: Message | None = None
    for message in rows:
        if (
            message.sender == "agent"
            and last is not None
            and last.conversation_id == message.conversation_id
            and not looks_personal(last.text)
            and not looks_personal(message.text)
        ):
            pairs.append(PastReply(str(message.id), last.text, message.text))
        if message.sender == "customer":
            last = message
    return pairs[-limit:]


async def last_customer_text(session: AsyncSession, conversation_id: str) -> str:
    """What the customer said last in the conversation ("" when nothing)."""
    text = await session.scalar(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.sender == "customer")
        .order_by(Message.id.desc())
        .limit(1)
    )
    return text or ""


class Suggester:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], knowledge_dir: Path, encoder_name: str = "use"
    ) -> None:
        self._sessions = sessions
        self._knowledge_dir = knowledge_dir
        self._encoder_name = encoder_name
        self._live: LiveIndex | None = None
        self._past: PastReplies | None = None

    def _index(self) -> LiveIndex:
        if self._live is None:  # loaded on first use, never at start-up
            self._live = LiveIndex(self._knowledge_dir, IndexConfig())
        return self._live

    async def for_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            text = await last_customer_text(session, conversation_id)
            conv = await session.get(Conversation, conversation_id)
            past = await self._past_replies(session)
        if not text:
            return []
        # FAQ answers in the customer's language
        lang = lang_of(conv.lang) if conv is not None else None
        faq = await asyncio.to_thread(self._index().search, text, lang, 3)
        found: list[dict[str, Any]] = [
            {
                "source": "faq",
                "key": c.key,
                "question": c.question,
                "text": c.answer,
                "score": round(c.score, 4),
            }
            for c in faq.candidates
        ]
        for reply, score in await asyncio.to_thread(past.search, text, 3):
            found.append(
                {
                    "source": "reply",
                    "key": reply.key,
                    "question": reply.question,
                    "text": reply.answer,
                    "score": round(score, 4),
                }
            )
        return sorted(found, key=lambda s: -s["score"])

    async def _past_replies(self, session: AsyncSession) -> PastReplies:
        if self._past is None:
            self._past = PastReplies(get_encoder(self._encoder_name))
        now = time.monotonic()
        if self._past.stale(now):
            pairs = await load_pairs(session)
            await asyncio.to_thread(self._past.rebuild, pairs, now)
        return self._past
