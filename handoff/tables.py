"""Tables the handoff domain owns: staff accounts (agents, supervisors, editors, admins), canned
replies, and the floor settings supervisors keep (skill groups, routing rules; handoff.floor_settings).

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Double, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, utcnow


class User(Base):
    """Staff: agents, supervisors, knowledge editors and admins."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # what customers see when this person joins ("客服 小王"); the username when empty
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_concurrent: Mapped[int] = mapped_column(Integer, default=5)
    # A disabled account cannot log in and its sessions end (kefu agents disable).
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CannedReply(Base):
    """A text agents insert with ``/shortcut``: shared (``owner_id`` NULL, kept by supervisors)
    or one agent's own; an agent's own shortcut hides a shared one of the same name."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("owner_id", "shortcut", name="uq_canned_owner_shortcut"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    text: Mapped[str] = mapped_column(Text)


class HandoffGroup(Base):
    """A skill group: its names on the dashboard, how its queue is assigned and when it overflows.

    ``steps`` lists the assignment steps that apply (``handoff.model.Step``); an overflow limit
    left NULL is no limit. A disabled group receives no new handoffs (rules naming it are skipped).
    """

    __tablename__ = "handoff_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_zh: Mapped[str] = mapped_column(String(64), default="")
    display_en: Mapped[str] = mapped_column(String(64), default="")
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overflow_max_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    overflow_max_wait: Mapped[float | None] = mapped_column(Double, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoutingRuleRow(Base):
    """One routing rule (``handoff.routing.Rule``); tried in ``position`` order, an empty field
    matches anything."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer)
    group: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="")
    entry_point: Mapped[str] = mapped_column(String(64), default="")
    lang: Mapped[str] = mapped_column(String(8), default="")
    tier: Mapped[str] = mapped_column(String(8), default="")
    topic: Mapped[str] = mapped_column(String(64), default="")
