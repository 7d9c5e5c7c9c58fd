from __future__ import annotations

import asyncio

import aiohttp
import pytest
import redis.asyncio as aioredis

from connectors.wecom import keys
from connectors.wecom.api import AppApi, KfApi, WeComClient
from connectors.wecom.errors import (
    SendQuotaExceeded,
    SendWindowClosed,
    WeComApiError,
    WeComAuthError,
    WeComRateLimited,
    WeComSendRuleError,
    WeComUnavailable,
)
from connectors.wecom.models import MenuItem, ServiceState
from tests.fakes.wecom_api import FakeWeCom
from tests.fakes.wecom_fixtures import APP_SECRET, CORP_ID, KF_SECRET, OPEN_KFID

CUSTOMER = "wmCustomer0001"


async def test_token_is_cached_in_redis_and_shared_by_replicas(
    fake: FakeWeCom, fake_url: str, http: aiohttp.ClientSession, redis_client: aioredis.Redis
) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    replicas = [WeComClient(http, redis_client, CORP_ID, KF_SECRET, base_url=fake_url) for _ in range(3)]
    await asyncio.gather(*(KfApi(r).sync_msg(OPEN_KFID) for r in replicas))
    assert fake.gettoken_calls == 1
    key = keys.access_token(keys.credential_id(CORP_ID, KF_SECRET))
    ttl = await redis_client.ttl(key)
    assert 0 < ttl <= 7200 - 300
    assert KF_SECRET not in key


async def test_refresh_on_invalid_token_40014(fake: FakeWeCom, kf_api: KfApi, kf_client: WeComClient) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    await kf_api.sync_msg(OPEN_KFID)
    old = await kf_client.tokens.get()
    fake.revoke_tokens()
    page = await kf_api.sync_msg(OPEN_KFID)
    assert page.messages[0].text == "hi"
    assert fake.gettoken_calls == 2
    assert await kf_client.tokens.get() != old


