"""The outbox: the one path of every message to a customer, whatever its channel and sender.

A message to the customer (bot reply, agent reply, system notice, ticket reply) is stored with
an ``outbox`` row in the same SQL transaction (``add``). After the commit a ``Deliverer`` claims
the row with a lease, hands the message to its channel's ``ChannelSender`` and records the
outcome: ``sent``; ``failed`` with the error and the time of the next attempt (exponential
backoff); ``dead`` after the last attempt or a refusal retrying cannot change
(``core.errors.Undeliverable``). A background loop on every replica (``Deliverer.run``) picks
up due rows, so a crash between the commit and the send delays the message but never loses it.
A sent row is never claimed again; senders are idempotent per message id for the window in
which a deliverer died after sending but before recording it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement

from conversations import repo
from conversations.tables import Conversation, Message, OutboxEntry
from conversations.views import iso
from core.clock import utc_now
from core.errors import Undeliverable
from core.sending import ChannelSender
from core.types import Channel, OutboundMessage

log = logging.getLogger(__name__)

TO_CUSTOMER = frozenset({"bot", "agent", "system"})  # notes and customer messages are not sent
OPEN = ("pending", "failed")
MAX_ERROR = 500


class Delivery(StrEnum):
    SENT = "sent"
    RETRYING = "retrying"  # failed; the outbox tries again later
    DEAD = "dead"  # refused for good or out of attempts
    ELSEWHERE = "elsewhere"  # sent already, or another deliverer holds it right now


@dataclass(frozen=True)
class RetryPolicy:
    """``base_delay * factor**(n-1)`` seconds after the n-th failed attempt; dead after ``max_attempts``."""

    base_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 600.0
    max_attempts: int = 10

    def delay(self, attempts_made: int) -> float:
        return float(min(self.max_delay, self.base_delay * self.factor ** max(0, attempts_made - 1)))


def enqueue(session: AsyncSession, conv: Conversation, message: Message) -> OutboxEntry | None:
    """The outbox row of a message to the customer, in the caller's transaction."""
    if message.sender not in TO_CUSTOMER:
        return None
    entry = OutboxEntry(
        message=message,
        channel=conv.channel,
        status="pending",
        attempts=0,
        next_attempt_at=utc_now(),
        last_error="",
    )
    session.add(entry)
    return entry


def add(
    session: AsyncSession,
    conv: Conversation,
    sender: str,
    text: str,
    *,
    payload: dict[str, Any] | None = None,
    reply_to: int | None = None,
    client_message_id: str | None = None,
) -> Message:
    """Store a message and, unless it is a note, its outbox row (deliver after the commit)."""
    message = repo.add_message(
        session,
        conv.id,
        sender,
        text,
        payload=payload,
        reply_to=reply_to,
        client_message_id=client_message_id,
    )
    enqueue(session, conv, message)
    return message


async def retry_now(session: AsyncSession, message_id: int) -> bool:
    """A failed or dead row is due again at once with a fresh count of attempts (an agent's
    "retry"); False when the message has no such row (sent already, or nothing to send)."""
    done = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.message_id == message_id, OutboxEntry.status.in_(("failed", "dead")))
        .values(status="pending", attempts=0, next_attempt_at=utc_now(), lease_owner=None, lease_until=None)
    )
    return bool(getattr(done, "rowcount", 0))


class OutboxWriter:
    """``add`` as an object, for code that takes a message sink (``conversations.tickets``)."""

    def add(
        self,
        session: AsyncSession,
        conv: Conversation,
        sender: str,
        text: str,
        *,
        payload: dict[str, Any] | None = None,
        reply_to: int | None = None,
        client_message_id: str | None = None,
    ) -> Message:
        return add(
            session,
            conv,
            sender,
            text,
            payload=payload,
            reply_to=reply_to,
            client_message_id=client_message_id,
        )


def outbound_message(conv: Conversation, message: Message) -> OutboundMessage:
    sender = cast(Literal["bot", "agent", "system"], message.sender)
    return OutboundMessage(
        conversation_id=conv.id,
        channel=Channel(conv.channel),
        channel_user_id=conv.channel_user_id,
        text=message.text,
        sender=sender,
        message_id=str(message.id),
        entry_point=conv.entry_point,
        buttons=tuple((message.payload or {}).get("buttons", ())),
        created_at=iso(message.created_at),
    )


@dataclass(frozen=True)
class _Claimed:
    entry_id: int
    attempts: int
    message: OutboundMessage


