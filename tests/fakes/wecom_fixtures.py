"""Fixtures for every test that talks to WeCom: the protocol-faithful fake, served on a loopback
port, and the account it knows (registered for all tests by the root conftest)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

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
