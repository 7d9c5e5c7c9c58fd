"""Alembic migrations run on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, create_engine, inspect, select, table

from handoff.floor_settings import DEFAULT_SETTINGS, GroupSettings, assemble
from handoff.model import Step
from handoff.overflow import OverflowRule
from handoff.routing import Rule
from service.schema import metadata
from store.engine import sync_url
from store.migrate import downgrade, upgrade


def _assert_schema_matches_models(url: str) -> None:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert {"conversations", "messages", "faq_entries", "users", "orders"} <= tables


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    _assert_schema_matches_models(url)
    downgrade(url, "base")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)  # and back up again: idempotent path used by setup


@pytest.mark.postgres
def test_postgres_upgrade_matches_models(postgres_url: str) -> None:
    upgrade(postgres_url)
    _assert_schema_matches_models(postgres_url)
    upgrade(postgres_url)  # a second run is a no-op


NOW = datetime(2026, 12, 1, tzinfo=UTC)
# conversations as 0008 left them (the model's table has columns added later)
CONVERSATIONS_0008 = table(
    "conversations",
    *(column(name) for name in ("id", "customer_id", "channel", "channel_user_id", "entry_point")),
    *(column(name) for name in ("state", "lang", "created_at", "updated_at")),
)


def test_app_users_are_renamed_into_their_app(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0008")
    customers, identities, conversations = (
        metadata.tables[name] for name in ("customers", "channel_identities", "conversations")
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        for customer, user, apps in (("c1", "u1", ["shop"]), ("c2", "u2", ["shop", "mall"])):
            conn.execute(customers.insert().values(id=customer))
            conn.execute(
                identities.insert().values(customer_id=customer, channel="app", channel_user_id=user)
            )
            for app in apps:
                conn.execute(
                    CONVERSATIONS_0008.insert().values(
                        id=f"{app}-{user}",
                        customer_id=customer,
                        channel="app",
                        channel_user_id=user,
                        entry_point=app,
                        state="bot",
                        lang="zh",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
    upgrade(url)
    with engine.connect() as conn:
        renamed = {
            r[0]: r[1] for r in conn.execute(select(conversations.c.id, conversations.c.channel_user_id))
        }
        owners = {
            r[0]: r[1] for r in conn.execute(select(identities.c.customer_id, identities.c.channel_user_id))
        }
    assert renamed == {"shop-u1": "shop:u1", "shop-u2": "shop:u2", "mall-u2": "mall:u2"}
    assert owners == {"c1": "shop:u1", "c2": "u2"}  # shared by two apps already: left as it was
    downgrade(url, "0008")
    with engine.connect() as conn:
        assert set(conn.scalars(select(conversations.c.channel_user_id))) == {"u1", "u2"}
        assert set(conn.scalars(select(identities.c.channel_user_id))) == {"u1", "u2"}
    engine.dispose()


def test_the_floor_settings_seed_is_what_the_constants_said(tmp_path: Path) -> None:
    """Upgrading changes no routing: the seeded groups and rules equal the old constants."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    groups, rules = (metadata.tables[name] for name in ("handoff_groups", "routing_rules"))
    engine = create_engine(url)
    with engine.connect() as conn:
        seeded = assemble(
            [
                GroupSettings(
                    row.name,
                    row.display_zh,
                    row.display_en,
                    frozenset(Step(s) for s in row.steps),
                    OverflowRule(row.overflow_max_length, row.overflow_max_wait),
                    row.enabled,
                )
                for row in conn.execute(select(groups))
            ],
            [
                Rule(row.group, row.channel, row.entry_point, row.lang, row.tier, row.topic)
                for row in conn.execute(select(rules).order_by(rules.c.position))
            ],
        )
    assert seeded == DEFAULT_SETTINGS
    downgrade(url, "0013")
    with engine.connect() as conn:
        assert not {"handoff_groups", "routing_rules"} & set(inspect(conn).get_table_names())
    engine.dispose()
