"""Fixtures for the WeCom connector: API clients against the fake (tests.fakes.wecom_fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from connectors.wecom.api import KfApi, WeComClient
from tests.fakes.wecom_fixtures import CORP_ID, KF_SECRET


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def kf_client(http: aiohttp.ClientSession, redis_client: aioredis.Redis, fake_url: str) -> WeComClient:
    return WeComClient(http, redis_client, CORP_ID, KF_SECRET, base_url=fake_url)


@pytest.fixture
def kf_api(kf_client: WeComClient) -> KfApi:
    return KfApi(kf_client)
