"""Admin tools for the app channel's webhook deliveries: list dead letters, re-drive one.

``GET /api/admin/app/dead-letters?limit=50`` lists jobs that failed for good, newest first;
``POST /api/admin/app/dead-letters/<job_id>/redrive`` queues one again with a fresh attempt
budget (404 ``dead_letter_not_found`` if it is not dead). Admins only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import redis.asyncio as aioredis
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.app.delivery import list_dead_letters, redrive
from connectors.base import ID_PATTERN
from core.errors import NotFound, ValidationFailed
from handoff.auth import Sessions, require_role

ROLES = ("admin",)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def create_blueprint(staff_sessions: Sessions, redis: aioredis.Redis) -> Blueprint:
    bp = Blueprint("admin_app", url_prefix="/api/admin/app")
    admin_only = require_role(staff_sessions, ROLES)

    @bp.get("/dead-letters")
    @admin_only
    async def dead_letters(request: Request) -> HTTPResponse:
        letters = await list_dead_letters(redis, parse_limit(request.args.get("limit")))
        return json({"dead_letters": [asdict(letter) for letter in letters]})

    @bp.post("/dead-letters/<job_id:str>/redrive")
    @admin_only
    async def redrive_one(request: Request, job_id: str) -> HTTPResponse:
        if not ID_PATTERN.match(job_id):
            raise NotFound(f"no dead letter {job_id!r}", code="dead_letter_not_found")
        await redrive(redis, job_id)
        return json({"job_id": job_id, "redriven": True})

    return bp


def parse_limit(raw: Any) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be 1-{MAX_LIMIT}", code="invalid_limit")
    return int(raw)
