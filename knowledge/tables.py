"""Tables the knowledge domain owns: FAQ entries, published versions, declined questions, learned wordings.

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, utcnow


class FaqEntryRow(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    lang: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    similar: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeVersion(Base):
    __tablename__ = "knowledge_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_count: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(512))
    published_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeArtifact(Base):
    """A published version's folder as a gzipped tar: what a host without it downloads
    (``knowledge.mirror``). Kept apart from ``knowledge_versions`` so listing versions reads no blob."""

    __tablename__ = "knowledge_artifacts"

    version: Mapped[int] = mapped_column(
        ForeignKey("knowledge_versions.version"), primary_key=True, autoincrement=False
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeActive(Base):
    """The one row (id 1) naming the version every process serves; a publish and a rollback set it."""

    __tablename__ = "knowledge_active"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int | None] = mapped_column(ForeignKey("knowledge_versions.version"), nullable=True)
    activated_by: Mapped[str] = mapped_column(String(64), default="")
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UnansweredQuestion(Base):
    """A question the bot declined: what editors review and turn into FAQ entries."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    top_score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # open | added (to ``entry_key`` as a similar question) | dismissed
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open", index=True)
    entry_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LearnedQuestion(Base):
    """A customer's wording learned from use; the next publish adds it to the entry's similar questions.

    Sources: an editor's decision on an unanswered question, or an FAQ suggestion an agent sent
    unedited (the customer's question is then taken to mean that entry). Editors can reject one.
    """

    __tablename__ = "learned_questions"
    __table_args__ = (UniqueConstraint("entry_key", "text", name="uq_learned_entry_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(128), index=True)
    text: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # unanswered | suggestion
    source_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | rejected
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FaqEntryChange(Base):
    """One editor change to an FAQ entry: who, when, and the entry before and after (None when absent)."""

    __tablename__ = "faq_entry_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete | import
    actor: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeAnswer(Base):
    """One bot answer from the FAQ index: usage statistics, the customer's rating, low margins, and
    whether the customer asked for a person right after it."""

    __tablename__ = "knowledge_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    message_id: Mapped[int] = mapped_column(Integer, unique=True)  # the bot's answer message
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    entry_key: Mapped[str] = mapped_column(String(128), index=True)
    score: Mapped[float] = mapped_column(default=0.0)
    margin: Mapped[float | None] = mapped_column(nullable=True)  # best score minus the runner-up's
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # open | added | dismissed: an editor's review of an unhelpful, low-margin or handed-off answer
    review: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
