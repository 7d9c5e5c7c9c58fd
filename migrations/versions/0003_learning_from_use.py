"""learning from use: unanswered question decisions and learned similar questions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_key", sa.String(length=128), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_key", "text", name="uq_learned_entry_text"),
    )
    op.create_index("ix_learned_questions_entry_key", "learned_questions", ["entry_key"], unique=False)
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), server_default="open", nullable=False))
        batch.add_column(sa.Column("entry_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_unanswered_questions_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_index("ix_unanswered_questions_status")
        batch.drop_column("resolved_at")
        batch.drop_column("resolved_by")
        batch.drop_column("entry_key")
        batch.drop_column("status")
    op.drop_index("ix_learned_questions_entry_key", table_name="learned_questions")
    op.drop_table("learned_questions")
