"""tickets keep the customer's tier they were opened with (the tickets domain reads no customer rows)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("tier", sa.String(length=16), server_default="normal", nullable=False))
    op.execute(
        "UPDATE tickets SET tier = COALESCE("
        "(SELECT customers.tier FROM customers WHERE customers.id = tickets.customer_id), 'normal')"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("tier")
