"""POST /api/auth/login, /api/auth/logout, /api/auth/logout-everywhere and /api/auth/ws-ticket."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.base import parse_json_object
from core.errors import ValidationFailed
from handoff.auth import WS_TICKET_TTL, Sessions, bearer_token


def create_blueprint(sessions: Sessions) -> Blueprint:
    bp = Blueprint("auth", url_prefix="/api/auth")

    @bp.post("/login")
    async def login(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise ValidationFailed("username and password are required strings", code="invalid_credentials")
        ip = request.remote_addr or request.ip
        token, staff = await sessions.login(username[:64], password[:256], ip)
        return json({"token": token, "role": staff.role, "username": staff.username})

    @bp.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        await sessions.logout(bearer_token(request))
        return json({"ok": True})

    @bp.post("/logout-everywhere")
    async def logout_everywhere(request: Request) -> HTTPResponse:
        staff = await sessions.resolve(bearer_token(request))
        ended = await sessions.logout_everywhere(staff.user_id)
        return json({"ok": True, "sessions_ended": ended})

    @bp.post("/ws-ticket")
    async def ws_ticket(request: Request) -> HTTPResponse:
        ticket = await sessions.issue_ws_ticket(bearer_token(request))
        return json({"ticket": ticket, "expires_in": WS_TICKET_TTL})

    return bp
