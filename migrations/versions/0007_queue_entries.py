"""queue entries: the routing decision of a handoff, committed before Redis is told

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_entries",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("skill_group", sa.String(length=64), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("enqueued_at", sa.Double(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("preferred_agent_id", sa.String(length=32), nullable=False),
        sa.Column("avoid_agent_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index("ix_queue_entries_group_score", "queue_entries", ["skill_group", "score"])


def downgrade() -> None:
    op.drop_index("ix_queue_entries_group_score", table_name="queue_entries")
    op.drop_table("queue_entries")