class Deliverer:
    """Sends claimed outbox rows through the channels' senders; one per process is enough, any
    number of replicas may run one (the lease keeps two from sending the same row at once)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, ChannelSender] | None = None,
        *,
        policy: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._senders: dict[str, ChannelSender] = dict(senders or {})
        self._policy = policy or RetryPolicy()
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock

    def register(self, channel: Channel, sender: ChannelSender) -> None:
        self._senders[channel] = sender

    async def deliver(self, message_ids: Iterable[int]) -> dict[int, Delivery]:
        """Send these committed messages now (in order); what happened to each."""
        wanted = list(message_ids)
        if not wanted:
            return {}
        claimed = await self._claim(OutboxEntry.message_id.in_(wanted), len(wanted))
        by_id = {int(c.message.message_id): c for c in claimed}
        outcome: dict[int, Delivery] = {}
        for message_id in wanted:
            item = by_id.get(message_id)
            outcome[message_id] = Delivery.ELSEWHERE if item is None else await self._attempt(item)
        return outcome

    async def deliver_due(self, limit: int = 100) -> int:
        """One pass over rows whose (next) attempt is due; returns how many were attempted."""
        claimed = await self._claim(None, limit)
        for item in claimed:
            await self._attempt(item)
        return len(claimed)

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """The background loop of a replica: due rows until ``stop`` is set."""
        while not stop.is_set():
            try:
                while await self.deliver_due() and not stop.is_set():
                    pass
            except Exception:
                log.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def _claim(self, which: ColumnElement[bool] | None, limit: int) -> list[_Claimed]:
        now = self._clock()
        token = uuid.uuid4().hex
        claimable = [
            OutboxEntry.status.in_(OPEN),
            OutboxEntry.next_attempt_at <= now,
            or_(OutboxEntry.lease_until.is_(None), OutboxEntry.lease_until < now),
        ]
        if which is not None:
            claimable.append(which)
        async with self._sessions.begin() as session:
            ids = select(OutboxEntry.id).where(*claimable).order_by(OutboxEntry.id).limit(limit)
            await session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(ids.scalar_subquery()), *claimable)
                .values(lease_owner=token, lease_until=now + self._lease)
                .execution_options(synchronize_session=False)
            )
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxEntry.id, OutboxEntry.attempts, Message, Conversation)
                .join(Message, Message.id == OutboxEntry.message_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(OutboxEntry.lease_owner == token)
                .order_by(OutboxEntry.id)
            )
            return [
                _Claimed(entry_id, attempts, outbound_message(conv, message))
                for entry_id, attempts, message, conv in rows.all()
            ]

    async def _attempt(self, item: _Claimed) -> Delivery:
        sender = self._senders.get(item.message.channel)
        try:
            if sender is None:
                raise Undeliverable(f"no sender for channel {item.message.channel}", code="no_sender")
            await sender.send(item.message)
        except Undeliverable as exc:
            log.warning("message %s refused on %s: %s", item.message.message_id, item.message.channel, exc)
            return await self._failed(item, exc, final=True)
        except Exception as exc:
            log.warning(
                "message %s not delivered on %s (attempt %d): %s",
                item.message.message_id,
                item.message.channel,
                item.attempts + 1,
                exc,
            )
            return await self._failed(item, exc, final=item.attempts + 1 >= self._policy.max_attempts)
        await self._settle(item, status="sent", sent_at=self._clock(), last_error="")
        return Delivery.SENT

    async def _failed(self, item: _Claimed, exc: Exception, *, final: bool) -> Delivery:
        attempts = item.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        if final:
            await self._settle(item, status="dead", last_error=error)
            return Delivery.DEAD
        due = self._clock() + timedelta(seconds=self._policy.delay(attempts))
        await self._settle(item, status="failed", last_error=error, next_attempt_at=due)
        return Delivery.RETRYING

    async def _settle(self, item: _Claimed, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == item.entry_id)
                .values(attempts=item.attempts + 1, lease_owner=None, lease_until=None, **values)
                .execution_options(synchronize_session=False)
            )


async def entries(session: AsyncSession, message_ids: Sequence[int]) -> list[OutboxEntry]:
    """The outbox rows of these messages (for tests and admin views)."""
    result = await session.scalars(
        select(OutboxEntry).where(OutboxEntry.message_id.in_(message_ids)).order_by(OutboxEntry.id)
    )
    return list(result.all())
