"""POST /api/auth/login and /api/auth/logout."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.base import parse_json_object
from core.errors import ValidationFailed
from handoff.auth import Sessions, bearer_token


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

    return bp
