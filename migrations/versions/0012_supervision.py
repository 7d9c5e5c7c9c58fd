"""supervision: alert rules and alerts, quality word lists, hits, scores, rubric and cases, the
audit log, report indexes

Default alert rules are seeded (an admin changes them on the dashboard): SLA alerts, word-list
findings, a queue longer than 10, a wait over 5 minutes, no agent reply 2 minutes after an
assignment.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-05 23:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RULES = (
    ("sla", 0.0),
    ("forbidden_word", 0.0),
    ("sensitive_word", 0.0),
    ("missing_greeting", 0.0),
    ("missing_closing", 0.0),
    ("queue_length", 10.0),
    ("queue_wait", 300.0),
    ("first_response", 120.0),
)


def upgrade() -> None:
    rules = op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("skill_group", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(length=512), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=160), nullable=False),
        sa.Column("active_key", sa.String(length=160), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("skill_group", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    op.create_index(op.f("ix_alerts_conversation_id"), "alerts", ["conversation_id"], unique=False)
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"], unique=False)
    op.create_table(
        "quality_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("word", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_quality_hits_conversation_id"), "quality_hits", ["conversation_id"], unique=False
    )
    op.create_table(
        "quality_words",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("word", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "lang", "word"),
    )
    op.create_index(
        "ix_conversations_created_at",
        "conversations",
        ["created_at", "id", "customer_id", "channel", "lang"],
        unique=False,
    )
    op.create_index(
        "ix_messages_conversation_sender_created",
        "messages",
        ["conversation_id", "sender", "created_at"],
        unique=False,
    )
    op.create_index("ix_messages_sender_created", "messages", ["sender", "created_at"], unique=False)
    op.create_index(
        "ix_state_transitions_conv_to_created",
        "state_transitions",
        ["conversation_id", "to_state", "created_at"],
        unique=False,
    )
    op.create_table(
        "quality_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_quality_cases_conversation_id"), "quality_cases", ["conversation_id"], unique=False
    )
    op.create_table(
        "quality_rubric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_scores",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("skill_group", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("override_score", sa.Double(), nullable=True),
        sa.Column("override_comment", sa.Text(), nullable=False),
        sa.Column("override_by", sa.String(length=64), nullable=False),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index(op.f("ix_quality_scores_agent_id"), "quality_scores", ["agent_id"], unique=False)
    op.create_index(op.f("ix_quality_scores_closed_at"), "quality_scores", ["closed_at"], unique=False)
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "kind": kind,
                "threshold": threshold,
                "skill_group": "",
                "enabled": True,
                "webhook_url": "",
                "updated_at": now,
            }
            for kind, threshold in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quality_scores_closed_at"), table_name="quality_scores")
    op.drop_index(op.f("ix_quality_scores_agent_id"), table_name="quality_scores")
    op.drop_table("quality_scores")
    op.drop_table("quality_rubric")
    op.drop_index(op.f("ix_quality_cases_conversation_id"), table_name="quality_cases")
    op.drop_table("quality_cases")
    op.drop_index("ix_state_transitions_conv_to_created", table_name="state_transitions")
    op.drop_index("ix_messages_sender_created", table_name="messages")
    op.drop_index("ix_messages_conversation_sender_created", table_name="messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_table("quality_words")
    op.drop_index(op.f("ix_quality_hits_conversation_id"), table_name="quality_hits")
    op.drop_table("quality_hits")
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_alerts_created_at", table_name="alerts")
    op.drop_index(op.f("ix_alerts_conversation_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
