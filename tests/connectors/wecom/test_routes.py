from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from sanic import Sanic

from connectors.wecom.api import KfApi
from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.dedup import MessageDedup
from connectors.wecom.ingest import WeComAppIngest, WeComKfIngest
from connectors.wecom.replay import ReplayGuard
from connectors.wecom.routes import create_app_blueprint, create_kf_blueprint
from connectors.wecom.xml import build_envelope
from core.types import Channel, InboundMessage
from tests.fakes.wecom_api import FakeWeCom, SignedCallback
from tests.fakes.wecom_fixtures import AES_KEY, CORP_ID, OPEN_KFID, TOKEN

_names = itertools.count()


class Collector:
    """The on_inbound callback: records messages and lets a test wait for them."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self._arrived = asyncio.Condition()

    async def __call__(self, msg: InboundMessage) -> None:
        async with self._arrived:
            self.messages.append(msg)
            self._arrived.notify_all()

    async def wait_for(self, count: int) -> list[InboundMessage]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.messages) >= count), 10)
        return self.messages


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def app(kf_api: KfApi, redis_client: aioredis.Redis, collector: Collector) -> Sanic[Any, Any]:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    kf_ingest = WeComKfIngest(kf_api, redis_client, MessageDedup(redis_client, "kf"))
    app_ingest = WeComAppIngest(MessageDedup(redis_client, "app"))
    sanic_app: Sanic[Any, Any] = Sanic(f"wecom_routes_test_{next(_names)}")
    sanic_app.blueprint(create_kf_blueprint(crypto, kf_ingest, collector, ReplayGuard(redis_client, "kf")))
    sanic_app.blueprint(create_app_blueprint(crypto, app_ingest, collector, ReplayGuard(redis_client, "app")))
    return sanic_app


async def post(app: Sanic[Any, Any], path: str, callback: SignedCallback) -> Any:
    _, response = await app.asgi_client.post(path, params=callback.params, content=callback.body)
    return response


@pytest.mark.parametrize("path", ["/wecom/kf/callback", "/wecom/app/callback"])
async def test_url_check_answers_the_decrypted_echo(app: Sanic[Any, Any], fake: FakeWeCom, path: str) -> None:
    params = fake.url_check("1616140317555161061")
    _, response = await app.asgi_client.get(path, params=params)
    assert response.status == 200
    assert response.text == "1616140317555161061"


async def test_url_check_with_a_bad_signature_is_403(app: Sanic[Any, Any], fake: FakeWeCom) -> None:
    params = {**fake.url_check("echo"), "msg_signature": "0" * 40}
    _, response = await app.asgi_client.get("/wecom/kf/callback", params=params)
    assert response.status == 403
    assert response.json["error"]["code"] == "bad_signature"
    assert "echo" not in response.text


async def test_customer_message_is_delivered(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector
) -> None:
    response = await post(app, "/wecom/kf/callback", fake.customer_says(OPEN_KFID, "wmAlice", "在吗"))
    assert response.status == 200 and response.text == "success"
    [msg] = await collector.wait_for(1)
    assert (msg.channel, msg.channel_user_id, msg.text) == (Channel.WECOM_KF, "wmAlice", "在吗")


async def test_bad_signature_is_403_and_nothing_is_processed(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector
) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmAlice", "hi")
    forged = SignedCallback({**callback.params, "timestamp": "1"}, callback.body, callback.plaintext)
    response = await post(app, "/wecom/kf/callback", forged)
    assert response.status == 403
    assert response.json == {
        "error": {"code": "bad_signature", "message": "the message signature does not match"}
    }
    await asyncio.sleep(0.2)
    assert fake.sync_requests == [] and collector.messages == []


async def test_a_retried_callback_is_handled_once(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector
) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmBob", "refund?")
    for _ in range(3):  # Tencent retries when it does not hear "success" in time
        assert (await post(app, "/wecom/kf/callback", callback)).text == "success"
    await collector.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(fake.sync_requests) == 1  # the retries are answered, not synced again ...
    assert [m.text for m in collector.messages] == ["refund?"]  # ... and delivered once


async def test_malformed_body_is_400(app: Sanic[Any, Any], fake: FakeWeCom) -> None:
    callback = fake.customer_says(OPEN_KFID, "wmAlice", "hi")
    response = await post(app, "/wecom/kf/callback", SignedCallback(callback.params, "<xml>", ""))
    assert response.status == 400 and response.json["error"]["code"] == "invalid_xml"
    _, response = await app.asgi_client.post("/wecom/kf/callback", content=callback.body)
    assert response.status == 400 and response.json["error"]["code"] == "missing_msg_signature"


async def test_app_text_message_is_delivered_once(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector
) -> None:
    callback = fake.employee_says("zhangsan", "工单 42 进展？")
    for _ in range(2):
        assert (await post(app, "/wecom/app/callback", callback)).text == "success"
    [msg] = await collector.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(collector.messages) == 1
    assert (msg.channel, msg.channel_user_id, msg.entry_point) == (Channel.WECOM_APP, "zhangsan", "1000002")


def restamped(fake: FakeWeCom, callback: SignedCallback, timestamp: int) -> SignedCallback:
    """The same plaintext, correctly signed by the corp's token, but stamped at ``timestamp``."""
    sealed = fake.crypto.seal(callback.plaintext, str(timestamp), callback.params["nonce"])
    params = {"msg_signature": sealed.msg_signature, "timestamp": str(timestamp), "nonce": sealed.nonce}
    body = build_envelope(fake.corp_id, sealed.encrypt, str(fake.agent_id))
    return SignedCallback(params, body, callback.plaintext)


