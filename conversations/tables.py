"""Tables the conversations domain owns: customers, their channel identities, conversations,
messages, the outbox of messages to deliver, state transitions, queue entries, CSAT ratings,
identity merges, suggestion uses, channel sync cursors.

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    tier: Mapped[str] = mapped_column(String(16), default="normal")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_channel_user", "channel", "channel_user_id"),
        # reports select by creation day; covering, so the range scan never visits the table
        Index("ix_conversations_created_at", "created_at", "id", "customer_id", "channel", "lang"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(160))
    entry_point: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    assigned_agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the bot's segment of this conversation (its Rasa sender, conversations/bot_segments.py)
    # and the turns sent to it so far
    bot_segment: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bot_turns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Base):
    """One message in a conversation. ``id`` is monotonic and doubles as the ``after`` cursor.

    A customer message is stored before the bot is called (``bot_status`` = pending) and marked
    done when the bot's replies are stored, so a restart can finish what a killed process began.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "sender", "client_message_id", name="uq_messages_client_id"),
        # reports: a conversation's first agent message; customer messages of a period
        Index("ix_messages_conversation_sender_created", "conversation_id", "sender", "created_at"),
        Index("ix_messages_sender_created", "sender", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    sender: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system | note
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reply_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bot_status: Mapped[str] = mapped_column(String(16), default="none")  # none|pending|done
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEntry(Base):
    """A stored message still to be delivered to the customer's channel (written in the same
    transaction as the message; ``conversations.outbox`` is its only writer).

    ``status``: pending -> sent, or pending -> failed (retrying at ``next_attempt_at``) -> ... ->
    dead after the last attempt. A deliverer holds a row while ``lease_until`` is in the future.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|failed|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    message: Mapped[Message] = relationship(lazy="raise")


class StateTransition(Base):
    __tablename__ = "state_transitions"
    # reports: a conversation's first handoff, assignment and close
    __table_args__ = (
        Index("ix_state_transitions_conv_to_created", "conversation_id", "to_state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    actor: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QueueEntryRecord(Base):
    """The routing decision of a conversation's latest handoff, committed with its ``queued`` state.

    The Redis queue entry is made from this row after the commit, and rebuilt from it by the
    reconciler (``conversations.reconcile``); ``score`` is the queue's order (``handoff.codec.score``),
    so the position told to the customer is a committed count. A transfer to another group moves
    the row with it; the row stays after assignment (its group is the assignment's group).
    """

    __tablename__ = "queue_entries"
    __table_args__ = (Index("ix_queue_entries_group_score", "skill_group", "score"),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    group: Mapped[str] = mapped_column("skill_group", String(64))
    score: Mapped[int] = mapped_column(BigInteger)
    enqueued_at: Mapped[float] = mapped_column(Double)  # epoch seconds, kept across transfers
    tier: Mapped[str] = mapped_column(String(16), default="normal")
    customer_id: Mapped[str] = mapped_column(String(32), default="")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    channel: Mapped[str] = mapped_column(String(16), default="web")
    topic: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(String(64), default="")
    preferred_agent_id: Mapped[str] = mapped_column(String(32), default="")
    avoid_agent_id: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CsatRating(Base):
    """One rating per conversation: a later rating replaces the earlier (``conversations.desk.csat``)."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True, unique=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SuggestionUse(Base):
    """Which suggestion an agent sent (as is or edited): learning material for the knowledge base."""

    __tablename__ = "suggestion_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    agent_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # faq | reply
    key: Mapped[str] = mapped_column(String(128))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdentityMerge(Base):
    """Audit of merging one customer into another (channel identities moved over)."""

    __tablename__ = "identity_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kept_customer_id: Mapped[str] = mapped_column(String(32), index=True)
    merged_customer_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Order(Base):
    """The shop's orders (the demo loads a few) that the order-status form answers from.

    The owner is a channel identity (``owner_channel``, ``owner_id``): a web visitor, an app or
    WeCom user, or a ``phone``/``member`` identity; whichever customer holds that identity in
    ``channel_identities`` (after links) may read the order. An order without one is nobody's.
    """

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_owner", "owner_channel", "owner_id"),)

    order_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(64), default="")
    owner_channel: Mapped[str] = mapped_column(String(16), default="")
    owner_id: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(64), default="")
    tracking_no: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    eta: Mapped[str] = mapped_column(String(32), default="")


class ChannelCursor(Base):
    """Where a channel's message sync resumes for one account (WeCom kf: the sync_msg cursor of
    an open_kfid), so a Redis flush does not restart it from the vendor's oldest message."""

    __tablename__ = "channel_cursors"
    __table_args__ = (UniqueConstraint("channel", "account", name="uq_channel_cursors_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
