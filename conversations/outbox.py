"""The outbox: the one path of every message to a customer, whatever its channel and sender.

A message to the customer (bot reply, agent reply, system notice, ticket reply) is stored with
an ``outbox`` row in the same SQL transaction (``add``). After the commit a ``Deliverer`` holds
the row with a lease, hands the message to its channel's ``ChannelSender`` and records the
outcome: ``sent``; ``failed`` with the error and the time of the next attempt (exponential
backoff); ``dead`` after the last attempt or a refusal retrying cannot change
(``core.errors.Undeliverable``). A background loop on every replica (``Deliverer.run``) picks
up due rows, so a crash between the commit and the send delays the message but never loses it.
A sent row is never claimed again; senders are idempotent per message id for the window in
which a deliverer died after sending but before recording it.

A row written through ``Deliverer.add`` is inserted already leased to that deliverer, which
sends it right after the commit from the objects in memory: no claim transaction and no read,
and the outcomes of one batch (a turn's replies) are recorded in one commit. A row whose
writer dies before sending it waits for its lease to expire, then the background loop sends it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement

from conversations import repo
from conversations.tables import Conversation, Message, OutboxEntry
from conversations.views import iso
from core.background import repeat
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


@dataclass(frozen=True)
class Lease:
    owner: str
    until: datetime


def enqueue(
    session: AsyncSession, conv: Conversation, message: Message, *, lease: Lease | None = None
) -> OutboxEntry | None:
    """The outbox row of a message to the customer, in the caller's transaction; with a lease,
    held by its owner from the start (the owner sends it after the commit)."""
    if message.sender not in TO_CUSTOMER:
        return None
    entry = OutboxEntry(
        message=message,
        channel=conv.channel,
        status="pending",
        attempts=0,
        next_attempt_at=utc_now(),
        last_error="",
        lease_owner=lease.owner if lease else None,
        lease_until=lease.until if lease else None,
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
    lease: Lease | None = None,
) -> Message:
    """Store a message and, unless it is a note, its outbox row (sent by the background loop, or
    with a lease by the lease's owner)."""
    message = repo.add_message(
        session,
        conv.id,
        sender,
        text,
        payload=payload,
        reply_to=reply_to,
        client_message_id=client_message_id,
    )
    enqueue(session, conv, message, lease=lease)
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
    """``add`` as an object, for code that takes a message sink (``conversations.tickets``): rows
    sent by the background loop."""

    add = staticmethod(add)


@dataclass(frozen=True)
class Address:
    """Where a conversation's messages go, kept apart from its row."""

    id: str
    channel: str
    channel_user_id: str
    entry_point: str

    @classmethod
    def of(cls, conv: Conversation) -> Address:
        return cls(conv.id, conv.channel, conv.channel_user_id, conv.entry_point)


def outbound_message(conv: Conversation | Address, message: Message) -> OutboundMessage:
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
    attempts: int
    message: OutboundMessage
    lease_owner: str


@dataclass(frozen=True)
class _Held:
    """A row this deliverer wrote already leased: where its message goes, and the lease."""

    address: Address
    lease: Lease

    def claimed(self, message: Message, now: datetime) -> _Claimed | None:
        """The row once its transaction committed (the message is then detached with its id)
        while the lease lasts; None while it is uncommitted, after it rolled back, or once the
        lease ran out (another deliverer may hold the row now)."""
        if not inspect(message).detached or now >= self.lease.until:
            return None
        return _Claimed(0, outbound_message(self.address, message), self.lease.owner)


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
        self._owner = f"held-{uuid.uuid4().hex}"  # the lease of rows this deliverer wrote itself
        # Rows written by ``add`` and not yet sent, by their message (gone with the message object).
        self._held: weakref.WeakKeyDictionary[Message, _Held] = weakref.WeakKeyDictionary()

    def register(self, channel: Channel, sender: ChannelSender) -> None:
        self._senders[channel] = sender

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
        """Store a message with its outbox row leased to this deliverer, which sends it when
        ``deliver`` is called after the commit (without claiming it first)."""
        lease = Lease(self._owner, self._clock() + self._lease)
        message = add(
            session,
            conv,
            sender,
            text,
            payload=payload,
            reply_to=reply_to,
            client_message_id=client_message_id,
            lease=lease,
        )
        if message.sender in TO_CUSTOMER:
            self._held[message] = _Held(Address.of(conv), lease)
        return message

    async def deliver(self, message_ids: Iterable[int]) -> dict[int, Delivery]:
        """Send these committed messages now (in order); what happened to each. Rows this
        deliverer wrote are sent from memory; others are claimed first (held elsewhere, or sent
        already: ``ELSEWHERE``). The outcomes are recorded in one transaction."""
        wanted = list(message_ids)
        if not wanted:
            return {}
        by_id = self._take_held(wanted)
        if missing := [m for m in wanted if m not in by_id]:
            claimed = await self._claim(OutboxEntry.message_id.in_(missing), len(missing))
            by_id.update((int(c.message.message_id), c) for c in claimed)
        outcome: dict[int, Delivery] = {}
        settled: list[tuple[_Claimed, dict[str, Any]]] = []
        for message_id in wanted:
            item = by_id.get(message_id)
            if item is None:
                outcome[message_id] = Delivery.ELSEWHERE
                continue
            outcome[message_id], values = await self._try(item)
            settled.append((item, values))
        await self._settle(settled)
        return outcome

    async def deliver_due(self, limit: int = 100) -> int:
        """One pass over rows whose (next) attempt is due; returns how many were attempted.
        Each outcome is recorded as soon as it is known."""
        claimed = await self._claim(None, limit)
        for item in claimed:
            _, values = await self._try(item)
            await self._settle([(item, values)])
        return len(claimed)

    def _take_held(self, message_ids: list[int]) -> dict[int, _Claimed]:
        wanted, now = set(message_ids), self._clock()
        found: dict[int, _Claimed] = {}
        for message, held in list(self._held.items()):
            if message.id in wanted and (item := held.claimed(message, now)) is not None:
                found[message.id] = item
                del self._held[message]
        return found

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """The background loop of a replica: due rows until ``stop`` is set."""

        async def drain() -> None:
            while await self.deliver_due() and not stop.is_set():
                pass

        await repeat(drain, stop, interval, log=log, what="outbox pass")

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
                select(OutboxEntry.attempts, Message, Conversation)
                .join(Message, Message.id == OutboxEntry.message_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(OutboxEntry.lease_owner == token)
                .order_by(OutboxEntry.id)
            )
            return [
                _Claimed(attempts, outbound_message(conv, message), token)
                for attempts, message, conv in rows.all()
            ]

    async def _try(self, item: _Claimed) -> tuple[Delivery, dict[str, Any]]:
        """Send one claimed row: what happened, and the row's new values."""
        sender = self._senders.get(item.message.channel)
        try:
            if sender is None:
                raise Undeliverable(f"no sender for channel {item.message.channel}", code="no_sender")
            await sender.send(item.message)
        except Undeliverable as exc:
            log.warning("message %s refused on %s: %s", item.message.message_id, item.message.channel, exc)
            return self._failed(item, exc, final=True)
        except Exception as exc:
            log.warning(
                "message %s not delivered on %s (attempt %d): %s",
                item.message.message_id,
                item.message.channel,
                item.attempts + 1,
                exc,
            )
            return self._failed(item, exc, final=item.attempts + 1 >= self._policy.max_attempts)
        return Delivery.SENT, {"status": "sent", "sent_at": self._clock(), "last_error": ""}

    def _failed(self, item: _Claimed, exc: Exception, *, final: bool) -> tuple[Delivery, dict[str, Any]]:
        attempts = item.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        if final:
            return Delivery.DEAD, {"status": "dead", "last_error": error}
        due = self._clock() + timedelta(seconds=self._policy.delay(attempts))
        return Delivery.RETRYING, {"status": "failed", "last_error": error, "next_attempt_at": due}

    async def _settle(self, outcomes: Sequence[tuple[_Claimed, dict[str, Any]]]) -> None:
        """Record outcomes in one transaction, each only while its row is still under the lease
        it was sent with (a lease that ran out may have passed the row to another deliverer)."""
        if not outcomes:
            return
        async with self._sessions.begin() as session:
            for item, values in outcomes:
                await session.execute(
                    update(OutboxEntry)
                    .where(
                        OutboxEntry.message_id == int(item.message.message_id),
                        OutboxEntry.lease_owner == item.lease_owner,
                    )
                    .values(attempts=item.attempts + 1, lease_owner=None, lease_until=None, **values)
                    .execution_options(synchronize_session=False)
                )


async def entries(session: AsyncSession, message_ids: Sequence[int]) -> list[OutboxEntry]:
    """The outbox rows of these messages (for tests and admin views)."""
    result = await session.scalars(
        select(OutboxEntry).where(OutboxEntry.message_id.in_(message_ids)).order_by(OutboxEntry.id)
    )
    return list(result.all())
