"""The agent workspace API (bearer token; agent, supervisor or admin role)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object, require_id, require_text
from conversations.desk import Desk
from conversations.suggest import Suggester
from conversations.tables import Conversation
from conversations.views import message_json
from core.errors import Unauthenticated, ValidationFailed
from handoff import canned as canned_replies
from handoff.auth import Sessions, Staff, require_role
from handoff.events import to_json
from handoff.model import AgentStatus

AGENT_ROLES = ("agent",)


def _staff(request: Request) -> Staff:
    staff: Staff = request.ctx.staff
    return staff


def _optional_str(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationFailed(f"{field} must be a short string", code=f"invalid_{field}")
    return value


def create_blueprint(
    sessions: Sessions, desk: Desk, db: async_sessionmaker[AsyncSession], suggester: Suggester
) -> Blueprint:
    bp = Blueprint("agent_api", url_prefix="/api/agent")
    guard = require_role(sessions, AGENT_ROLES)

    @bp.put("/status")
    @guard
    async def set_status(request: Request) -> HTTPResponse:
        raw = parse_json_object(request.body).get("status")
        if raw not in ("online", "away", "offline"):
            raise ValidationFailed('status must be "online", "away" or "offline"', code="invalid_status")
        await desk.assignments.set_status(_staff(request), AgentStatus(raw))
        return json_response({"status": raw})

    @bp.get("/conversations")
    @guard
    async def mine(request: Request) -> HTTPResponse:
        rows = await desk.workspace.mine(_staff(request))
        return json_response({"conversations": [_summary(c) for c in rows]})

    @bp.get("/conversations/<conversation_id:str>")
    @guard
    async def transcript(request: Request, conversation_id: str) -> HTTPResponse:
        view = await desk.workspace.view(_staff(request), conversation_id)
        conv = view.conversation
        return json_response(
            {
                **_summary(conv),
                "customer": {"id": conv.customer_id, "tier": view.tier},
                "handoff_reason": view.handoff_reason,
                "messages": [message_json(m) for m in view.messages],
            }
        )

    @bp.post("/conversations/<conversation_id:str>/messages")
    @guard
    async def reply(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        text = require_text(body.get("text"))
        client_id = body.get("client_message_id")
        client_id = None if client_id is None else require_id(client_id, "client_message_id")
        message = await desk.agents.reply(_staff(request), conversation_id, text, client_message_id=client_id)
        return json_response({"message": message_json(message)})

    @bp.post("/conversations/<conversation_id:str>/notes")
    @guard
    async def note(request: Request, conversation_id: str) -> HTTPResponse:
        text = require_text(parse_json_object(request.body).get("text"))
        message = await desk.agents.note(_staff(request), conversation_id, text)
        return json_response({"message": message_json(message)})

    @bp.post("/conversations/<conversation_id:str>/transfer")
    @guard
    async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        to_agent, to_group = _optional_str(body, "to_agent"), _optional_str(body, "to_group")
        if (to_agent is None) == (to_group is None):
            raise ValidationFailed("give exactly one of to_agent or to_group", code="bad_transfer")
        note_text = body.get("note") or ""
        if not isinstance(note_text, str) or len(note_text) > 2000:
            raise ValidationFailed("note must be a string of at most 2000 characters", code="invalid_note")
        await desk.agents.transfer(
            _staff(request), conversation_id, to_agent=to_agent, to_group=to_group, note=note_text
        )
        return json_response({"ok": True})

    @bp.post("/conversations/<conversation_id:str>/close")
    @guard
    async def close(request: Request, conversation_id: str) -> HTTPResponse:
        await desk.agents.close(_staff(request), conversation_id)
        return json_response({"ok": True, "state": "closed"})

    @bp.get("/conversations/<conversation_id:str>/suggestions")
    @guard
    async def suggestions(request: Request, conversation_id: str) -> HTTPResponse:
        conv = await desk.workspace.held(_staff(request), conversation_id)
        found = await suggester.for_conversation(conv.id)
        return json_response({"suggestions": found})

    @bp.post("/conversations/<conversation_id:str>/suggestions/send")
    @guard
    async def send_suggestion(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        text = require_text(body.get("text"))
        source, key = body.get("source"), body.get("key")
        if source not in ("faq", "reply") or not isinstance(key, str) or not key or len(key) > 128:
            raise ValidationFailed(
                'source must be "faq" or "reply" and key a string', code="invalid_suggestion"
            )
        message = await desk.agents.send_suggestion(
            _staff(request), conversation_id, text, source=source, key=key, edited=bool(body.get("edited"))
        )
        return json_response({"message": message_json(message)})

    @bp.get("/canned")
    @guard
    async def canned(request: Request) -> HTTPResponse:
        rows = await canned_replies.all_replies(db)
        return json_response(
            {"canned": [{"shortcut": r.shortcut, "lang": r.lang, "text": r.text} for r in rows]}
        )

    @bp.websocket("/ws")  # type: ignore[untyped-decorator]
    async def events(request: Request, ws: Websocket) -> None:
        # Browsers cannot set headers on a WebSocket: the console first gets a one-time ticket
        # (POST /api/auth/ws-ticket, valid 30 s), so the session token never goes into a URL.
        ticket = request.args.get("ticket") or ""
        if not ticket:
            raise Unauthenticated("a ticket query parameter is required", code="missing_ticket")
        grant = await sessions.redeem_ws_ticket(ticket)
        staff = grant.staff
        if not staff.may("agent"):
            raise Unauthenticated("this needs the agent role", code="forbidden_role")
        user = await desk.presence.get(str(staff.user_id))
        groups = sorted(user.skills) if user else []
        async with desk.agents.queue_events(agents=[str(staff.user_id)], groups=groups) as sub:
            while True:
                event = await sub.get(timeout=10)
                # Revoked (logout everywhere, disabled, role taken away): the socket ends.
                try:
                    staff = await sessions.still_valid(grant)
                except Unauthenticated:
                    await ws.close(code=4401, reason="session ended")
                    return
                if not staff.may("agent"):
                    await ws.close(code=4403, reason="role changed")
                    return
                await desk.assignments.heartbeat(staff)
                if event is not None:
                    await ws.send(to_json(event))
                await asyncio.sleep(0)

    return bp


def _summary(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "state": conv.state,
        "channel": conv.channel,
        "lang": conv.lang,
        "customer_id": conv.customer_id,
        "updated_at": conv.updated_at.isoformat() if conv.updated_at else None,
    }


__all__ = ["create_blueprint", "json"]
