"""Tables the handoff domain owns: staff accounts (agents, supervisors, editors, admins) and canned replies.

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint, true
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
