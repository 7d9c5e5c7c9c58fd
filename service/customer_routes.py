"""Customer-side actions beyond sending messages: rating a closed conversation (CSAT)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.base import TranscriptReader, parse_json_object, require_id
from connectors.web import VisitorGate
from conversations.desk import Desk
from core.errors import ValidationFailed
from core.types import Channel


def create_blueprint(desk: Desk, transcripts: TranscriptReader, gate: VisitorGate) -> Blueprint:
    bp = Blueprint("customer_api", url_prefix="/api/web")

    @bp.post("/conversations/<conversation_id:str>/csat")
    async def rate(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        claimed = body.get("visitor_id")  # optional, from older widgets: must match the token
        visitor_id = gate.visitor(request, None if claimed is None else require_id(claimed, "visitor_id"))
        transcript = await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, 2**62)
        rating, comment = body.get("rating"), body.get("comment", "")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ValidationFailed("rating must be a whole number from 1 to 5", code="invalid_rating")
        if not isinstance(comment, str) or len(comment) > 1000:
            raise ValidationFailed("comment must be at most 1000 characters", code="invalid_comment")
        if transcript.state != "closed":
            raise ValidationFailed("only a closed conversation can be rated", code="not_closed")
        await desk.csat.rate(conversation_id, rating, comment)
        return json({"ok": True})

    return bp
