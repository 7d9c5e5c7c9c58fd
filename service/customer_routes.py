"""Customer-side actions beyond sending messages: rating a closed conversation (CSAT), rating
one bot answer ("was this helpful?"), telling the agent the customer is typing, whether people
answer now, leaving a message when they do not; all bound to the customer's own conversation."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import (
    TranscriptReader,
    VisitorDirectory,
    optional_lang,
    parse_json_object,
    require_id,
    require_text,
)
from connectors.web import VisitorGate
from conversations.desk import Desk
from conversations.views import message_json
from core.errors import ValidationFailed
from core.types import LAST_MESSAGE_ID, Channel
from knowledge import usage

MAX_NAME = 64
MAX_CONTACT = 128


def create_blueprint(
    desk: Desk, transcripts: TranscriptReader, gate: VisitorGate, visitors: VisitorDirectory
) -> Blueprint:
    bp = Blueprint("customer_api", url_prefix="/api/web")

    @bp.post("/conversations/<conversation_id:str>/csat")
    async def rate(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        visitor_id = gate.visitor(request, _claimed(body))
        transcript = await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, LAST_MESSAGE_ID)
        rating, comment = body.get("rating"), body.get("comment", "")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ValidationFailed("rating must be a whole number from 1 to 5", code="invalid_rating")
        if not isinstance(comment, str) or len(comment) > 1000:
            raise ValidationFailed("comment must be at most 1000 characters", code="invalid_comment")
        if transcript.state != "closed":
            raise ValidationFailed("only a closed conversation can be rated", code="not_closed")
        await desk.csat.rate(conversation_id, rating, comment)
        return json({"ok": True})

    @bp.post("/conversations/<conversation_id:str>/typing")
    async def typing(request: Request, conversation_id: str) -> HTTPResponse:
        visitor_id = gate.visitor(request, _claimed(parse_json_object(request.body)))
        transcript = await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, LAST_MESSAGE_ID)
        if transcript.state == "agent":
            await desk.routing.customer_typing(conversation_id)
        return json({"ok": True})

    @bp.get("/availability")
    async def availability(request: Request) -> HTTPResponse:
        return json({"open": await desk.messages_left.open_now()})

    @bp.post("/leave-message")
    async def leave_message(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        visitor_id = require_id(body.get("visitor_id"), "visitor_id")
        await gate.first_contact_or_own(request, visitor_id, visitors)
        text = require_text(body.get("text"))
        name, contact = body.get("name", ""), body.get("contact", "")
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise ValidationFailed(f"name must be at most {MAX_NAME} characters", code="invalid_name")
        if not isinstance(contact, str) or not contact.strip() or len(contact) > MAX_CONTACT:
            raise ValidationFailed(
                "give a phone number or e-mail address to reply to", code="invalid_contact"
            )
        left = await desk.messages_left.leave(
            visitor_id,
            name=name.strip(),
            contact=contact.strip(),
            text=text,
            lang=optional_lang(body.get("lang")) or "zh",
        )
        return json(
            {
                "conversation_id": left.conversation_id,
                "ticket_number": left.ticket_number,
                "state": "ticket",
                "replies": [message_json(m) for m in left.replies],
                "visitor_token": gate.tokens.issue(visitor_id),
            },
            status=201,
        )

    return bp


def feedback_blueprint(
    sessions: async_sessionmaker[AsyncSession], transcripts: TranscriptReader, gate: VisitorGate
) -> Blueprint:
    """``POST /api/web/conversations/<id>/messages/<message_id>/feedback {visitor_id, helpful}``."""
    bp = Blueprint("customer_feedback", url_prefix="/api/web")

    @bp.post("/conversations/<conversation_id:str>/messages/<message_id:id>/feedback")
    async def feedback(request: Request, conversation_id: str, message_id: int) -> HTTPResponse:
        body = parse_json_object(request.body)
        visitor_id = gate.visitor(request, _claimed(body))
        helpful = body.get("helpful")
        if not isinstance(helpful, bool):
            raise ValidationFailed("helpful must be true or false", code="invalid_helpful")
        await transcripts.for_customer(conversation_id, Channel.WEB, visitor_id, LAST_MESSAGE_ID)
        async with sessions.begin() as session:
            await usage.rate(session, conversation_id, message_id, helpful)
        return json({"ok": True})

    return bp


def _claimed(body: dict[str, object]) -> str | None:
    """A ``visitor_id`` in the body is optional (older widgets send it) and must match the token."""
    claimed = body.get("visitor_id")
    return None if claimed is None else require_id(claimed, "visitor_id")
