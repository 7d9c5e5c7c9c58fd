"""Staff sessions can be revoked (finding 8): the user is re-read on every request through a
short cache, `kefu agents disable|enable|set-role|reset-password|logout`, logout everywhere, and
the agent WebSocket opens with a one-time ticket instead of the session token in its URL."""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from handoff.auth import WS_TICKET_TTL, Sessions
from handoff.staff import set_role
from handoff.tables import User
from service.app import create_app
from service.cli import build_parser
from service.commands import agents
from service.deps import Deps
from tests.service.live_server import serve
from tests.service.staff_app import PASSWORD, password_hash


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[SanicASGITestClient]:
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_sessions_{id(deps)}")
    async with deps.sessions.begin() as session:
        for name, role in (("alice", "agent"), ("boss", "admin")):
            session.add(User(username=name, password_hash=password_hash(), role=role, skills=["general"]))
    yield app.asgi_client
    await deps.close()


async def login(client: SanicASGITestClient, username: str, password: str = PASSWORD) -> Any:
    _, resp = await client.post("/api/auth/login", json={"username": username, "password": password})
    return resp


async def bearer(client: SanicASGITestClient, username: str) -> dict[str, str]:
    resp = await login(client, username)
    assert resp.status == 200, resp.text
    return {"authorization": f"Bearer {resp.json['token']}"}


async def status_of(
    client: SanicASGITestClient, headers: dict[str, str], path: str = "/api/agent/conversations"
) -> int:
    _, resp = await client.get(path, headers=headers)
    return int(resp.status)


async def cli(deps: Deps, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args: argparse.Namespace = build_parser().parse_args(list(argv))
    return await agents.run(args, deps.settings)


async def test_disable_ends_every_session_at_once_and_enable_lets_the_user_back(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await bearer(client, "alice"), await bearer(client, "alice")
    assert await status_of(client, first) == 200
    assert await cli(deps, monkeypatch, "agents", "disable", "alice") == 0
    # Right away, cache or not: the sessions are gone from Redis.
    assert await status_of(client, first) == 401
    assert await status_of(client, second) == 401
    resp = await login(client, "alice")
    assert resp.status == 403 and resp.json["error"]["code"] == "account_disabled"
    assert await cli(deps, monkeypatch, "agents", "enable", "alice") == 0
    assert await status_of(client, await bearer(client, "alice")) == 200


async def test_a_new_role_ends_the_sessions_and_applies_at_the_next_login(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await bearer(client, "boss")
    assert await status_of(client, headers, "/api/admin/app/dead-letters") == 200
    assert await cli(deps, monkeypatch, "agents", "set-role", "boss", "--role", "editor") == 0
    assert await status_of(client, headers, "/api/admin/app/dead-letters") == 401  # at once
    again = await bearer(client, "boss")
    assert await status_of(client, again, "/api/admin/app/dead-letters") == 403
    assert await status_of(client, again) == 403  # an editor is no agent


async def test_the_user_cache_lasts_only_its_seconds(deps: Deps) -> None:
    now = [0.0]
    sessions = Sessions(deps.redis, deps.sessions, user_cache_seconds=10, clock=lambda: now[0])
    async with deps.sessions.begin() as session:
        session.add(User(username="carol", password_hash=password_hash(), role="admin", skills=[]))
    token, _ = await sessions.login("carol", PASSWORD)
    async with deps.sessions.begin() as session:
        await set_role(session, "carol", "agent")
    assert (await sessions.resolve(token)).role == "admin"  # within the cache's 10 s
    now[0] = 10.5
    assert (await sessions.resolve(token)).role == "agent"
    await deps.close()


async def test_reset_password_ends_sessions_and_the_old_password(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await bearer(client, "alice")
    assert (
        await cli(
            deps,
            monkeypatch,
            "agents",
            "reset-password",
            "alice",
            "--password-stdin",
            stdin="new-secret-99\n",
        )
        == 0
    )
    assert await status_of(client, headers) == 401
    assert (await login(client, "alice")).status == 401
    assert (await login(client, "alice", "new-secret-99")).status == 200


async def test_logout_everywhere_ends_the_users_sessions_only(
    client: SanicASGITestClient, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop, phone, other = (
        await bearer(client, "alice"),
        await bearer(client, "alice"),
        await bearer(client, "boss"),
    )
    _, resp = await client.post("/api/auth/logout-everywhere", headers=phone)
    assert resp.status == 200 and resp.json["sessions_ended"] == 2
    assert await status_of(client, laptop) == 401 and await status_of(client, phone) == 401
    assert await status_of(client, other) == 200
    # The CLI does the same for an admin.
    assert await cli(deps, monkeypatch, "agents", "logout", "boss") == 0
    assert await status_of(client, other) == 401


async def test_a_ws_ticket_is_short_lived_single_use_and_stored_hashed(
    client: SanicASGITestClient, deps: Deps
) -> None:
    headers = await bearer(client, "alice")
    _, resp = await client.post("/api/auth/ws-ticket", headers=headers)
    assert resp.status == 200 and resp.json["expires_in"] == WS_TICKET_TTL <= 30
    ticket = resp.json["ticket"]
    stored = [key async for key in deps.redis.scan_iter("kefu:ws-ticket:*")]
    assert len(stored) == 1 and ticket not in stored[0]
    assert 0 < await deps.redis.ttl(stored[0]) <= 30
    grant = await deps.staff_sessions.redeem_ws_ticket(ticket)
    assert grant.staff.username == "alice"
    with pytest.raises(Exception, match="ticket"):
        await deps.staff_sessions.redeem_ws_ticket(ticket)
    _, resp = await client.post("/api/auth/ws-ticket")
    assert resp.status == 401


async def _closes_without_a_frame(url: str) -> bool:
    try:
        async with websockets.connect(url, open_timeout=5) as ws:
            await asyncio.wait_for(ws.recv(), timeout=5)
    except (websockets.ConnectionClosed, websockets.InvalidStatus):
        return True
    return False


async def test_the_agent_socket_takes_a_ticket_once_and_never_the_session_token(deps: Deps) -> None:
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_ws_{id(deps)}")
    async with deps.sessions.begin() as session:
        session.add(User(username="alice", password_hash=password_hash(), role="agent", skills=["general"]))
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        token = (await http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})).json()[
            "token"
        ]
        headers = {"authorization": f"Bearer {token}"}
        ws_base = base.replace("http://", "ws://") + "/api/agent/ws"
        assert await _closes_without_a_frame(f"{ws_base}?token={token}")  # the old way is gone
        ticket = (await http.post("/api/auth/ws-ticket", headers=headers)).json()["ticket"]
        async with websockets.connect(f"{ws_base}?ticket={ticket}", open_timeout=5) as ws:
            await http.put("/api/agent/status", json={"status": "online"}, headers=headers)
            # Logout everywhere: the open socket ends at its next check (every 10 s at most).
            await http.post("/api/auth/logout-everywhere", headers=headers)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=15)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert await _closes_without_a_frame(f"{ws_base}?ticket={ticket}")  # used once already
    await deps.close()
