"""knowledge versions in the database: each version's artifact and the active version, so a
host without the publisher's knowledge folder can serve it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_artifacts",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["knowledge_versions.version"]),
        sa.PrimaryKeyConstraint("version"),
    )
    active = op.create_table(
        "knowledge_active",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("activated_by", sa.String(length=64), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["knowledge_versions.version"]),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one row, so activating is always an UPDATE; no version until the next publish or rollback.
    op.bulk_insert(active, [{"id": 1, "version": None, "activated_by": "", "activated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("knowledge_active")
    op.drop_table("knowledge_artifacts")
