"""A WeCom (微信客服) customer, end to end: encrypted callback → sync_msg → bot → kf/send_msg,
against the real service, Rasa and action server, with Tencent's API played by the fake."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.conftest import OPEN_KFID, FakeWeComServer
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


def replies_to(wecom: FakeWeComServer, user: str, count: int, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [m.content for m in wecom.fake.sent_messages if m.touser == user]
        if len(texts) >= count:
            return [str(t) for t in texts]
        time.sleep(0.3)
    raise AssertionError(f"no reply to {user} within {timeout}s: {wecom.fake.sent_messages}")


def post_callback(stack: Stack, wecom: FakeWeComServer, user: str, text: str) -> httpx.Response:
    callback = wecom.fake.customer_says(OPEN_KFID, user, text)
    return httpx.post(
        f"{stack.service_url}/wecom/kf/callback",
        params=callback.params,
        content=callback.body.encode(),
        timeout=10,
    )


def test_wecom_customer_gets_the_bot_answer_back_on_wecom(stack: Stack, wecom: FakeWeComServer) -> None:
    resp = post_callback(stack, wecom, "wmIntegrationA", "退款多久能到账？")
    assert resp.status_code == 200 and resp.text == "success"
    [answer] = replies_to(wecom, "wmIntegrationA", 1)
    assert "工作日" in answer


def test_retried_callback_is_handled_once(stack: Stack, wecom: FakeWeComServer) -> None:
    callback = wecom.fake.customer_says(OPEN_KFID, "wmIntegrationB", "你们周末上班吗")
    for _ in range(3):  # WeCom retries a callback it thinks failed
        httpx.post(
            f"{stack.service_url}/wecom/kf/callback",
            params=callback.params,
            content=callback.body.encode(),
            timeout=10,
        )
    replies_to(wecom, "wmIntegrationB", 1)
    time.sleep(2)
    assert len([m for m in wecom.fake.sent_messages if m.touser == "wmIntegrationB"]) == 1


def test_bad_signature_is_refused(stack: Stack, wecom: FakeWeComServer) -> None:
    callback = wecom.fake.customer_says(OPEN_KFID, "wmIntegrationC", "hello")
    params = {**callback.params, "msg_signature": "0" * 40}
    resp = httpx.post(
        f"{stack.service_url}/wecom/kf/callback", params=params, content=callback.body.encode(), timeout=10
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "bad_signature"


def test_wecom_customer_handed_off_and_the_agent_reply_goes_back_on_wecom(
    stack: Stack, wecom: FakeWeComServer
) -> None:
    user = "wmIntegrationD"
    assert post_callback(stack, wecom, user, "帮我写一首诗").status_code == 200
    declined = replies_to(wecom, user, 2)  # the bot's handoff line and the queue position
    assert any("人工" in text for text in declined)
    added = stack.kefu(
        "agents",
        "add",
        "wecom-agent",
        "--role",
        "agent",
        "--password-stdin",
        "--max-concurrent",
        "50",
        stdin="integration-pass\n",
    )
    assert added.returncode == 0, added.stderr
    login = httpx.post(
        f"{stack.service_url}/api/auth/login",
        json={"username": "wecom-agent", "password": "integration-pass"},
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    try:
        httpx.put(
            f"{stack.service_url}/api/agent/status", json={"status": "online"}, headers=headers, timeout=30
        )
        mine = httpx.get(f"{stack.service_url}/api/agent/conversations", headers=headers, timeout=10).json()
        [conv] = [c["id"] for c in mine["conversations"] if c["channel"] == "wecom_kf"]
        sent = httpx.post(
            f"{stack.service_url}/api/agent/conversations/{conv}/messages",
            json={"text": "您好，我是人工客服小王"},
            headers=headers,
            timeout=30,
        )
        assert sent.status_code == 200, sent.text
        texts = replies_to(wecom, user, 4)  # + "agent joined" + the agent's own words
        assert "您好，我是人工客服小王" in texts
    finally:
        httpx.put(
            f"{stack.service_url}/api/agent/status", json={"status": "offline"}, headers=headers, timeout=30
        )
