"""an alert rule for upset customers (negative_sentiment), on by default at 2 messages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = sa.table(
    "alert_rules",
    sa.column("kind", sa.String),
    sa.column("threshold", sa.Float),
    sa.column("skill_group", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("webhook_url", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.bulk_insert(
        RULES,
        [
            {
                "kind": "negative_sentiment",
                "threshold": 2.0,
                "skill_group": "",
                "enabled": True,
                "webhook_url": "",
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.execute(RULES.delete().where(RULES.c.kind == "negative_sentiment"))
