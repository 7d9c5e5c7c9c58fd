"""Login: failed tries are throttled per account and per address (429 rate_limited with
Retry-After), and scrypt runs off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from handoff.login_throttle import LoginLimits
from handoff.tables import User
from service.app import create_app
from service.deps import Deps
from tests.service.staff_app import PASSWORD, password_hash

LIMITS = LoginLimits()


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[SanicASGITestClient]:
    """The service behind a proxy that names the caller in X-Real-IP, with two staff accounts."""
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_login_{id(deps)}")
    app.config.REAL_IP_HEADER = "x-real-ip"
    async with deps.sessions.begin() as session:
        for name in ("alice", "carol"):
            session.add(User(username=name, password_hash=password_hash(), role="agent", skills=[]))
    yield app.asgi_client
    await deps.close()


async def login(client: SanicASGITestClient, username: str, password: str, ip: str) -> Any:
    _, resp = await client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers={"x-real-ip": ip}
    )
    return resp


def assert_rate_limited(resp: Any) -> None:
    assert resp.status == 429, resp.text
    assert resp.json["error"]["code"] == "rate_limited"
    assert 0 < int(resp.headers["retry-after"]) <= LIMITS.window_seconds


async def test_an_account_is_throttled_after_its_failed_tries(client: SanicASGITestClient) -> None:
    for i in range(LIMITS.per_account):
        resp = await login(client, "alice", "wrong-password", f"10.0.0.{i}")
        assert resp.status == 401 and resp.json["error"]["code"] == "bad_credentials"
    # From yet another address, and even with the right password: the account waits.
    assert_rate_limited(await login(client, "alice", PASSWORD, "10.0.1.1"))
    # Another account is not affected.
    assert (await login(client, "carol", PASSWORD, "10.0.1.1")).status == 200


async def test_an_address_is_throttled_after_its_failed_tries(client: SanicASGITestClient) -> None:
    for i in range(LIMITS.per_ip):
        assert (await login(client, f"guess{i}", "wrong-password", "192.0.2.7")).status == 401
    assert_rate_limited(await login(client, "alice", PASSWORD, "192.0.2.7"))
    # Another account from another address still logs in, and alice herself from elsewhere.
    assert (await login(client, "carol", PASSWORD, "198.51.100.9")).status == 200
    assert (await login(client, "alice", PASSWORD, "198.51.100.10")).status == 200


async def test_a_successful_login_clears_the_accounts_failures(client: SanicASGITestClient) -> None:
    for _ in range(LIMITS.per_account - 1):
        assert (await login(client, "alice", "wrong-password", "10.0.0.1")).status == 401
    assert (await login(client, "alice", PASSWORD, "10.0.0.1")).status == 200
    for _ in range(LIMITS.per_account - 1):
        assert (await login(client, "alice", "wrong-password", "10.0.0.1")).status == 401
    assert (await login(client, "alice", PASSWORD, "10.0.0.1")).status == 200


async def test_parallel_guesses_stop_at_the_limit(client: SanicASGITestClient) -> None:
    tries = LIMITS.per_account * 3
    results = await asyncio.gather(
        *(login(client, "alice", "wrong-password", f"10.0.2.{i}") for i in range(tries))
    )
    statuses = sorted(r.status for r in results)
    assert statuses == [401] * LIMITS.per_account + [429] * (tries - LIMITS.per_account)


async def test_the_password_check_leaves_the_event_loop_free(
    client: SanicASGITestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    released: list[bool] = []

    def blocking_verify(password: str, stored: str) -> bool:
        started.set()
        # On the event loop this would wait out its timeout, since nothing else could run.
        released.append(release.wait(timeout=10))
        return False

    monkeypatch.setattr("handoff.auth.verify_password", blocking_verify)
    attempt = asyncio.create_task(login(client, "alice", "wrong-password", "10.0.3.1"))
    assert await asyncio.to_thread(started.wait, 10)
    release.set()  # this coroutine ran while the check was still under way
    assert (await attempt).status == 401
    assert released == [True]
