"""The switchboard: every customer message passes here, whatever its channel.

Persist first, then route: the customer's message is committed before the bot is called, and
the bot is called at most once per message (a retried message returns the stored replies).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu import conversations as repo
from kefu import identities
from kefu.botclient import BotClient
from kefu.db.models import Conversation, Customer, Message, UnansweredQuestion
from kefu.errors import Unavailable
from kefu.lang import detect_lang
from kefu.texts import text_for
from kefu.types import (
    BotReply,
    Channel,
    ConversationState,
    HandleResult,
    HandoffReason,
    HandoffRequest,
    InboundMessage,
    Lang,
    ReplyView,
    Suggestion,
)
from tickets import service as tickets


class LockFactory(Protocol):
    """A per-customer lock held while one message is handled (Redis in production)."""

    def __call__(self, channel: str, channel_user_id: str) -> AbstractAsyncContextManager[Any]: ...


class HandoffSink(Protocol):
    """Where handed-off conversations go (the queue and the agent desk)."""

    async def request(self, session: AsyncSession, conv: Conversation, handoff: HandoffRequest) -> list[str]:
        """Queue it or make it a ticket (in the caller's transaction); returns customer notices."""

    async def dispatch(self, conversation_id: str) -> None:
        """After the commit: assign it if an agent can take it now."""

    async def customer_message(self, conv: Conversation, message: Message) -> None:
        """A customer wrote while queued or with an agent."""

    async def take_rating(self, conv: Conversation, text: str) -> str | None:
        """If the text rates a closed conversation, record it and return the thanks."""


class EventPublisher(Protocol):
    async def message_added(self, conversation_id: str, message: Message) -> None: ...


class Switchboard:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: BotClient,
        lock: LockFactory,
        handoff: HandoffSink,
        events: EventPublisher,
    ) -> None:
        self._sessions = sessions
        self._bot = bot
        self._lock = lock
        self._handoff = handoff
        self._events = events

    async def handle(self, msg: InboundMessage) -> HandleResult:
        lang: Lang = msg.lang or detect_lang(msg.text)
        async with self._lock(msg.channel, msg.channel_user_id):
            stored = await self._store_inbound(msg, lang)
            if isinstance(stored, HandleResult):
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
        thanks = await self._handoff.take_rating(conv, msg.text)
        if thanks is None:
            return None
        rating = repo.add_message(
            session, conv.id, "customer", msg.text, client_message_id=msg.channel_message_id
        )
        await session.flush()
        reply = repo.add_message(session, conv.id, "system", thanks, reply_to=rating.id)
        await session.flush()
        return HandleResult(conv.id, rating.id, conv.state, _views([reply]))

    async def _ask_bot(
        self, conv: Conversation, message: Message, lang: Lang, msg: InboundMessage
    ) -> HandleResult:
        metadata = {"channel": str(msg.channel), "lang": lang, "customer_id": conv.customer_id}
        try:
            replies = await self._bot.send(conv.id, msg.text, metadata)
        except Unavailable:
            replies = [_handoff_reply(text_for("bot_unavailable", lang), "bot_unavailable")]
        handoff = _handoff_signal(replies)
        async with self._sessions.begin() as session:
            stored = [
                repo.add_message(
                    session,
                    conv.id,
                    "bot",
                    reply.text or "",
                    reply_to=message.id,
                    payload={"buttons": list(reply.buttons)} if reply.buttons else {},
                )
                for reply in replies
                if reply.text or reply.buttons
            ]
            await session.execute(update(Message).where(Message.id == message.id).values(bot_status="done"))
            if handoff is not None:  # only a handoff changes the conversation (no agent holds it now)
                conv = await repo.get_conversation(session, conv.id)
                stored += await self._hand_off(session, conv, message, lang, handoff)
            await session.flush()
            state = conv.state
        for reply_message in stored:
            await self._events.message_added(conv.id, reply_message)
        if handoff is not None:
            await self._handoff.dispatch(conv.id)
            async with self._sessions() as session:
                state = (await repo.get_conversation(session, conv.id)).state
        return HandleResult(conv.id, message.id, state, _views(stored))

    async def _hand_off(
        self,
        session: AsyncSession,
        conv: Conversation,
        message: Message,
        lang: Lang,
        signal: dict[str, Any],
    ) -> list[Message]:
        reason = str(signal.get("reason", HandoffReason.LOW_CONFIDENCE))
        candidates = _candidates(signal.get("candidates"))
        await repo.transition(session, conv, ConversationState.QUEUED, reason=reason, actor="bot")
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
            reason=_reason(reason),
            candidates=candidates,
            channel=Channel(conv.channel),
            lang=lang,
            tier=customer.tier if customer else "normal",
            topic=str(signal.get("topic", "")),
            customer_id=conv.customer_id,
            entry_point=conv.entry_point,
        )
        notices = await self._handoff.request(session, conv, request)
        return [repo.add_message(session, conv.id, "system", text, reply_to=message.id) for text in notices]


def _views(messages: Sequence[Message]) -> tuple[ReplyView, ...]:
    return tuple(
        ReplyView(
            message_id=m.id,
            sender=m.sender,
            text=m.text,
            buttons=tuple(m.payload.get("buttons", ())) if m.payload else (),
        )
        for m in messages
    )


def _handoff_reply(text: str, reason: str) -> BotReply:
    return BotReply(text=text, custom={"kefu": {"handoff": {"reason": reason, "candidates": []}}})


def _handoff_signal(replies: Sequence[BotReply]) -> dict[str, Any] | None:
    for reply in replies:
        kefu_part = (reply.custom or {}).get("kefu")
        if isinstance(kefu_part, dict) and isinstance(kefu_part.get("handoff"), dict):
            signal: dict[str, Any] = kefu_part["handoff"]
            return signal
    return None


def _candidates(raw: object) -> tuple[Suggestion, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        Suggestion(
            key=str(c.get("key", "")),
            question=str(c.get("question", "")),
            answer=str(c.get("answer", "")),
            score=float(c.get("score", 0.0)),
        )
        for c in raw
        if isinstance(c, dict)
    )


def _reason(raw: str) -> HandoffReason:
    try:
        return HandoffReason(raw)
    except ValueError:
        return HandoffReason.LOW_CONFIDENCE
