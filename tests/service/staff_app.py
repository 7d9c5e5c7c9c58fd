"""The service app as tests/service/test_service_api.py builds it, plus the ticket and hours
blueprints (added by calling their factories), staff accounts and a clock the test sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from core.settings import Settings
from core.types import Channel, OutboundMessage
from handoff.passwords import hash_password
from handoff.tables import User
from service.app import create_app
from service.deps import Deps, build_deps
from store.migrate import upgrade
from tests.tickets.schedules import sh

ROLES = ("agent", "supervisor", "editor", "admin")
PASSWORD = "password123"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: sh(2025, 10, 13, 10))

    def __call__(self) -> datetime:
        return self.now


class RecordingSender:
    """A channel sender that keeps what it was asked to deliver (the vendor side is not under test)."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> None:
        self.sent.append(message)


def make_deps(tmp_path: Path, redis_url: str) -> Deps:
    db_url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade(db_url)
    settings = Settings.from_env(
        {
            "KEFU_SECRET_KEY": "test",
            "REDIS_URL": redis_url,
            "DATABASE_URL": db_url,
            "KEFU_VAR_DIR": str(tmp_path),
        }
    )
    deps = build_deps(settings)
    # The ASGI test client runs the start-up listeners around every request; the start-up
    # reconcile is tested on its own (tests/service/test_handoff_reconcile.py).
    deps.reconcile_at_start = False
    deps.reconcile_settle = 0.0
    return deps


def make_app(deps: Deps, clock: Clock, sender: RecordingSender) -> Sanic[Any, Any]:
    Sanic.test_mode = True
    deps.outbound.register(Channel.WECOM_KF, sender)
    return create_app(deps, name=f"kefu_tickets_{id(deps)}", clock=clock)


@cache
def password_hash() -> str:
    """Hashed once per test process: scrypt is slow on purpose."""
    return hash_password(PASSWORD)


async def staff_tokens(
    deps: Deps, client: SanicASGITestClient, roles: tuple[str, ...] = ROLES
) -> dict[str, tuple[int, dict[str, str]]]:
    """One account per role, logged in through the API: role -> (user id, Authorization header)."""
    ids = {}
    async with deps.sessions.begin() as session:
        for role in roles:
            user = User(username=f"{role}1", password_hash=password_hash(), role=role, skills=[])
            session.add(user)
            await session.flush()
            ids[role] = user.id
    tokens = {}
    for role in roles:
        _, resp = await client.post("/api/auth/login", json={"username": f"{role}1", "password": PASSWORD})
        assert resp.status == 200, resp.text
        tokens[role] = (ids[role], {"authorization": f"Bearer {resp.json['token']}"})
    return tokens
