"""the bot's conversation segment: which Rasa sender a conversation talks to now, and its turns

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("bot_segment", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("bot_turns", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("bot_turns")
        batch.drop_column("bot_segment")
