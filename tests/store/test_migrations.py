"""Alembic migrations run on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

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
