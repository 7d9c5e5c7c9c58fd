"""The blueprint behind Sanic's ASGI test client, with the service's own error handler."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from connectors.app.routes import create_blueprint
from connectors.app.signing import sign
from core.app_clients import AppClient
from core.types import HandleResult, InboundMessage, MessageView
from service import errors

NOW = 1_700_000_000
SHOP = AppClient("shop", "shop-secret-0123456789", "http://127.0.0.1:9/hook")
OTHER = AppClient("other", "other-secret-0123456789", "http://127.0.0.1:9/hook")


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    async def handle(self, msg: InboundMessage) -> HandleResult:
        self.messages.append(msg)
        return HandleResult(
            conversation_id=f"c-{msg.channel_user_id}",
            message_id=len(self.messages),
            state="bot",
            replies=(
                MessageView(100 + len(self.messages), "bot", f"echo:{msg.text}", buttons=({"title": "ok"},)),
            ),
        )


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def client(handler: RecordingHandler) -> SanicASGITestClient:
    Sanic.test_mode = True
    app = Sanic(f"app_channel_test_{uuid.uuid4().hex}")
    errors.install(app)
    app.blueprint(create_blueprint(handler, {"shop": SHOP, "other": OTHER}, clock=lambda: NOW))
    return app.asgi_client


def message(**changes: Any) -> dict[str, Any]:
    return {"app_id": "shop", "user_id": "u-1", "text": "hello", "message_id": "m-1", **changes}


def signed(body: bytes, app: AppClient = SHOP, ts: int = NOW, secret: str | None = None) -> dict[str, str]:
    return {
        "X-Kefu-App": app.app_id,
        "X-Kefu-Timestamp": str(ts),
        "X-Kefu-Signature": sign(secret or app.secret, ts, body),
        "Content-Type": "application/json",
    }


async def post(client: SanicASGITestClient, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    _, resp = await client.post("/api/app/messages", content=body, headers=headers)
    return resp.status, resp.json


async def test_valid_request_is_handed_on(client: SanicASGITestClient, handler: RecordingHandler) -> None:
    body = json.dumps(message(lang="en", tier="A", customer={"member_id": "M1"}), ensure_ascii=False).encode()
    status, data = await post(client, body, signed(body))
    assert status == 200
    assert data == {
        "conversation_id": "c-shop:u-1",
        "message_id": 1,
        "state": "bot",
        "duplicate": False,
        "replies": [
            {
                "id": 101,
                "sender": "bot",
                "text": "echo:hello",
                "created_at": None,
                "buttons": [{"title": "ok"}],
            }
        ],
    }
    [msg] = handler.messages
    assert (msg.channel, msg.channel_user_id, msg.channel_message_id, msg.lang) == (
        "app",
        "shop:u-1",
        "m-1",
        "en",
    )
    assert msg.metadata == {"app_id": "shop", "tier": "A", "customer": {"member_id": "M1"}}


async def test_each_app_signs_with_its_own_secret(
    client: SanicASGITestClient, handler: RecordingHandler
) -> None:
    body = json.dumps(message(app_id="other")).encode()
    assert (await post(client, body, signed(body, OTHER)))[0] == 200
    status, data = await post(client, body, signed(body, OTHER, secret=SHOP.secret))
    assert (status, data["error"]["code"]) == (401, "bad_signature")
    assert [m.entry_point for m in handler.messages] == ["other"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-Kefu-App": "nobody"}, "unknown_app"),
        ({"X-Kefu-App": ""}, "unknown_app"),
        ({"X-Kefu-Signature": "sha256=" + "0" * 64}, "bad_signature"),
        ({"X-Kefu-Signature": ""}, "bad_signature"),
        ({"X-Kefu-Timestamp": "yesterday"}, "bad_timestamp"),
    ],
)
async def test_bad_headers_are_401(
    client: SanicASGITestClient, handler: RecordingHandler, headers: dict[str, str], code: str
) -> None:
    body = json.dumps(message()).encode()
    status, data = await post(client, body, {**signed(body), **headers})
    assert (status, data["error"]["code"]) == (401, code)
    assert handler.messages == []


async def test_missing_headers_are_401(client: SanicASGITestClient, handler: RecordingHandler) -> None:
    body = json.dumps(message()).encode()
    for missing, code in [("X-Kefu-App", "unknown_app"), ("X-Kefu-Signature", "bad_signature")]:
        headers = {k: v for k, v in signed(body).items() if k != missing}
        status, data = await post(client, body, headers)
        assert (status, data["error"]["code"]) == (401, code)
    assert handler.messages == []


async def test_signature_covers_the_body(client: SanicASGITestClient, handler: RecordingHandler) -> None:
    body = json.dumps(message()).encode()
    status, data = await post(client, json.dumps(message(text="evil")).encode(), signed(body))
    assert (status, data["error"]["code"]) == (401, "bad_signature")
    assert handler.messages == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
async def test_stale_and_future_timestamps_are_401(
    client: SanicASGITestClient, handler: RecordingHandler, skew: int
) -> None:
    body = json.dumps(message()).encode()
    status, data = await post(client, body, signed(body, ts=NOW + skew))
    assert (status, data["error"]["code"]) == (401, "stale_timestamp")
    assert handler.messages == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (json.dumps(message(app_id="other")).encode(), "app_id_mismatch"),
        (json.dumps(message(user_id="no spaces")).encode(), "invalid_user_id"),
        (json.dumps(message(text="x" * 2001)).encode(), "text_too_long"),
        (json.dumps(message(message_id=None)).encode(), "invalid_message_id"),
        (json.dumps(message(tier="vip")).encode(), "invalid_tier"),
        (b"{not json", "invalid_json"),
        (b"[]", "invalid_json"),
    ],
)
async def test_invalid_bodies_are_422(
    client: SanicASGITestClient, handler: RecordingHandler, raw: bytes, code: str
) -> None:
    status, data = await post(client, raw, signed(raw))
    assert (status, data["error"]["code"]) == (422, code)
    assert handler.messages == []
