"""The app channel wired into the service: signed messages in, staff messages out to a real
webhook over HTTP, and the admin dead-letter routes. Real Redis and SQLite; the bot is scripted
(tests/integration drives the same route against Rasa)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from connectors.app.signing import sign, verify
from conversations import repo
from core.app_clients import AppClient
from core.types import Channel
from service import app_channel
from service.app import create_app
from service.deps import Deps
from tests.service.conftest import ScriptedBot
from tests.service.staff_app import make_deps, staff_tokens
from tests.support.processes import free_port

SECRET = "shop-secret-0123456789abcdef"


@dataclass
class Receiver:
    """An app backend's webhook: records each request; answers ``status`` (200 unless set)."""

    port: int
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def hook(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver(free_port())
    app = web.Application()
    app.router.add_post("/hook", rec.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rec.port).start()
    yield rec
    await runner.cleanup()


@pytest.fixture
async def deps(tmp_path: Path, redis_client: aioredis.Redis, redis_url: str) -> AsyncIterator[Deps]:
    built = make_deps(tmp_path, redis_url)
    bot = ScriptedBot()
    built.bot = bot  # type: ignore[assignment]
    built.switchboard._bot = bot
    yield built
    await built.close()


@pytest.fixture
def clients(receiver: Receiver) -> dict[str, AppClient]:
    return {"shop": AppClient("shop", SECRET, receiver.url)}


def make_app(deps: Deps, clients: dict[str, AppClient]) -> Sanic[Any, Any]:
    Sanic.test_mode = True
    deps.settings = dataclasses.replace(deps.settings, app_clients=clients)
    return create_app(deps, name=f"kefu_app_{id(deps)}_{len(clients)}")


def signed(body: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    return raw, {
        "X-Kefu-App": "shop",
        "X-Kefu-Timestamp": ts,
        "X-Kefu-Signature": sign(secret, ts, raw),
        "Content-Type": "application/json",
    }


def message(text: str, message_id: str, user: str = "u1") -> dict[str, Any]:
    return {"app_id": "shop", "user_id": user, "text": text, "message_id": message_id}


async def test_without_apps_nothing_is_installed(deps: Deps) -> None:
    app = make_app(deps, {})
    raw, headers = signed(message("hi", "m1"))
    _, resp = await app.asgi_client.post("/api/app/messages", content=raw, headers=headers)
    assert resp.status == 404
    assert Channel.APP not in deps.outbound.deliverer._senders


async def test_signed_message_is_answered_once(deps: Deps, clients: dict[str, AppClient]) -> None:
    app = make_app(deps, clients)
    client: SanicASGITestClient = app.asgi_client
    raw, headers = signed(message("退款多久", "m-1"))
    _, first = await client.post("/api/app/messages", content=raw, headers=headers)
    assert first.status == 200, first.text
    assert [r["text"] for r in first.json["replies"]] == ["echo:退款多久"]
    _, again = await client.post("/api/app/messages", content=raw, headers=headers)
    assert again.json["duplicate"] is True and again.json["replies"] == first.json["replies"]
    bot = deps.switchboard._bot
    assert isinstance(bot, ScriptedBot) and len(bot.calls) == 1
    _, forged = await client.post("/api/app/messages", content=raw, headers=signed({}, "x" * 20)[1])
    assert forged.status == 401 and forged.json["error"]["code"] == "bad_signature"
    # the test client starts and stops the server around each request: so did the worker
    task = app.get_task(app_channel.TASK_NAME, raise_exception=False)
    assert task is not None and task.done() and task.exception() is None


async def test_staff_message_reaches_the_app_webhook_signed(
    deps: Deps, clients: dict[str, AppClient], receiver: Receiver
) -> None:
    wiring = app_channel.build(deps, clients)
    deps.outbound.register(Channel.APP, wiring.sender)
    async with deps.sessions.begin() as session:
        conv = await repo.current_conversation(
            session, channel="app", channel_user_id="u7", entry_point="shop", lang="zh"
        )
        stored = deps.outbound.add(session, conv, "agent", "您好，我是客服小王")
    await deps.outbound.deliver(conv, stored)
    async with aiohttp.ClientSession() as http:
        assert await wiring.new_worker().run_once(http) == 1
    [(headers, body)] = receiver.requests
    verify(SECRET, headers["X-Kefu-Timestamp"], headers["X-Kefu-Signature"], body, time.time())
    payload = json.loads(body)
    assert payload["user_id"] == "u7" and payload["conversation_id"] == conv.id
    assert payload["message"]["text"] == "您好，我是客服小王" and payload["message"]["sender"] == "agent"
    assert payload["message"]["id"] == str(stored.id)


async def test_app_of_ignores_other_channels(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        web_conv = await repo.current_conversation(
            session, channel="web", channel_user_id="v1", entry_point="/help", lang="zh"
        )
        app_conv = await repo.current_conversation(
            session, channel="app", channel_user_id="u1", entry_point="shop", lang="zh"
        )
    app_of = app_channel.conversation_app(deps.sessions)
    assert await app_of(app_conv.id) == "shop"
    assert await app_of(web_conv.id) is None
    assert await app_of("missing") is None


async def test_dead_letters_are_listed_and_redriven_by_admins(
    private_deps: Deps, clients: dict[str, AppClient], receiver: Receiver
) -> None:
    deps = private_deps
    app = make_app(deps, {})  # the routes only; this test runs the worker by hand
    client = app.asgi_client
    tokens = {role: headers for role, (_, headers) in (await staff_tokens(deps, client)).items()}
    receiver.status = 400  # final: straight to the dead letters
    wiring = app_channel.build(deps, clients)
    async with deps.sessions.begin() as session:
        conv = await repo.current_conversation(
            session, channel="app", channel_user_id="u8", entry_point="shop", lang="zh"
        )
        stored = deps.outbound.add(session, conv, "system", "工单已创建")
    deps.outbound.register(Channel.APP, wiring.sender)
    await deps.outbound.deliver(conv, stored)
    async with aiohttp.ClientSession() as http:
        await wiring.new_worker().run_once(http)
    _, resp = await client.get("/api/admin/app/dead-letters", headers=tokens["supervisor"])
    assert resp.status == 403
    _, resp = await client.get("/api/admin/app/dead-letters", headers=tokens["admin"])
    assert resp.status == 200, resp.text
    [letter] = resp.json["dead_letters"]
    assert letter["last_status"] == 400 and letter["conversation_id"] == conv.id
    _, resp = await client.post(
        f"/api/admin/app/dead-letters/{letter['job_id']}/redrive", headers=tokens["admin"]
    )
    assert resp.status == 200 and resp.json == {"job_id": letter["job_id"], "redriven": True}
    receiver.status = 200
    async with aiohttp.ClientSession() as http:
        assert await wiring.new_worker().run_once(http) == 1
    assert [h["X-Kefu-Delivery"] for h, _ in receiver.requests] == [letter["job_id"]] * 2
    _, resp = await client.get("/api/admin/app/dead-letters", headers=tokens["admin"])
    assert resp.json["dead_letters"] == []
    _, resp = await client.post(
        f"/api/admin/app/dead-letters/{letter['job_id']}/redrive", headers=tokens["admin"]
    )
    assert resp.status == 404 and resp.json["error"]["code"] == "dead_letter_not_found"
    _, resp = await client.get("/api/admin/app/dead-letters?limit=0", headers=tokens["admin"])
    assert resp.status == 422


async def test_the_same_user_id_in_two_apps_is_two_customers(deps: Deps, receiver: Receiver) -> None:
    mall_secret = "mall-secret-0123456789abcdef"
    clients = {
        "shop": AppClient("shop", SECRET, receiver.url),
        "mall": AppClient("mall", mall_secret, receiver.url),
    }
    app = make_app(deps, clients)
    answers = {}
    for app_id, secret in (("shop", SECRET), ("mall", mall_secret)):
        raw, headers = signed({**message(f"我是 {app_id} 的用户", "m-1"), "app_id": app_id}, secret)
        _, resp = await app.asgi_client.post(
            "/api/app/messages", content=raw, headers={**headers, "X-Kefu-App": app_id}
        )
        assert resp.status == 200, resp.text
        answers[app_id] = resp.json["conversation_id"]
    assert answers["shop"] != answers["mall"]  # mall's u1 does not continue shop's u1's thread
    async with deps.sessions.begin() as session:
        shop_conv = await repo.get_conversation(session, answers["shop"])
        mall_conv = await repo.get_conversation(session, answers["mall"])
        assert shop_conv.customer_id != mall_conv.customer_id
        stored = deps.outbound.add(session, shop_conv, "agent", "只给 shop 的 u1")
    wiring = app_channel.build(deps, clients)
    deps.outbound.register(Channel.APP, wiring.sender)
    assert await deps.outbound.deliver(shop_conv, stored)
    async with aiohttp.ClientSession() as http:
        worker = wiring.new_worker(poll_interval=0.2)
        for _ in range(10):  # the job may be read by this worker's first or a later batch
            if await worker.run_once(http):
                break
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert (headers["X-Kefu-App"], payload["app_id"], payload["user_id"]) == ("shop", "shop", "u1")
    assert payload["conversation_id"] == answers["shop"]
