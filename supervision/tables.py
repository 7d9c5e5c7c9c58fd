"""Tables the supervision domain owns: alert rules, alert events, quality word lists and hits.

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Double, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, utcnow


class AlertRule(Base):
    """One rule an admin configured: a kind, a threshold, the group it watches ("" = every group)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Double, default=0.0)
    group: Mapped[str] = mapped_column("skill_group", String(64), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    webhook_url: Mapped[str] = mapped_column(String(512), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Alert(Base):
    """An alert event. ``active_key`` holds the rule's condition key while the condition holds
    (unique, so two replicas never raise the same alert twice) and is cleared when it ends."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dedup_key: Mapped[str] = mapped_column(String(160))
    active_key: Mapped[str | None] = mapped_column(String(160), nullable=True, unique=True)
    conversation_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group: Mapped[str] = mapped_column("skill_group", String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QualityWord(Base):
    """A word of a quality list: forbidden, sensitive, greeting or closing, in zh or en."""

    __tablename__ = "quality_words"
    __table_args__ = (UniqueConstraint("kind", "lang", "word"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    word: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityHit(Base):
    """A word-list finding on one agent reply (or a missing greeting / closing), kept on the
    conversation for the quality review."""

    __tablename__ = "quality_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # forbidden|sensitive|missing_greeting|missing_closing
    word: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """One admin or supervisor action on the settings: who, what, on which object, with what."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityScore(Base):
    """The rubric score of a closed conversation, with a supervisor's override kept beside it."""

    __tablename__ = "quality_scores"

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    group: Mapped[str] = mapped_column("skill_group", String(64), default="")
    score: Mapped[float] = mapped_column(Double)
    parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # part -> 0..100, signals
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    override_score: Mapped[float | None] = mapped_column(Double, nullable=True)
    override_comment: Mapped[str] = mapped_column(Text, default="")
    override_by: Mapped[str] = mapped_column(String(64), default="")
    overridden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QualityRubric(Base):
    """The rubric's weights and targets (one row, id 1), editable by supervisors."""

    __tablename__ = "quality_rubric"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityCase(Base):
    """A conversation a supervisor marked as a good or bad example, for agents' training."""

    __tablename__ = "quality_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    verdict: Mapped[str] = mapped_column(String(8))  # good | bad
    tag: Mapped[str] = mapped_column(String(64), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
