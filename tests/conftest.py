"""Shared fixtures: real Redis (private server per test session), a fresh SQLite database."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.engine import create_engine, session_factory
from store.migrate import upgrade
from tests.support.processes import create_database, postgres_server, redis_server

pytest_plugins = ["tests.fakes.wecom_fixtures"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real redis-server started for this test session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on a flushed database; flushed again afterwards."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh SQLite database migrated with Alembic (the real schema path)."""
    async for made in migrated_sessions(f"sqlite:///{tmp_path / 'kefu.db'}"):
        yield made


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def each_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a freshly migrated database of each kind (PostgreSQL: a new database per test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kefu.db'}"
    else:
        server: str = request.getfixturevalue("postgres_url")
        url = create_database(server, f"t_{uuid.uuid4().hex[:12]}")
    async for made in migrated_sessions(url):
        yield made


async def migrated_sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real PostgreSQL server started for this test session."""
    # Not under pytest's tmp dir: that is private to root, and postgres runs as its own user.
    workdir = Path(tempfile.mkdtemp(prefix="kefu-pg-"))
    try:
        with postgres_server(workdir) as url:
            yield url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
