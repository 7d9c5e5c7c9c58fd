"""The shop's app backend, end to end: signed messages to the real service (Rasa, actions, index),
one customer across the web and app channels, and an agent's reply delivered signed to the app's
webhook (a real HTTP receiver run by tests/integration/conftest.py)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from connectors.app.signing import sign, verify
from service.identity_routes import shown_user_id
from tests.integration.conftest import APP_ID, APP_SECRET, AppWebhookServer
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

ALL_DAY = {
    "timezone": "Asia/Shanghai",
    "weekly": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def post_app(
    stack: Stack, body: dict[str, Any], secret: str = APP_SECRET, app_id: str = APP_ID
) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Kefu-App": app_id,
        "X-Kefu-Timestamp": ts,
        "X-Kefu-Signature": sign(secret, ts, raw),
    }
    return httpx.post(f"{stack.service_url}/api/app/messages", content=raw, headers=headers, timeout=60)


def app_message(text: str, user: str, **extra: Any) -> dict[str, Any]:
    return {"app_id": APP_ID, "user_id": user, "text": text, "message_id": uuid.uuid4().hex, **extra}


def staff(stack: Stack, role: str, skills: str = "general") -> dict[str, str]:
    return stack.staff(f"app{role}{uuid.uuid4().hex[:6]}", role=role, skills=skills)


@pytest.fixture(scope="module", autouse=True)
def bot_ready(stack: Stack) -> None:
    """The first question after start-up may outlast the bot timeout while the action server
    loads its model (and is then handed off); ask on the web channel until the bot answers."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        body = {"visitor_id": uuid.uuid4().hex, "text": "退款多久能到账？", "lang": "zh"}
        resp = httpx.post(f"{stack.service_url}/api/web/messages", json=body, timeout=60)
        if resp.status_code == 200 and resp.json()["state"] == "bot":
            return
        time.sleep(1)
    raise AssertionError("the bot never answered on the web channel")


def test_signed_app_message_gets_the_bot_answer(stack: Stack) -> None:
    resp = post_app(stack, app_message("退款多久能到账？", "app-user-1", lang="zh"))
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["state"] == "bot" and result["duplicate"] is False
    assert "工作日" in "\n".join(r["text"] for r in result["replies"])


def test_bad_signature_and_unknown_app_are_refused(stack: Stack) -> None:
    body = app_message("你好", "app-user-2")
    resp = post_app(stack, body, secret="not-the-shop-secret-at-all")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "bad_signature"
    resp = post_app(stack, {**body, "app_id": "other"}, app_id="other")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "unknown_app"


def test_repeated_message_id_is_answered_once(stack: Stack) -> None:
    body = app_message("你们周末上班吗", "app-user-3", lang="zh")
    first = post_app(stack, body).json()
    second = post_app(stack, body).json()
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["message_id"] == first["message_id"] and first["replies"]
    # the stored replies come back (same ids): the bot was not asked again
    assert second["replies"] == first["replies"]


def test_phone_links_the_app_user_to_the_web_customer(stack: Stack) -> None:
    admin = staff(stack, "admin")
    visitor = uuid.uuid4().hex
    web = httpx.post(
        f"{stack.service_url}/api/web/messages",
        json={"visitor_id": visitor, "text": "退款多久能到账？", "lang": "zh"},
        timeout=60,
    ).json()
    resp = httpx.get(
        f"{stack.service_url}/api/customers",
        params={"conversation_id": web["conversation_id"]},
        headers=admin,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    web_customer = resp.json()["id"]
    phone = f"139{int(time.time() * 1000) % 10**8:08d}"
    resp = httpx.post(
        f"{stack.service_url}/api/admin/identities/attach",
        json={"customer_id": web_customer, "phone": phone, "reason": "verified on the phone"},
        headers=admin,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text

    user = f"app-user-{uuid.uuid4().hex[:8]}"
    body = app_message("你们周末上班吗", user, lang="zh", customer={"phone": f"+86 {phone}"}, tier="A")
    app_result = post_app(stack, body).json()
    assert app_result["state"] == "bot"

    resp = httpx.get(f"{stack.service_url}/api/customers/{web_customer}", headers=admin, timeout=10)
    customer = resp.json()
    assert customer["id"] == web_customer and customer["tier"] == "A"
    assert {(c["channel"], c["id"]) for c in customer["conversations"]} == {
        ("web", web["conversation_id"]),
        ("app", app_result["conversation_id"]),
    }
    # a web visitor's own id stays out of staff APIs: they see a stable digest of it
    assert {("app", f"{APP_ID}:{user}"), ("phone", phone), ("web", shown_user_id("web", visitor))} <= {
        (i["channel"], i["channel_user_id"]) for i in customer["identities"]
    }


def deliveries_to(
    hook: AppWebhookServer, user: str, timeout: float = 30
) -> list[tuple[dict[str, str], bytes]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [(h, b) for h, b in list(hook.deliveries) if json.loads(b).get("user_id") == user]
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"nothing delivered to {user} within {timeout}s: {hook.deliveries}")


def test_agent_reply_reaches_the_app_webhook_signed(stack: Stack, app_webhook: AppWebhookServer) -> None:
    admin = staff(stack, "admin")
    resp = httpx.put(f"{stack.service_url}/api/hours/general", json=ALL_DAY, headers=admin, timeout=10)
    assert resp.status_code == 200, resp.text  # open now, whatever the clock says
    agent = staff(stack, "agent")
    httpx.put(f"{stack.service_url}/api/agent/status", json={"status": "online"}, headers=agent, timeout=10)
    try:
        user = f"app-user-{uuid.uuid4().hex[:8]}"
        handed = post_app(stack, app_message("帮我写一首诗", user, lang="zh")).json()
        conv = handed["conversation_id"]
        assert handed["state"] in ("queued", "agent"), handed
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            mine = httpx.get(f"{stack.service_url}/api/agent/conversations", headers=agent, timeout=10).json()
            if conv in [c["id"] for c in mine["conversations"]]:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"{conv} never reached the agent: {mine}")
        resp = httpx.post(
            f"{stack.service_url}/api/agent/conversations/{conv}/messages",
            json={"text": "您好，我是客服，请问有什么可以帮您？"},
            headers=agent,
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        agent_text = "您好，我是客服，请问有什么可以帮您？"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [
                (h, json.loads(b), b)
                for h, b in deliveries_to(app_webhook, user)
                if json.loads(b)["message"]["text"] == agent_text
            ]
            if found:
                break
            time.sleep(0.3)
        [(headers, payload, raw)] = found
        verify(APP_SECRET, headers["X-Kefu-Timestamp"], headers["X-Kefu-Signature"], raw, time.time())
        assert headers["X-Kefu-App"] == APP_ID and headers["X-Kefu-Delivery"]
        assert payload["conversation_id"] == conv and payload["message"]["sender"] == "agent"
    finally:
        httpx.put(
            f"{stack.service_url}/api/agent/status", json={"status": "offline"}, headers=agent, timeout=10
        )
