"""The web widget channel: JSON over HTTP plus a WebSocket for pushed messages.

A visitor is known by a signed token (``connectors.visitor_token``), sent as the
``X-Kefu-Visitor-Token`` header (on the WebSocket: ``Sec-WebSocket-Protocol: kefu.visitor,
<token>``, since browsers cannot set headers there). A visitor's first message needs none and
gets one back as ``visitor_token``; without a valid token nothing else is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from connectors.base import (
    EventSource,
    InboundHandler,
    SocketSlots,
    TranscriptReader,
    VisitorDirectory,
    optional_lang,
    parse_json_object,
    require_id,
    require_text,
)
from connectors.visitor_token import HEADER, SUBPROTOCOL, VisitorTokens
from core.errors import RateLimited, Unauthenticated, ValidationFailed
from core.types import LAST_MESSAGE_ID, Channel, HandleResult, InboundMessage, message_json


def parse_web_message(data: dict[str, Any]) -> InboundMessage:
    visitor_id = require_id(data.get("visitor_id"), "visitor_id")
    text = require_text(data.get("text"))
    lang = optional_lang(data.get("lang"))
    client_id = data.get("client_message_id")
    client_id = uuid.uuid4().hex if client_id is None else require_id(client_id, "client_message_id")
    return InboundMessage(
        channel=Channel.WEB,
        channel_user_id=visitor_id,
        text=text,
        channel_message_id=client_id,
        lang=lang,
        entry_point=str(data.get("page", ""))[:128],
    )


def result_json(result: HandleResult) -> dict[str, Any]:
    return {
        "conversation_id": result.conversation_id,
        "message_id": result.message_id,
        "state": result.state,
        "duplicate": result.duplicate,
        "replies": [message_json(r) for r in result.replies],
    }


def _after(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:  # "²".isdigit() is true
        raise ValidationFailed("after must be a message id", code="invalid_after")
    return int(raw)


def _bad_token() -> Unauthenticated:
    return Unauthenticated(
        "a valid visitor token is required (X-Kefu-Visitor-Token)", code="invalid_visitor_token"
    )


def socket_token(request: Request) -> str | None:
    """The token offered as ``Sec-WebSocket-Protocol: kefu.visitor, <token>``."""
    offered = [p.strip() for p in request.headers.get("sec-websocket-protocol", "").split(",")]
    if SUBPROTOCOL in offered:
        rest = [p for p in offered if p and p != SUBPROTOCOL]
        return rest[0] if rest else None
    return None


class VisitorGate:
    """Who the request's visitor is, by their token; a claimed ``visitor_id`` must match it."""

    def __init__(self, tokens: VisitorTokens) -> None:
        self.tokens = tokens

    def visitor(self, request: Request, claimed: str | None = None, *, token: str | None = None) -> str:
        visitor_id = self.tokens.visitor_of(token if token is not None else request.headers.get(HEADER))
        if visitor_id is None or (claimed is not None and claimed != visitor_id):
            raise _bad_token()
        return visitor_id

    async def first_contact_or_own(
        self, request: Request, visitor_id: str, visitors: VisitorDirectory, retrying: str = ""
    ) -> None:
        """First contact needs no token (nor does the first message sent again, ``retrying``);
        a visitor who has written before must show theirs."""
        offered = request.headers.get(HEADER)
        if self.tokens.visitor_of(offered) != visitor_id and (
            offered or await visitors.known(Channel.WEB, visitor_id, retrying)
        ):
            raise _bad_token()


def create_blueprint(
    handler: InboundHandler,
    transcripts: TranscriptReader,
    events: EventSource,
    tokens: VisitorTokens,
    visitors: VisitorDirectory,
    slots: SocketSlots | None = None,
) -> Blueprint:
    bp = Blueprint("web_channel", url_prefix="/api/web")
    gate = VisitorGate(tokens)

    @bp.post("/messages")
    async def post_message(request: Request) -> HTTPResponse:
        msg = parse_web_message(parse_json_object(request.body))
        await gate.first_contact_or_own(request, msg.channel_user_id, visitors, msg.channel_message_id)
        body = result_json(await handler.handle(msg))
        body["visitor_token"] = tokens.issue(msg.channel_user_id)
        return json_response(body)

    @bp.get("/conversations/<conversation_id:str>/messages")
    async def get_messages(request: Request, conversation_id: str) -> HTTPResponse:
        claimed = request.args.get("visitor_id")  # optional, from older widgets: must match
        visitor_id = gate.visitor(request, None if claimed is None else require_id(claimed, "visitor_id"))
        transcript = await transcripts.for_customer(
            conversation_id, Channel.WEB, visitor_id, _after(request.args.get("after"))
        )
        return json_response(
            {
                "conversation_id": transcript.conversation_id,
                "state": transcript.state,
                "queue_position": transcript.queue_position,
                "agent_name": transcript.agent_name or None,
                "messages": [message_json(m) for m in transcript.messages],
            }
        )

    @bp.websocket("/ws", subprotocols=[SUBPROTOCOL])  # type: ignore[untyped-decorator]
    async def socket(request: Request, ws: Websocket) -> None:
        visitor_id = gate.visitor(request, token=socket_token(request) or "")
        conversation_id = require_id(request.args.get("conversation_id"), "conversation_id")
        await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, LAST_MESSAGE_ID)
        try:
            async with slots.socket(visitor_id) if slots else contextlib.nullcontext():
                async for event in events.subscribe(conversation_id):
                    await ws.send(json.dumps(event, ensure_ascii=False))
                    await asyncio.sleep(0)
        except RateLimited:  # two replicas raced past the check before the upgrade
            await ws.close(code=4429, reason="rate_limited")

    return bp
