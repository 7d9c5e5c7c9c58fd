"""app users are scoped by their app: channel_user_id "<app_id>:<user_id>" on the app channel

Conversations know their app (entry_point) and are renamed; an app identity is renamed when
its conversations name exactly one app. An identity two apps already shared stays as it was
(no new message reaches it); each app's user becomes a customer of its own from now on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPS_OF_IDENTITY = (
    "FROM conversations c WHERE c.channel = 'app' AND c.entry_point <> '' "
    "AND c.channel_user_id = channel_identities.channel_user_id"
)


def upgrade() -> None:
    # 64 characters of app id, ":" and 64 of user id
    for table in ("conversations", "channel_identities"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "channel_user_id", existing_type=sa.String(length=128), type_=sa.String(length=160)
            )
    op.execute(
        "UPDATE channel_identities SET channel_user_id = "
        f"(SELECT MIN(c.entry_point) {_APPS_OF_IDENTITY}) || ':' || channel_user_id "
        "WHERE channel = 'app' AND channel_user_id NOT LIKE '%:%' "
        f"AND (SELECT COUNT(DISTINCT c.entry_point) {_APPS_OF_IDENTITY}) = 1"
    )
    op.execute(
        "UPDATE conversations SET channel_user_id = entry_point || ':' || channel_user_id "
        "WHERE channel = 'app' AND entry_point <> '' AND channel_user_id NOT LIKE '%:%'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE conversations SET channel_user_id = SUBSTR(channel_user_id, LENGTH(entry_point) + 2) "
        "WHERE channel = 'app' AND entry_point <> '' AND channel_user_id LIKE entry_point || ':%'"
    )
    colon = (
        "INSTR(channel_user_id, ':')"
        if op.get_bind().dialect.name == "sqlite"
        else "STRPOS(channel_user_id, ':')"
    )
    op.execute(
        f"UPDATE channel_identities SET channel_user_id = SUBSTR(channel_user_id, {colon} + 1) "
        "WHERE channel = 'app' AND channel_user_id LIKE '%:%'"
    )
    for table in ("conversations", "channel_identities"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "channel_user_id", existing_type=sa.String(length=160), type_=sa.String(length=128)
            )