async def test_refresh_on_expired_token_42001(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    await kf_api.sync_msg(OPEN_KFID)
    fake.clock.advance(7200)  # WeCom's clock says expired; our Redis copy still has it
    await kf_api.sync_msg(OPEN_KFID)
    assert fake.gettoken_calls == 2


async def test_a_token_refused_twice_is_an_auth_error(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    fake.token_ttl = 0  # every issued token is already expired
    with pytest.raises(WeComAuthError) as err:
        await kf_api.sync_msg(OPEN_KFID)
    assert err.value.errcode == 42001


async def test_bad_secret_and_bad_corp_id(
    fake_url: str, http: aiohttp.ClientSession, redis_client: aioredis.Redis
) -> None:
    bad_secret = WeComClient(http, redis_client, CORP_ID, "wrong", base_url=fake_url)
    with pytest.raises(WeComAuthError) as err:
        await bad_secret.tokens.get()
    assert err.value.errcode == 40001 and "wrong" not in err.value.message
    bad_corp = WeComClient(http, redis_client, "ww-nope", KF_SECRET, base_url=fake_url)
    with pytest.raises(WeComAuthError) as err:
        await bad_corp.tokens.get()
    assert err.value.errcode == 40013


async def test_frequency_limit_is_rate_limited(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    fake.rate_limit = 2
    await kf_api.sync_msg(OPEN_KFID)
    await kf_api.sync_msg(OPEN_KFID)
    with pytest.raises(WeComRateLimited) as err:
        await kf_api.sync_msg(OPEN_KFID)
    assert err.value.errcode == 45009 and err.value.status == 429
    fake.clock.advance(61)
    await kf_api.sync_msg(OPEN_KFID)


async def test_unreachable_server_is_unavailable_without_leaking_the_token(
    http: aiohttp.ClientSession, redis_client: aioredis.Redis
) -> None:
    client = WeComClient(http, redis_client, CORP_ID, KF_SECRET, base_url="http://127.0.0.1:9")
    with pytest.raises(WeComUnavailable) as err:
        await client.tokens.get()
    assert KF_SECRET not in str(err.value) and err.value.__cause__ is None


async def test_long_text_is_split_at_2048_bytes(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "请详细说明")
    text = "退款说明：" + "中文字符" * 600  # 7215 bytes
    ids = await kf_api.send_text(CUSTOMER, OPEN_KFID, text, msgid="reply42")
    sent = fake.sent_messages
    assert [m.msgid for m in sent] == ids and len(ids) == 4
    assert all(len(m.content.encode()) <= 2048 for m in sent)
    assert "".join(m.content for m in sent) == text
    assert all(m.touser == CUSTOMER and m.open_kfid == OPEN_KFID for m in sent)


async def test_server_refuses_over_2048_bytes(fake: FakeWeCom, kf_client: WeComClient) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    payload = {"touser": CUSTOMER, "open_kfid": OPEN_KFID, "msgtype": "text", "text": {"content": "a" * 2049}}
    with pytest.raises(WeComApiError) as err:
        await kf_client.call("kf/send_msg", payload)
    assert err.value.errcode == 45002


async def test_at_most_five_messages_per_customer_message(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    for i in range(5):
        await kf_api.send_text(CUSTOMER, OPEN_KFID, f"reply {i}")
    with pytest.raises(SendQuotaExceeded) as err:
        await kf_api.send_text(CUSTOMER, OPEN_KFID, "one too many")
    assert err.value.errcode == 95001 and isinstance(err.value, WeComSendRuleError)
    fake.customer_says(OPEN_KFID, CUSTOMER, "again")
    await kf_api.send_text(CUSTOMER, OPEN_KFID, "allowed again")
    assert len(fake.sent_messages) == 6


async def test_no_sending_48_hours_after_the_customer_spoke(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    fake.clock.advance(48 * 3600 + 1)
    with pytest.raises(SendWindowClosed) as err:
        await kf_api.send_text(CUSTOMER, OPEN_KFID, "too late")
    assert err.value.errcode == 95002
    assert fake.sent_messages == []


async def test_menu_message(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "hi")
    items = [MenuItem("101", "满意"), MenuItem("102", "不满意")]
    msgid = await kf_api.send_menu(CUSTOMER, OPEN_KFID, "请评价", items, tail="谢谢", msgid="menu1")
    sent = fake.sent_messages[0]
    assert msgid == "menu1" and sent.msgtype == "msgmenu"
    assert sent.payload["msgmenu"]["list"][1] == {
        "type": "click",
        "click": {"id": "102", "content": "不满意"},
    }


async def test_service_state_transfer_and_its_rules(fake: FakeWeCom, kf_api: KfApi) -> None:
    fake.customer_says(OPEN_KFID, CUSTOMER, "人工")
    await kf_api.trans_service_state(OPEN_KFID, CUSTOMER, ServiceState.AGENT, "zhangsan")
    assert fake.service_state(OPEN_KFID, CUSTOMER) == 3
    with pytest.raises(WeComSendRuleError) as err:
        await kf_api.send_text(CUSTOMER, OPEN_KFID, "bot talking while an agent has the session")
    assert err.value.errcode == 95018
    with pytest.raises(WeComApiError) as err2:
        await kf_api.trans_service_state(OPEN_KFID, CUSTOMER, ServiceState.BOT)
    assert err2.value.errcode == 95016


async def test_app_message_send(
    fake: FakeWeCom, fake_url: str, http: aiohttp.ClientSession, redis_client: aioredis.Redis
) -> None:
    app = AppApi(WeComClient(http, redis_client, CORP_ID, APP_SECRET, base_url=fake_url), fake.agent_id)
    ids = await app.send_text("zhangsan", "新工单 #42" + "x" * 3000)
    assert len(ids) == 2 and [m.touser for m in fake.app_messages] == ["zhangsan", "zhangsan"]
    wrong_agent = AppApi(WeComClient(http, redis_client, CORP_ID, APP_SECRET, base_url=fake_url), 1)
    with pytest.raises(WeComApiError) as err:
        await wrong_agent.send_text("zhangsan", "hi")
    assert err.value.errcode == 40056
