"""Fixtures for the WeCom connector: the protocol-faithful fake, served on a loopback port."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from connectors.wecom.api import KfApi, WeComClient
from tests.fakes.wecom_api import FakeWeCom, create_fake_wecom

CORP_ID = "ww0123456789abcdef"
KF_SECRET = "kf-secret-for-tests"
APP_SECRET = "app-secret-for-tests"
TOKEN = "QDG6eK7token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OPEN_KFID = "wkABCDEF0123"


@pytest.fixture
def fake() -> FakeWeCom:
    return create_fake_wecom(CORP_ID, [KF_SECRET, APP_SECRET], TOKEN, AES_KEY)


@pytest.fixture
async def fake_url(fake: FakeWeCom) -> AsyncIterator[str]:
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


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
