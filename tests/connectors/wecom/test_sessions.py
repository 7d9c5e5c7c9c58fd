"""ServicerSessions against the fake: kf/service_state/trans and the record of who holds a session."""

from __future__ import annotations

import aiohttp
import pytest
import redis.asyncio as aioredis

from connectors.wecom import keys
from connectors.wecom.api import KfApi, WeComClient
from connectors.wecom.sessions import UNKNOWN_SERVICER, ServicerSessions
from tests.fakes.wecom_api import FakeWeCom
from tests.fakes.wecom_fixtures import CORP_ID, KF_SECRET, OPEN_KFID
from tests.support.processes import free_port

CUSTOMER = "wmServiced"


@pytest.fixture
def sessions(kf_api: KfApi, redis_client: aioredis.Redis, fake: FakeWeCom) -> ServicerSessions:
    fake.customer_says(OPEN_KFID, CUSTOMER, "人工")
    return ServicerSessions(kf_api, redis_client)


async def test_hand_to_moves_the_session_to_state_3_and_records_the_servicer(
    sessions: ServicerSessions, fake: FakeWeCom
) -> None:
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == ""
    assert await sessions.hand_to(OPEN_KFID, CUSTOMER, "zhangsan")
    assert (fake.service_state(OPEN_KFID, CUSTOMER), fake.servicer_of(OPEN_KFID, CUSTOMER)) == (3, "zhangsan")
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == "zhangsan"
    assert await sessions.hand_to(OPEN_KFID, CUSTOMER, "lisi")  # 3 -> 3
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == "lisi"


async def test_a_refused_hand_over_is_false_and_records_nothing(
    sessions: ServicerSessions, fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    fake.servicers = {"lisi"}
    assert not await sessions.hand_to(OPEN_KFID, CUSTOMER, "zhangsan")
    assert fake.service_state(OPEN_KFID, CUSTOMER) == 0
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == ""
    assert "95014" in caplog.text


async def test_an_unreachable_wecom_is_false_and_logs_no_secret(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as http:
        dead = f"http://127.0.0.1:{free_port()}"
        api = KfApi(WeComClient(http, redis_client, CORP_ID, KF_SECRET, base_url=dead, timeout_seconds=2))
        assert not await ServicerSessions(api, redis_client).hand_to(OPEN_KFID, CUSTOMER, "zhangsan")
    assert "wecom_unavailable" in caplog.text
    assert KF_SECRET not in caplog.text


async def test_end_moves_a_held_session_to_state_4_and_forgets_it(
    sessions: ServicerSessions, fake: FakeWeCom
) -> None:
    await sessions.hand_to(OPEN_KFID, CUSTOMER, "zhangsan")
    assert await sessions.end(OPEN_KFID, CUSTOMER)
    assert fake.service_state(OPEN_KFID, CUSTOMER) == 4
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == ""
    fake.customer_says(OPEN_KFID, CUSTOMER, "again")
    assert fake.service_state(OPEN_KFID, CUSTOMER) == 0  # an ended session restarts in state 0


async def test_end_of_a_session_nobody_holds_calls_nothing(
    sessions: ServicerSessions, fake: FakeWeCom
) -> None:
    assert await sessions.end(OPEN_KFID, CUSTOMER)
    assert fake.state_changes == []


async def test_refused_marks_an_unknown_holder_but_keeps_a_known_one(
    sessions: ServicerSessions, redis_client: aioredis.Redis
) -> None:
    await sessions.refused(OPEN_KFID, CUSTOMER)
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == UNKNOWN_SERVICER
    assert await redis_client.ttl(keys.kf_servicer(OPEN_KFID, CUSTOMER)) > 0
    await sessions.hand_to(OPEN_KFID, CUSTOMER, "zhangsan")
    await sessions.refused(OPEN_KFID, CUSTOMER)
    assert await sessions.holder(OPEN_KFID, CUSTOMER) == "zhangsan"
