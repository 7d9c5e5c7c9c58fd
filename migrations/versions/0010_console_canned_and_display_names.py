"""agent console: staff display names; canned replies per agent (owner_id) besides shared ones

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite reflects the unnamed unique constraint of 0002; this names it so it can be dropped.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique() -> str:
    return "uq_canned_replies_shortcut" if op.get_bind().dialect.name == "sqlite" else "canned_replies_shortcut_key"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("canned_replies", naming_convention=_NAMING) as batch:
        batch.drop_constraint(_old_unique(), type_="unique")
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_canned_owner_shortcut", ["owner_id", "shortcut"])
        batch.create_index("ix_canned_replies_owner_id", ["owner_id"])


def downgrade() -> None:
    op.execute("DELETE FROM canned_replies WHERE owner_id IS NOT NULL")
    with op.batch_alter_table("canned_replies", naming_convention=_NAMING) as batch:
        batch.drop_index("ix_canned_replies_owner_id")
        batch.drop_constraint("uq_canned_owner_shortcut", type_="unique")
        batch.drop_column("owner_id")
        batch.create_unique_constraint(_old_unique(), ["shortcut"])
    with op.batch_alter_table("users") as batch:
        batch.drop_column("display_name")
