"""Fixtures for service tests: the real app factory on real Redis and a migrated SQLite database,
with a scripted double of the BotClient protocol (tests/integration uses the real Rasa)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from core.errors import Unavailable
from core.types import BotReply
from service.app import create_app
from service.deps import Deps
from service.metrics import TimedBot
from tests.service import staff_app


class ScriptedBot:
    """Answers by looking the text up in a script; counts calls per (sender, text)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.down = False
        self.silent = False  # as Rasa answers when its action server is down: nothing at all
        self.forms: set[str] = set()  # senders with a form running

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        self.calls.append((sender, text, metadata))
        if self.down:
            raise Unavailable("down", code="bot_unavailable")
        if self.silent:
            return []
        if "诗" in text:
            return [
                BotReply(
                    text="我帮您转人工。",
                    custom={
                        "kefu": {
                            "handoff": {
                                "reason": "low_confidence",
                                "candidates": [{"key": "k", "question": "q", "answer": "a", "score": 0.2}],
                            }
                        }
                    },
                )
            ]
        return [BotReply(text=f"echo:{text}")]

    async def in_form(self, sender: str) -> bool:
        return sender in self.forms

    async def healthy(self) -> bool:
        return not self.down


# Wednesday 2026-11-18 10:00 in Shanghai: inside the default hours, not a holiday.
OPEN_HOUR = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


@pytest.fixture
def bot() -> ScriptedBot:
    return ScriptedBot()


def make_deps(tmp_path: Path, redis_url: str, bot: ScriptedBot) -> Deps:
    built = staff_app.make_deps(tmp_path, redis_url)
    built.bot = bot  # type: ignore[assignment]
    built.switchboard._bot = TimedBot(bot, built.metrics)
    # Handoffs in business hours, whatever the real time; the queue reads the same clock, so its
    # waiting times (overflow rules) are real seconds, not the distance to the real date.
    started = time.time()
    built.desk.routing.clock = lambda: OPEN_HOUR + (time.time() - started)
    built.desk.queue._clock = built.desk.routing.clock
    return built


@pytest.fixture
def deps(tmp_path: Path, redis_url: str, redis_client: Any, bot: ScriptedBot) -> Iterator[Deps]:
    # redis_client flushes the database around each test: no agents or queues leak between tests.
    yield make_deps(tmp_path, redis_url, bot)


@pytest.fixture
async def private_deps(tmp_path: Path, redis_url: str, bot: ScriptedBot) -> AsyncIterator[Deps]:
    """Deps on a Redis database of their own (db 7, flushed): for tests of background consumers
    (e.g. delivery streams) that no other test's leftover task may touch."""
    private_url = redis_url.rsplit("/", 1)[0] + "/7"
    flusher = aioredis.Redis.from_url(private_url)
    await flusher.flushdb()
    await flusher.aclose()
    built = make_deps(tmp_path, private_url, bot)
    yield built
    await built.close()


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[SanicASGITestClient]:
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_test_{id(deps)}")
    yield app.asgi_client
    await deps.close()
