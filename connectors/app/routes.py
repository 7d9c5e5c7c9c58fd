"""``POST /api/app/messages``: a signed message from an app backend, handed to the core."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from connectors.app.errors import UnknownApp
from connectors.app.inbound import parse_app_message
from connectors.app.signing import APP_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from connectors.base import InboundHandler, parse_json_object
from connectors.web import result_json
from core.app_clients import AppClient


def authenticate(request: Request, clients: Mapping[str, AppClient], now: float) -> AppClient:
    """The app that signed this request, or a 401 with a stable code."""
    client = clients.get(request.headers.get(APP_HEADER, ""))
    if client is None:
        raise UnknownApp(f"{APP_HEADER} does not name a configured app")
    verify(
        client.secret,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        request.body,
        now,
    )
    return client


def create_blueprint(
    handler: InboundHandler,
    clients: Mapping[str, AppClient],
    clock: Callable[[], float] = time.time,
) -> Blueprint:
    bp = Blueprint("app_channel", url_prefix="/api/app")

    @bp.post("/messages")
    async def post_message(request: Request) -> HTTPResponse:
        client = authenticate(request, clients, clock())
        msg = parse_app_message(parse_json_object(request.body), client.app_id)
        return json_response(result_json(await handler.handle(msg)))

    return bp
