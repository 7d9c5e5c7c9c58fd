"""A WeCom (微信客服) customer, end to end: encrypted callback → sync_msg → bot → kf/send_msg,
against the real service, Rasa and action server, with Tencent's API played by the fake."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
import redis

from tests.integration.conftest import OPEN_KFID, SERVICER_AGENT, SERVICER_USERID, FakeWeComServer
from tests.support.stack import STAFF_PASSWORD, Stack

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


def customer_and_bot_rows(stack: Stack, user: str) -> tuple[list[str], int]:
    rows = stack.sql(
        "SELECT m.sender, m.client_message_id FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.channel = 'wecom_kf' AND c.channel_user_id = :user",
        user=user,
    )
    return [str(msgid) for sender, msgid in rows if sender == "customer"], sum(s == "bot" for s, _ in rows)


def saved_cursor(stack: Stack) -> str:
    rows = stack.sql(
        "SELECT cursor FROM channel_cursors WHERE channel = 'wecom_kf' AND account = :a", a=OPEN_KFID
    )
    return str(rows[0][0]) if rows else ""


def flush_redis(stack: Stack, forgetter: dict[str, str]) -> None:
    """FLUSHALL the stack's Redis; staff sessions live there, so the shared editor logs in again."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        client.flushall()
    finally:
        client.close()
    login = {"username": "integration-forgetter", "password": STAFF_PASSWORD}
    resp = httpx.post(f"{stack.service_url}/api/auth/login", json=login, timeout=10)
    assert resp.status_code == 200, resp.text
    forgetter["Authorization"] = f"Bearer {resp.json()['token']}"


def test_a_redis_flush_resumes_the_kf_cursor_and_answers_each_message_once(
    stack: Stack, wecom: FakeWeComServer, forgetter: dict[str, str]
) -> None:
    user = "wmIntegrationFlush"

    def sent() -> list[object]:
        return [m for m in wecom.fake.sent_messages if m.touser == user]

    for text in ("退款多久能到账？", "你们周末上班吗"):
        count = len(sent())
        assert post_callback(stack, wecom, user, text).status_code == 200
        wait_until(lambda: len(sent()) > count, "an answer before the flush")  # noqa: B023
    cursor = saved_cursor(stack)
    assert cursor, "the kf cursor is kept in SQL"
    asked = len(wecom.fake.sync_requests)

    flush_redis(stack, forgetter)
    for text in ("怎么开发票", "退款多久能到账？"):
        count = len(sent())
        assert post_callback(stack, wecom, user, text).status_code == 200
        wait_until(lambda: len(sent()) > count, "an answer after the flush")  # noqa: B023
    after = wecom.fake.sync_requests[asked:]
    assert after[0].get("cursor") == cursor, "the sync after the flush resumed from the saved cursor"
    assert all(r.get("cursor") for r in after), "no sync restarted from the oldest message"
    time.sleep(2)  # anything handled twice would have been answered by now
    customer, bot = customer_and_bot_rows(stack, user)
    assert len(customer) == 4 == len(set(customer))
    assert bot == len(sent()) >= 4  # each answer stored once and sent once

    # Worse than a flush: the cursor lost as well. The sync starts from WeCom's oldest message and
    # meets every message of this account again; each is stored once (unique msgid per
    # conversation), so only the new one is answered.
    stack.sql("DELETE FROM channel_cursors WHERE account = :a", a=OPEN_KFID)
    flush_redis(stack, forgetter)
    bot_before, everyone = bot, len(wecom.fake.sent_messages)
    asked = len(wecom.fake.sync_requests)
    assert post_callback(stack, wecom, user, "怎么开发票").status_code == 200
    wait_until(lambda: len(wecom.fake.sent_messages) > everyone, "an answer to the new message")
    assert wecom.fake.sync_requests[asked].get("cursor") is None  # it really started over
    time.sleep(3)
    customer, bot = customer_and_bot_rows(stack, user)
    assert len(customer) == 5 == len(set(customer))
    assert bot == len(sent())
    # only the new message's answer went out: no customer of the account was answered again
    assert len(wecom.fake.sent_messages) - everyone == bot - bot_before >= 1
