"""one CSAT rating per conversation (the latest kept)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Ratings stuffed in before the constraint: keep each conversation's latest.
    op.execute(
        "DELETE FROM csat_ratings WHERE id NOT IN "
        "(SELECT MAX(id) FROM csat_ratings GROUP BY conversation_id)"
    )
    with op.batch_alter_table("csat_ratings") as batch:
        batch.drop_index("ix_csat_ratings_conversation_id")
        batch.create_index("ix_csat_ratings_conversation_id", ["conversation_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("csat_ratings") as batch:
        batch.drop_index("ix_csat_ratings_conversation_id")
        batch.create_index("ix_csat_ratings_conversation_id", ["conversation_id"], unique=False)
