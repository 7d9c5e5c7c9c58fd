"""The action server answers only Rasa: every call but /health needs the shared secret."""

from __future__ import annotations

from typing import Any

import pytest
import rasa_sdk
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from core.settings import SettingsError
from service.action_server import SECRET_HEADER, create_app

SECRET = "actions-secret-0123456789abcdef"
CALL = {
    "next_action": "action_nobody_wrote",
    "sender_id": "c1",
    "tracker": {},
    "domain": {},
    "version": rasa_sdk.__version__,
}


@pytest.fixture
def app() -> Sanic[Any, Any]:
    Sanic.test_mode = True
    return create_app(ActionExecutor(), SECRET)


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}])
async def test_a_call_without_the_secret_is_refused(app: Sanic[Any, Any], headers: dict[str, str]) -> None:
    _, resp = await app.asgi_client.post("/webhook", json=CALL, headers=headers)
    assert resp.status == 401 and resp.json["error"]["code"] == "bad_actions_secret"
    _, resp = await app.asgi_client.get("/actions", headers=headers)
    assert resp.status == 401


async def test_rasa_with_the_secret_reaches_the_actions(app: Sanic[Any, Any]) -> None:
    _, resp = await app.asgi_client.post("/webhook", json=CALL, headers={SECRET_HEADER: SECRET})
    assert resp.status == 404 and resp.json["action_name"] == "action_nobody_wrote"  # rasa_sdk's answer
    _, resp = await app.asgi_client.get("/health")  # the readiness probe needs no secret
    assert resp.status == 200


def test_the_server_does_not_start_without_a_secret() -> None:
    with pytest.raises(SettingsError):
        create_app(ActionExecutor(), "")
