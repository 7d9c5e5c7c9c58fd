"""Public traffic is limited (finding 5): messages per visitor, requests per address, open
sockets per visitor; over a limit the answer is 429 rate_limited with Retry-After."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from connectors.visitor_token import SUBPROTOCOL, VisitorTokens
from core.errors import RateLimited
from core.settings import RateLimitSettings
from service.app import create_app
from service.deps import Deps
from service.rate_limits import WINDOW, PublicLimits
from tests.service.live_server import serve
from tests.service.visitors import visitor_headers

LIMITS = RateLimitSettings(visitor_messages_per_minute=3, ip_requests_per_minute=8, sockets_per_visitor=2)


def limited_app(deps: Deps) -> Sanic[Any, Any]:
    deps.settings = dataclasses.replace(deps.settings, rate_limits=LIMITS)
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_limits_{id(deps)}")
    app.config.REAL_IP_HEADER = "x-real-ip"
    return app


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[SanicASGITestClient]:
    yield limited_app(deps).asgi_client
    await deps.close()


async def say(client: SanicASGITestClient, visitor: str, ip: str) -> Any:
    _, resp = await client.post(
        "/api/web/messages",
        json={"visitor_id": visitor, "text": "hello"},
        headers={**visitor_headers(client, visitor), "x-real-ip": ip},
    )
    return resp


def assert_limited(resp: Any) -> None:
    assert resp.status == 429, resp.text
    assert resp.json["error"]["code"] == "rate_limited"
    assert 0 < int(resp.headers["retry-after"]) <= WINDOW


async def test_one_visitor_is_limited_not_the_others(client: SanicASGITestClient) -> None:
    for i in range(LIMITS.visitor_messages_per_minute):
        assert (await say(client, "chatty", f"10.0.0.{i}")).status == 200
    assert_limited(await say(client, "chatty", "10.0.0.99"))  # from any address
    assert (await say(client, "quiet", "10.0.0.99")).status == 200


async def test_one_address_is_limited_not_the_others(client: SanicASGITestClient) -> None:
    for i in range(LIMITS.ip_requests_per_minute):
        assert (await say(client, f"fresh{i}", "192.0.2.1")).status == 200  # a new visitor id per try
    assert_limited(await say(client, "fresh-next", "192.0.2.1"))
    _, resp = await client.get("/api/web/conversations/x/messages", headers={"x-real-ip": "192.0.2.1"})
    assert_limited(resp)  # every public route counts
    assert (await say(client, "elsewhere", "198.51.100.1")).status == 200


async def test_sockets_per_visitor_are_capped_and_freed(deps: Deps) -> None:
    limits = PublicLimits(deps.redis, LIMITS, VisitorTokens("k"))
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(LIMITS.sockets_per_visitor):
            await stack.enter_async_context(limits.socket("v1"))
        with pytest.raises(RateLimited):
            async with limits.socket("v1"):
                pass
        async with limits.socket("v2"):  # another visitor is not affected
            pass
    assert await limits.sockets_open("v1") == 0  # closed sockets give their slots back
    async with limits.socket("v1"):
        assert await limits.sockets_open("v1") == 1
    await deps.close()


async def test_a_socket_over_the_cap_is_refused_before_the_upgrade(deps: Deps) -> None:
    app = limited_app(deps)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        resp = await http.post("/api/web/messages", json={"visitor_id": "tabs", "text": "hi"})
        token, conv = resp.json()["visitor_token"], resp.json()["conversation_id"]
        url = base.replace("http://", "ws://") + f"/api/web/ws?conversation_id={conv}"
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(LIMITS.sockets_per_visitor):
                ws = await stack.enter_async_context(
                    websockets.connect(url, subprotocols=[SUBPROTOCOL, token], open_timeout=5)  # type: ignore[list-item]
                )
                assert ws.subprotocol == SUBPROTOCOL
            await _until(lambda: limits_open(deps, "tabs"), LIMITS.sockets_per_visitor)
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url, subprotocols=[SUBPROTOCOL, token], open_timeout=5):  # type: ignore[list-item]
                    pass
            assert refused.value.response.status_code == 429
    await deps.close()


async def limits_open(deps: Deps, visitor: str) -> int:
    return await PublicLimits(deps.redis, LIMITS, VisitorTokens("k")).sockets_open(visitor)


async def _until(probe: Any, expected: int) -> None:
    import asyncio

    for _ in range(100):  # the handler holds its slot just after the upgrade
        if await probe() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the sockets never took their slots")
