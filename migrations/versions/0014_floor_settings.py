"""floor settings: skill groups (names, assignment steps, overflow limits) and routing rules

Seeded with what the code's constants said before, so an upgrade changes no behaviour: groups
``general`` and ``vip`` with every assignment step and overflow at 200 waiting or 30 minutes;
rules "tier S to vip", then "everyone to general".

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_STEPS = ["sticky", "skill", "least_load"]
DEFAULT_GROUPS = (("general", "综合", "General"), ("vip", "VIP", "VIP"))
DEFAULT_RULES = (("vip", "S"), ("general", ""))


def upgrade() -> None:
    groups = op.create_table(
        "handoff_groups",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_zh", sa.String(length=64), nullable=False),
        sa.Column("display_en", sa.String(length=64), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("overflow_max_length", sa.Integer(), nullable=True),
        sa.Column("overflow_max_wait", sa.Double(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    rules = op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("entry_point", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        groups,
        [
            {
                "name": name,
                "display_zh": zh,
                "display_en": en,
                "steps": ALL_STEPS,
                "overflow_max_length": 200,
                "overflow_max_wait": 1800.0,
                "enabled": True,
                "updated_at": now,
            }
            for name, zh, en in DEFAULT_GROUPS
        ],
    )
    op.bulk_insert(
        rules,
        [
            {
                "position": position,
                "group": group,
                "channel": "",
                "entry_point": "",
                "lang": "",
                "tier": tier,
                "topic": "",
            }
            for position, (group, tier) in enumerate(DEFAULT_RULES)
        ],
    )


def downgrade() -> None:
    op.drop_table("routing_rules")
    op.drop_table("handoff_groups")
