"""The action server answers only Rasa: every call but /health needs the shared secret; each
action call is logged under the id of the service request that led to it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import rasa_sdk
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from core.settings import SettingsError
from service.action_server import SECRET_HEADER, create_app
from service.logs import JsonFormatter

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


class JsonLines(logging.Handler):
    """Formats each record as it is emitted, while the request's context is current."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(JsonFormatter().format(record)))


@pytest.mark.parametrize(("given", "logged"), [("req-7f3a", "req-7f3a"), ("bad id; drop", None)])
async def test_an_action_call_is_logged_under_the_service_request_id(
    app: Sanic[Any, Any], given: str, logged: str | None
) -> None:
    call = {**CALL, "tracker": {"latest_message": {"text": "hi", "metadata": {"request_id": given}}}}
    handler = JsonLines()
    logger = logging.getLogger("kefu.actions")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        await app.asgi_client.post("/webhook", json=call, headers={SECRET_HEADER: SECRET})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [entry for entry in handler.lines if entry["message"] == "running action_nobody_wrote"]
    if logged is None:
        assert line.get("request_id") != given  # an insane id is never taken
    else:
        assert line["request_id"] == logged
