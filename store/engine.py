"""Engine and session factory. URLs: ``sqlite:///path`` or ``postgresql://...`` (async drivers added)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_url(url: str) -> str:
    """Map a plain database URL onto its asyncio driver."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def sync_url(url: str) -> str:
    """Map a URL onto a synchronous driver (Alembic runs synchronously)."""
    if url.startswith("sqlite+aiosqlite:///"):
        return "sqlite:///" + url.removeprefix("sqlite+aiosqlite:///")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


SYNCHRONOUS = ("FULL", "NORMAL")


def _sqlite_pragmas(synchronous: str) -> Callable[[object, object], None]:
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")

    def on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def create_engine(url: str, *, sqlite_synchronous: str = "FULL") -> AsyncEngine:
    """``sqlite_synchronous``: FULL fsyncs every commit; NORMAL (WAL) keeps every commit through a
    crash of the process and fsyncs at checkpoints, so an OS crash or power cut may roll back the
    last commits (docs/architecture.md, "Processes")."""
    driver_url = async_url(url)
    # A ping costs a round trip per checkout; a SQLite file has no server to drop the connection.
    engine = create_async_engine(driver_url, pool_pre_ping=not driver_url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(sqlite_synchronous))
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


__all__ = ["SYNCHRONOUS", "Engine", "async_url", "create_engine", "session_factory", "sync_url"]
