"""orders belong to a channel identity (owner_channel, owner_id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing orders get no owner, so nobody can read them until the shop assigns one.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("owner_channel", sa.String(length=16), server_default="", nullable=False))
        batch.add_column(sa.Column("owner_id", sa.String(length=128), server_default="", nullable=False))
        batch.create_index("ix_orders_owner", ["owner_channel", "owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_owner")
        batch.drop_column("owner_id")
        batch.drop_column("owner_channel")
