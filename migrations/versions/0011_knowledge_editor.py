"""knowledge editor: entry change history and the log of bot answers (usage, ratings, review)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_entry_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_key", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faq_entry_changes_entry_key", "faq_entry_changes", ["entry_key"], unique=False)
    op.create_table(
        "knowledge_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("entry_key", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("margin", sa.Double(), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("handed_off", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("review", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        "ix_knowledge_answers_conversation_id", "knowledge_answers", ["conversation_id"], unique=False
    )
    op.create_index("ix_knowledge_answers_entry_key", "knowledge_answers", ["entry_key"], unique=False)
    op.create_index("ix_knowledge_answers_created_at", "knowledge_answers", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_knowledge_answers_created_at", table_name="knowledge_answers")
    op.drop_index("ix_knowledge_answers_entry_key", table_name="knowledge_answers")
    op.drop_index("ix_knowledge_answers_conversation_id", table_name="knowledge_answers")
    op.drop_table("knowledge_answers")
    op.drop_index("ix_faq_entry_changes_entry_key", table_name="faq_entry_changes")
    op.drop_table("faq_entry_changes")
