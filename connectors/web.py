"""The web widget channel: JSON over HTTP plus a WebSocket for pushed messages."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from connectors.base import (
    EventSource,
    InboundHandler,
    TranscriptReader,
    optional_lang,
    parse_json_object,
    require_id,
    require_text,
)
from core.errors import ValidationFailed
from core.types import Channel, HandleResult, InboundMessage, message_json


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


def create_blueprint(
    handler: InboundHandler, transcripts: TranscriptReader, events: EventSource
) -> Blueprint:
    bp = Blueprint("web_channel", url_prefix="/api/web")

    @bp.post("/messages")
    async def post_message(request: Request) -> HTTPResponse:
        msg = parse_web_message(parse_json_object(request.body))
        return json_response(result_json(await handler.handle(msg)))

    @bp.get("/conversations/<conversation_id:str>/messages")
    async def get_messages(request: Request, conversation_id: str) -> HTTPResponse:
        visitor_id = require_id(request.args.get("visitor_id"), "visitor_id")
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

    @bp.websocket("/ws")  # type: ignore[untyped-decorator]
    async def socket(request: Request, ws: Websocket) -> None:
        visitor_id = require_id(request.args.get("visitor_id"), "visitor_id")
        conversation_id = require_id(request.args.get("conversation_id"), "conversation_id")
        await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, 2**62)
        async for event in events.subscribe(conversation_id):
            await ws.send(json.dumps(event, ensure_ascii=False))
            await asyncio.sleep(0)

    return bp