# Well outside the 300 s window: a loaded machine takes seconds between stamping and checking.
@pytest.mark.parametrize("offset", [-330, 330])
async def test_a_callback_stamped_outside_five_minutes_is_refused(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector, offset: int
) -> None:
    callback = fake.employee_says("zhangsan", "旧消息")
    stale = restamped(fake, callback, int(time.time()) + offset)
    response = await post(app, "/wecom/app/callback", stale)
    assert response.status == 403 and response.json["error"]["code"] == "stale_callback"
    fresh = restamped(fake, callback, int(time.time()) - 240)  # within the window: accepted
    assert (await post(app, "/wecom/app/callback", fresh)).text == "success"
    await collector.wait_for(1)


async def test_a_replayed_callback_is_not_handled_again(
    app: Sanic[Any, Any], fake: FakeWeCom, collector: Collector, redis_client: aioredis.Redis
) -> None:
    callback = fake.employee_says("zhangsan", "退款")
    assert (await post(app, "/wecom/app/callback", callback)).text == "success"
    await collector.wait_for(1)
    # The message-id memory is gone (e.g. its TTL ran out); the nonce still stops the replay.
    await redis_client.delete(*await redis_client.keys("kefu:wecom:seen:*"))
    assert (await post(app, "/wecom/app/callback", callback)).text == "success"
    await asyncio.sleep(0.2)
    assert [m.text for m in collector.messages] == ["退款"]


async def test_an_app_message_whose_handler_failed_comes_back_with_wecoms_retry(
    kf_api: KfApi, redis_client: aioredis.Redis, fake: FakeWeCom, collector: Collector
) -> None:
    failures = [RuntimeError("the database went away")]

    async def flaky(msg: InboundMessage) -> None:
        if failures:
            raise failures.pop()
        await collector(msg)

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    sanic_app: Sanic[Any, Any] = Sanic(f"wecom_routes_test_{next(_names)}")
    ingest = WeComAppIngest(MessageDedup(redis_client, "app"))
    sanic_app.blueprint(create_app_blueprint(crypto, ingest, flaky, ReplayGuard(redis_client, "app")))
    callback = fake.employee_says("lisi", "报销进度？")
    first = await post(sanic_app, "/wecom/app/callback", callback)
    assert first.status == 503  # not "success": WeCom sends the same callback again
    assert collector.messages == []
    assert (await post(sanic_app, "/wecom/app/callback", callback)).text == "success"
    assert [m.text for m in collector.messages] == ["报销进度？"]
    assert (await post(sanic_app, "/wecom/app/callback", callback)).text == "success"  # handled: once
    assert len(collector.messages) == 1
