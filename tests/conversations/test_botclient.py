"""The Rasa client sends Rasa's auth token, as ``rasa run --auth-token`` expects (``?token=``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conversations.botclient import RasaClient
from conversations.http import LazySession

TOKEN = "rasa-token-0123456789"


class TokenRasa:
    """Rasa's two endpoints the service uses. Real Rasa checks the token on /status only; this
    one checks it on both, so the test sees that the client sends it with every call."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_get("/status", self.status)
        self.app.router.add_post("/webhooks/rest/webhook", self.webhook)

    @staticmethod
    def _authorised(request: web.Request) -> bool:
        return request.query.get("token") == TOKEN

    async def status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"status": "failure", "code": 401}, status=401)
        return web.json_response({"model_file": "kefu.tar.gz"})

    async def webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"status": "failure", "code": 401}, status=401)
        return web.json_response([{"recipient_id": "c1", "text": "您好"}])


@pytest.fixture
async def rasa_url() -> AsyncIterator[str]:
    server = TestServer(TokenRasa().app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_the_token_goes_with_every_call(rasa_url: str) -> None:
    http = LazySession()
    try:
        client = RasaClient(http, rasa_url, timeout=5, token=TOKEN)
        assert await client.healthy()
        [reply] = await client.send("c1", "你好", {})
        assert reply.text == "您好"
        assert not await RasaClient(http, rasa_url, timeout=5, token="wrong").healthy()
    finally:
        await http.close()
