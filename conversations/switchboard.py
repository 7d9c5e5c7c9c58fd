"""The switchboard: every customer message passes here, whatever its channel.

Persist first, then route: the customer's message is committed before the bot is called, and
the bot is called at most once per message (a retried message returns the stored replies).
Replies and notices are stored with their outbox rows and sent by the outbox after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import identities, repo, tickets
from conversations.bot_segments import SEGMENT_TURNS, Segment
from conversations.botclient import BotClient
from conversations.outbound import Outbound
from conversations.tables import Conversation, Customer, Message
from conversations.texts import text_for
from conversations.views import view_of
from core import handoff_signal, request_id
from core.errors import Unavailable
from core.handoff_signal import HandoffSignal
from core.lang import detect_lang
from core.types import (
    BotReply,
    Channel,
    ConversationState,
    HandleResult,
    HandoffReason,
    HandoffRequest,
    InboundMessage,
    Lang,
    MessageView,
)
from knowledge import usage
from knowledge.tables import UnansweredQuestion


class LockFactory(Protocol):
    """A per-customer lock held while one message is handled (Redis in production)."""

    def __call__(self, channel: str, channel_user_id: str) -> AbstractAsyncContextManager[Any]: ...


class HandoffSink(Protocol):
    """Where handed-off conversations go (the queue and the agent desk)."""

    async def request(self, session: AsyncSession, conv: Conversation, handoff: HandoffRequest) -> list[str]:
        """Queue it or make it a ticket (in the caller's transaction); returns customer notices."""

    async def dispatch(self, conversation_id: str, *, reply_to: int | None = None) -> Sequence[Message]:
        """After the commit: assign it if an agent can take it now; returns the notices it sent
        (the queue position, when it still waits)."""

    async def customer_message(self, conv: Conversation, message: Message) -> None:
        """A customer wrote while queued or with an agent."""


class Ratings(Protocol):
    async def take_rating(self, session: AsyncSession, conv: Conversation, text: str) -> str | None:
        """If the text rates a closed conversation, record it (in the caller's transaction) and
        return the thanks."""


class EventPublisher(Protocol):
    async def message_added(self, conversation_id: str, message: Message) -> None: ...


class Switchboard:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: BotClient,
        lock: LockFactory,
        handoff: HandoffSink,
        ratings: Ratings,
        events: EventPublisher,
        outbound: Outbound,
        *,
        segment_turns: int = SEGMENT_TURNS,
    ) -> None:
        self._sessions = sessions
        self._segment_turns = segment_turns
        self._outbound = outbound
        self._bot = bot
        self._lock = lock
        self._handoff = handoff
        self._ratings = ratings
        self._events = events

    async def handle(self, msg: InboundMessage) -> HandleResult:
        lang: Lang = msg.lang or detect_lang(msg.text)
        async with self._lock(msg.channel, msg.channel_user_id):
            stored = await self._store_inbound(msg, lang)
            if isinstance(stored, HandleResult):
                # A CSAT thanks, or a retried message: rows already sent are not sent again.
                await self._outbound.deliverer.deliver(reply.id for reply in stored.replies)
                return stored
            conv, message = stored
            await self._events.message_added(conv.id, message)
            if conv.state != ConversationState.BOT:
                await self._handoff.customer_message(conv, message)
                return HandleResult(conv.id, message.id, conv.state, ())
            return await self._ask_bot(conv, message, lang, msg)

    async def _store_inbound(
        self, msg: InboundMessage, lang: Lang
    ) -> HandleResult | tuple[Conversation, Message]:
        async with self._sessions.begin() as session:
            conv = await repo.current_conversation(
                session,
                channel=msg.channel,
                channel_user_id=msg.channel_user_id,
                entry_point=msg.entry_point,
                lang=lang,
                reopen=False,
            )
            if msg.channel == Channel.APP and msg.metadata:  # signed by the app: trusted claims
                await identities.link_from_metadata(
                    session, conv.customer_id, msg.metadata, actor=f"app:{msg.entry_point}"
                )
            existing = await repo.find_client_message(session, conv.id, msg.channel_message_id)
            if existing is not None and existing.bot_status != "pending":
                replies = await repo.replies_to(session, existing.id)
                return HandleResult(conv.id, existing.id, conv.state, _views(replies), duplicate=True)
            if conv.state == ConversationState.CLOSED:
                rated = await self._take_rating(session, conv, msg)
                if rated is not None:
                    return rated
            if conv.state in (ConversationState.CLOSED, ConversationState.TICKET):
                # Back to the bot; an open ticket of this conversation keeps collecting the thread.
                await repo.transition(
                    session, conv, ConversationState.BOT, reason="customer_returned", actor="customer"
                )
            await tickets.on_customer_message(session, conv.id, msg.text)
            message = existing or repo.add_message(
                session,
                conv.id,
                "customer",
                msg.text,
                client_message_id=msg.channel_message_id,
                bot_status="pending" if conv.state == ConversationState.BOT else "none",
                payload={"lang": lang, **({"metadata": msg.metadata} if msg.metadata else {})},
            )
            await session.flush()
            session.expunge(conv)
            return conv, message

    async def _take_rating(
        self, session: AsyncSession, conv: Conversation, msg: InboundMessage
    ) -> HandleResult | None:
        thanks = await self._ratings.take_rating(session, conv, msg.text)
        if thanks is None:
            return None
        rating = repo.add_message(
            session, conv.id, "customer", msg.text, client_message_id=msg.channel_message_id
        )
        await session.flush()
        reply = self._outbound.add(session, conv, "system", thanks, reply_to=rating.id)
        await session.flush()
        return HandleResult(conv.id, rating.id, conv.state, _views([reply]))

    async def _ask_bot(
        self, conv: Conversation, message: Message, lang: Lang, msg: InboundMessage
    ) -> HandleResult:
        metadata = {"channel": str(msg.channel), "lang": lang, "customer_id": conv.customer_id}
        if served := request_id.current():  # the action server logs under the same id
            metadata["request_id"] = served
        segment = await self._segment(conv)
        try:
            replies = await self._bot.send(segment.sender(conv.id), msg.text, metadata)
            if not any(reply.text or reply.buttons or reply.custom for reply in replies):
                # Rasa answers nothing when its action server is down; every turn of ours says something
                raise Unavailable("the bot answered nothing", code="bot_unavailable")
        except Unavailable:
            signal = HandoffSignal(HandoffReason.BOT_UNAVAILABLE)
            replies = [BotReply(text=text_for("bot_unavailable", lang), custom=signal.encode())]
        handoff = handoff_signal.find(replies)
        async with self._sessions.begin() as session:
            stored = [
                self._outbound.add(
                    session,
                    conv,
                    "bot",
                    reply.text or "",
                    reply_to=message.id,
                    payload={"buttons": list(reply.buttons)} if reply.buttons else {},
                )
                for reply in replies
                if reply.text or reply.buttons
            ]
            await session.execute(update(Message).where(Message.id == message.id).values(bot_status="done"))
            done = segment.after_turn()
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conv.id)
                .values(bot_segment=done.number, bot_turns=done.turns)
            )
            if handoff is not None:  # only a handoff changes the conversation (no agent holds it now)
                conv = await repo.get_conversation(session, conv.id)
                stored += await self._hand_off(session, conv, message, lang, handoff)
            await session.flush()
            _log_answer(session, conv.id, message, lang, replies, stored)
            state = conv.state
        await self._outbound.deliver_all(stored)
        if handoff is not None:
            stored += await self._handoff.dispatch(conv.id, reply_to=message.id)
            async with self._sessions() as session:
                state = (await repo.get_conversation(session, conv.id)).state
        return HandleResult(conv.id, message.id, state, _views(stored))

    async def _segment(self, conv: Conversation) -> Segment:
        """The bot conversation this turn goes to: a new one once the current one is full,
        unless a form is running in it (conversations/bot_segments.py)."""
        segment = Segment.of(conv)
        if segment.full(self._segment_turns) and not await self._bot.in_form(segment.sender(conv.id)):
            return segment.next()
        return segment

    async def _hand_off(
        self,
        session: AsyncSession,
        conv: Conversation,
        message: Message,
        lang: Lang,
        signal: HandoffSignal,
    ) -> list[Message]:
        reason, candidates = signal.reason, signal.candidates
        await repo.transition(session, conv, ConversationState.QUEUED, reason=reason, actor="bot")
        if reason in (HandoffReason.CUSTOMER_REQUEST, HandoffReason.NEGATIVE_SENTIMENT):
            await usage.mark_handoff(session, conv.id)  # the bot's last answer did not do
        if reason in (HandoffReason.LOW_CONFIDENCE, HandoffReason.KNOWLEDGE_UNAVAILABLE):
            session.add(
                UnansweredQuestion(
                    conversation_id=conv.id,
                    text=message.text,
                    lang=lang,
                    top_score=candidates[0].score if candidates else 0.0,
                )
            )
        customer = await session.get(Customer, conv.customer_id)
        request = HandoffRequest(
            conversation_id=conv.id,
            reason=reason,
            candidates=candidates,
            channel=Channel(conv.channel),
            lang=lang,
            tier=customer.tier if customer else "normal",
            topic=signal.topic,
            customer_id=conv.customer_id,
            entry_point=conv.entry_point,
        )
        notices = await self._handoff.request(session, conv, request)
        return [self._outbound.add(session, conv, "system", text, reply_to=message.id) for text in notices]


def _log_answer(
    session: AsyncSession,
    conversation_id: str,
    question: Message,
    lang: Lang,
    replies: Sequence[BotReply],
    stored: Sequence[Message],
) -> None:
    """An FAQ answer (the bot's ``kefu.answer`` payload) goes to the knowledge usage log, tied to
    the bot message that carried the answer text (the last bot text before the payload)."""
    payload = next((p for p in (usage.answer_of(r.custom) for r in replies) if p is not None), None)
    answers = [m for m in stored if m.sender == "bot"]
    if payload is None or not answers:
        return
    answers[-1].payload = {**(answers[-1].payload or {}), "answer": str(payload["key"])[:128]}
    usage.record_answer(
        session,
        conversation_id=conversation_id,
        message_id=answers[-1].id,
        question=question.text,
        lang=lang,
        payload=payload,
    )


def _views(messages: Sequence[Message]) -> tuple[MessageView, ...]:
    return tuple(view_of(m) for m in messages)
