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
from conversations.desk.workspace import ConversationSummary, CustomerPanel
from conversations.realtime import RedisEvents
from conversations.suggest import Suggester
from conversations.tables import Conversation
from conversations.views import iso, message_json
from core.clock import utc_now
from core.errors import ValidationFailed
from handoff import canned as canned_replies
from handoff.auth import Sessions, Staff, require_role
from handoff.events import to_json
from handoff.model import AgentStatus
from handoff.tables import CannedReply
from service.identity_routes import shown_user_id
from service.sockets import still_allowed
from service.ticket_routes import ticket_json
from tickets.model import parse_priority

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
    sessions: Sessions,
    desk: Desk,
    db: async_sessionmaker[AsyncSession],
    suggester: Suggester,
    conversation_events: RedisEvents | None = None,
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
        return json_response({"conversations": [_list_row(c) for c in rows]})

    @bp.get("/conversations/<conversation_id:str>")
    @guard
    async def transcript(request: Request, conversation_id: str) -> HTTPResponse:
        view = await desk.workspace.view(_staff(request), conversation_id)
        conv = view.conversation
        return json_response(
            {
                **_summary(conv),
                "customer": {"id": conv.customer_id, "tier": view.tier, "name": view.customer_name},
                "handoff_reason": view.handoff_reason,
                "queue_wait_seconds": view.queue_wait,
                "messages": [
                    {
                        **message_json(m),
                        "author": (m.payload or {}).get("agent"),
                        "client_id": m.client_message_id if m.sender == "agent" else None,
                        "delivery": view.delivery.get(m.id),
                    }
                    for m in view.messages
                ],
            }
        )

    @bp.get("/conversations/<conversation_id:str>/customer")
    @guard
    async def customer(request: Request, conversation_id: str) -> HTTPResponse:
        panel = await desk.workspace.customer_panel(_staff(request), conversation_id)
        return json_response(_panel_json(panel))

    @bp.post("/conversations/<conversation_id:str>/messages/<message_id:id>/retry")
    @guard
    async def retry(request: Request, conversation_id: str, message_id: int) -> HTTPResponse:
        outcome = await desk.agents.retry(_staff(request), conversation_id, message_id)
        return json_response({"delivery": str(outcome)})

    @bp.post("/conversations/<conversation_id:str>/typing")
    @guard
    async def typing(request: Request, conversation_id: str) -> HTTPResponse:
        conv = await desk.workspace.held(_staff(request), conversation_id)
        if conversation_events is not None and conv.state == "agent":
            await conversation_events.typing(conv.id, "agent")
        return json_response({"ok": True})

    @bp.post("/conversations/<conversation_id:str>/ticket")
    @guard
    async def make_ticket(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        subject = body.get("subject")
        if subject is not None and (not isinstance(subject, str) or len(subject) > 256):
            raise ValidationFailed("subject must be at most 256 characters", code="invalid_subject")
        view = await desk.agents.create_ticket(
            _staff(request),
            conversation_id,
            subject=subject.strip() or None if isinstance(subject, str) else None,
            priority=parse_priority(body.get("priority", "normal")),
            now=utc_now(),
        )
        return json_response({"ticket": ticket_json(view)}, status=201)

    @bp.get("/transfer-targets")
    @guard
    async def transfer_targets(request: Request) -> HTTPResponse:
        people, groups = await desk.agents.transfer_targets(_staff(request))
        return json_response(
            {
                "agents": [
                    {"username": u.username, "display_name": u.display_name or u.username, "status": status}
                    for u, status in people
                ],
                "groups": groups,
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
        rows = await canned_replies.visible(db, _staff(request))
        return json_response({"canned": [_canned_json(r) for r in rows]})

    @bp.post("/canned")
    @guard
    async def add_canned(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        shortcut, text, lang = canned_replies.check(
            body.get("shortcut"), body.get("text"), body.get("lang", "zh")
        )
        async with db.begin() as session:
            row = await canned_replies.create(
                session, _staff(request), shortcut, text, lang, shared=bool(body.get("shared"))
            )
            out = _canned_json(row)
        return json_response({"canned": out}, status=201)

    @bp.put("/canned/<reply_id:id>")
    @guard
    async def edit_canned(request: Request, reply_id: int) -> HTTPResponse:
        body = parse_json_object(request.body)
        shortcut, text, lang = canned_replies.check(
            body.get("shortcut"), body.get("text"), body.get("lang", "zh")
        )
        async with db.begin() as session:
            row = await canned_replies.update(session, _staff(request), reply_id, shortcut, text, lang)
            out = _canned_json(row)
        return json_response({"canned": out})

    @bp.delete("/canned/<reply_id:id>")
    @guard
    async def delete_canned(request: Request, reply_id: int) -> HTTPResponse:
        async with db.begin() as session:
            await canned_replies.delete(session, _staff(request), reply_id)
        return json_response({"ok": True})

    @bp.websocket("/ws")  # type: ignore[untyped-decorator]
    async def events(request: Request, ws: Websocket) -> None:
        # Browsers cannot set headers on a WebSocket: the console first gets a one-time ticket
        # (POST /api/auth/ws-ticket, valid 30 s), so the session token never goes into a URL.
        grant = await sessions.open_socket(request.args.get("ticket") or "", "agent")
        staff = grant.staff
        user = await desk.presence.get(str(staff.user_id))
        groups = sorted(user.skills) if user else []
        async with desk.agents.queue_events(agents=[str(staff.user_id)], groups=groups) as sub:
            while True:
                event = await sub.get(timeout=10)
                # Revoked (logout everywhere, disabled, role taken away): the socket ends.
                now_staff = await still_allowed(ws, sessions, grant, "agent")
                if now_staff is None:
                    return
                staff = now_staff
                await desk.assignments.heartbeat(staff)
                if event is not None:
                    await ws.send(to_json(event))
                await asyncio.sleep(0)

    return bp


def _canned_json(row: CannedReply) -> dict[str, Any]:
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "lang": row.lang,
        "text": row.text,
        "shared": row.owner_id is None,
    }


def _list_row(row: ConversationSummary) -> dict[str, Any]:
    return {
        **_summary(row.conversation),
        "customer_name": row.customer_name,
        "tier": row.tier,
        "last_message": {"text": row.last_text, "sender": row.last_sender, "at": iso(row.last_at) or None},
        "unread": row.unread,
        "waiting_since": iso(row.waiting_since) or None,
    }


def _panel_json(panel: CustomerPanel) -> dict[str, Any]:
    customer = panel.customer
    return {
        "id": customer.id,
        "name": customer.display_name,
        "tier": customer.tier,
        "lang": customer.lang,
        "identities": [
            {
                "channel": i.channel,
                "id": shown_user_id(i.channel, i.channel_user_id),
                "since": iso(i.created_at),
            }
            for i in panel.identities
        ],
        "conversations": [{**_summary(c), "created_at": iso(c.created_at)} for c in panel.conversations],
        "tickets": [
            {"number": t.number, "subject": t.subject, "status": t.status, "created_at": iso(t.created_at)}
            for t in panel.tickets
        ],
        "ratings": [
            {
                "conversation_id": r.conversation_id,
                "rating": r.rating,
                "comment": r.comment,
                "at": iso(r.created_at),
            }
            for r in panel.ratings
        ],
    }


def _summary(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "state": conv.state,
        "channel": conv.channel,
        "lang": conv.lang,
        "customer_id": conv.customer_id,
        "updated_at": iso(conv.updated_at) or None,
    }


__all__ = ["create_blueprint", "json"]
