"""Alert webhooks: signed with the shared secret, retried until the receiver takes them,
the WeCom group robot's own message format for its URL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from conversations.http import LazySession
from supervision.tables import Alert
from supervision.webhook import Webhooks, body_for, sign


def _alert() -> Alert:
    return Alert(
        id=7,
        type="forbidden_word",
        dedup_key="k",
        conversation_id="c1",
        agent_id=3,
        group="",
        data={"agent": "alice", "word": "滚", "conversation_id": "c1"},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_a_failed_delivery_is_retried_and_every_attempt_is_signed() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(status=500 if len(seen) < 3 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app) as server:
        http = LazySession()
        hooks = Webhooks(http, "s3cret", delays=(0.01, 0.01, 0.01))
        assert await hooks.deliver(_alert(), str(server.make_url("/hook")))
        await http.close()
    assert len(seen) == 3
    for headers, body in seen:
        assert headers["X-Kefu-Signature"] == sign("s3cret", headers["X-Kefu-Timestamp"], body)
        assert sign("other", headers["X-Kefu-Timestamp"], body) != headers["X-Kefu-Signature"]
    payload = json.loads(seen[0][1])
    assert payload["alert"]["type"] == "forbidden_word" and payload["alert"]["conversation_id"] == "c1"


async def test_a_receiver_that_never_answers_is_given_up() -> None:
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=503)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app) as server:
        http = LazySession()
        assert not await Webhooks(http, "s", delays=(0.01, 0.01)).deliver(
            _alert(), str(server.make_url("/hook"))
        )
        await http.close()
    assert calls == 3


def test_a_wecom_robot_gets_its_text_message_format() -> None:
    body = body_for("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", _alert(), "zh")
    assert body == {"msgtype": "text", "text": {"content": "[Kefu] alice 使用了禁用词：滚"}}
