"""A WeCom (微信客服) customer, end to end: encrypted callback → sync_msg → bot → kf/send_msg,
against the real service, Rasa and action server, with Tencent's API played by the fake."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.integration.conftest import OPEN_KFID, SERVICER_AGENT, SERVICER_USERID, FakeWeComServer
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
    headers = stack.staff("wecom-agent", max_concurrent=50)
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


def wait_until(check: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_a_mapped_agent_answers_in_the_wecom_client_and_the_transcript_keeps_it(
    stack: Stack, wecom: FakeWeComServer
) -> None:
    user, fake = "wmIntegrationE", wecom.fake
    assert post_callback(stack, wecom, user, "帮我写一首诗").status_code == 200
    replies_to(wecom, user, 2)  # the handoff line and the queue position
    headers = stack.staff(SERVICER_AGENT, max_concurrent=50)
    api = f"{stack.service_url}/api/agent"
    try:
        httpx.put(f"{api}/status", json={"status": "online"}, headers=headers, timeout=30)
        mine = httpx.get(f"{api}/conversations", headers=headers, timeout=10).json()
        [conv] = [c["id"] for c in mine["conversations"] if c["channel"] == "wecom_kf"]
        wait_until(lambda: fake.service_state(OPEN_KFID, user) == 3, "the session in state 3")
        assert fake.servicer_of(OPEN_KFID, user) == SERVICER_USERID

        refused = httpx.post(f"{api}/conversations/{conv}/messages", json={"text": "控制台"}, headers=headers)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "wecom_servicer_session"

        fake.servicer_says(OPEN_KFID, user, "您好，我是张三，在企业微信里回复您", servicer=SERVICER_USERID)
        callback = fake.kf_callback(OPEN_KFID)
        httpx.post(
            f"{stack.service_url}/wecom/kf/callback",
            params=callback.params,
            content=callback.body,
            timeout=10,
        )

        def servicer_text_stored() -> bool:
            detail = httpx.get(f"{api}/conversations/{conv}", headers=headers, timeout=10).json()
            return ("agent", "您好，我是张三，在企业微信里回复您") in [
                (m["sender"], m["text"]) for m in detail["messages"]
            ]

        wait_until(servicer_text_stored, "the servicer's message in the transcript")
        assert "您好，我是张三，在企业微信里回复您" not in replies_to(wecom, user, 3)  # never echoed

        closed = httpx.post(f"{api}/conversations/{conv}/close", headers=headers, timeout=30)
        assert closed.status_code == 200, closed.text
        assert fake.service_state(OPEN_KFID, user) == 4
        sent_before = len([m for m in fake.sent_messages if m.touser == user])
        assert post_callback(stack, wecom, user, "退款多久能到账？").status_code == 200
        answer = replies_to(wecom, user, sent_before + 1)[-1]  # the bot again, through the API
        assert "工作日" in answer
    finally:
        httpx.put(f"{api}/status", json={"status": "offline"}, headers=headers, timeout=30)
