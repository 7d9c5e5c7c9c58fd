"""SQLite write transactions of one process take turns in the event loop (store.engine.WriteGate)
instead of polling in SQLite's busy handler; a transaction begun inside another passes, and a
writer stuck behind the gate goes ahead after its patience."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.engine import WriteGate, create_engine, session_factory

Sessions = async_sessionmaker[AsyncSession]


async def test_concurrent_writers_take_turns_and_all_commit(sessions: Sessions) -> None:
    engine = sessions.kw["bind"].sync_engine
    seen: list[str] = []
    event.listen(engine, "begin", lambda conn: seen.append("begin"))
    event.listen(engine, "commit", lambda conn: seen.append("commit"))
    async with sessions.begin() as session:
        await session.execute(text("CREATE TABLE tally (n INTEGER)"))
    seen.clear()

    async def write(n: int) -> None:
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO tally VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.005)  # other writers arrive meanwhile

    await asyncio.gather(*(write(n) for n in range(20)))
    assert seen == ["begin", "commit"] * 20  # one transaction at a time, none failed
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM tally")) == 20


async def test_a_transaction_begun_inside_another_passes(sessions: Sessions) -> None:
    async with sessions.begin() as outer:
        await outer.execute(text("SELECT 1"))
        async with asyncio.timeout(5), sessions.begin() as inner:
            await inner.execute(text("SELECT 1"))


async def test_a_writer_stuck_behind_the_gate_goes_ahead_after_its_patience(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate, stuck, order = WriteGate(patience=0.05), asyncio.Event(), []

    async def holder() -> None:
        async with gate.held():
            order.append("holder in")
            await stuck.wait()  # waits on something that never comes while holding the gate

    task = asyncio.create_task(holder())
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="store.engine"):
        async with asyncio.timeout(5), gate.held():
            order.append("waiter in")
    assert order == ["holder in", "waiter in"]
    assert "waited" in caplog.text
    stuck.set()
    await task
    async with asyncio.timeout(5), gate.held():  # the gate still works afterwards
        pass


async def test_only_sqlite_gets_the_gate() -> None:
    engine = create_engine("postgresql://kefu@127.0.0.1:1/kefu")  # not connected: nothing to reach
    try:
        assert type(session_factory(engine)) is async_sessionmaker  # PostgreSQL has row locks
    finally:
        await engine.dispose()
