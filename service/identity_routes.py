"""One customer across channels, for staff.

``GET /api/customers/<id>`` (agents and up): the customer with tier, identities (channels,
phone, member id) and every conversation on every channel; a merged id shows the customer it
was merged into. ``GET /api/customers?conversation_id=|phone=|member_id=`` finds one.
``POST /api/admin/identities/link`` and ``/attach`` (supervisors and admins) merge customers
and give a customer a phone or member id (merging with whoever already holds it).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import ID_PATTERN, parse_json_object
from conversations import identities, repo
from conversations.tables import ChannelIdentity, Conversation, IdentityMerge
from core.errors import NotFound, ValidationFailed
from core.types import Channel
from handoff.auth import Sessions, require_role

READERS = ("agent",)  # agents, supervisors and admins
LINKERS = ("admin", "supervisor")
MAX_REASON = 128


def create_blueprint(staff_sessions: Sessions, sessions: async_sessionmaker[AsyncSession]) -> Blueprint:
    bp = Blueprint("identities")

    @bp.get("/api/customers/<customer_id:str>")
    @require_role(staff_sessions, READERS)
    async def get_customer(request: Request, customer_id: str) -> HTTPResponse:
        async with sessions() as session:
            return json(await customer_json(session, require_customer_id(customer_id)))

    @bp.get("/api/customers")
    @require_role(staff_sessions, READERS)
    async def find_customer(request: Request) -> HTTPResponse:
        async with sessions() as session:
            found = await lookup(session, request.args)
            if found is None:
                raise NotFound("no customer matches", code="customer_not_found")
            return json(await customer_json(session, found))

    @bp.post("/api/admin/identities/link")
    @require_role(staff_sessions, LINKERS)
    async def link(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        kept = require_customer_id(body.get("customer_id"))
        other = require_customer_id(body.get("other_customer_id"))
        reason = require_reason(body.get("reason"))
        async with sessions.begin() as session:
            kept = await identities.link(session, kept, other, reason, actor(request))
        async with sessions() as session:
            return json(await customer_json(session, kept))

    @bp.post("/api/admin/identities/attach")
    @require_role(staff_sessions, LINKERS)
    async def attach(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        customer_id = require_customer_id(body.get("customer_id"))
        claims = attach_claims(body)
        reason = str(body.get("reason") or "attached by staff")[:MAX_REASON]
        async with sessions.begin() as session:
            for kind, value in claims:
                customer_id = await identities.attach(
                    session, customer_id, kind, value, reason=reason, actor=actor(request), keep_owner=False
                )
        async with sessions() as session:
            return json(await customer_json(session, customer_id))

    return bp


def actor(request: Request) -> str:
    return f"staff:{request.ctx.staff.username}"


def require_customer_id(value: object) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ValidationFailed("customer ids are 1-64 of A-Z a-z 0-9 _ -", code="invalid_customer_id")
    return value


def require_reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON:
        raise ValidationFailed(f"reason must be 1-{MAX_REASON} characters", code="invalid_reason")
    return value.strip()


def attach_claims(body: dict[str, Any]) -> list[tuple[str, str]]:
    claims = []
    for field, kind in (("phone", identities.PHONE), ("member_id", identities.MEMBER)):
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationFailed(f"{field} must be a string", code=f"invalid_{field}")
        claims.append((kind, identities.normalize(kind, value)))
    if not claims:
        raise ValidationFailed("give phone and/or member_id", code="nothing_to_attach")
    return claims


async def lookup(session: AsyncSession, args: Any) -> str | None:
    conversation_id = args.get("conversation_id")
    if conversation_id:
        return await repo.customer_of(session, require_customer_id(conversation_id))
    phone, member_id = args.get("phone"), args.get("member_id")
    if not phone and not member_id:
        raise ValidationFailed("give conversation_id, phone or member_id", code="missing_query")
    return await identities.find_by_phone_or_member(session, phone=phone, member_id=member_id)


async def customer_json(session: AsyncSession, customer_id: str) -> dict[str, Any]:
    live = await identities.resolve(session, customer_id)
    customer = await identities.customer(session, live)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
    return {
        "id": customer.id,
        "requested_id": customer_id,
        "display_name": customer.display_name,
        "tier": customer.tier,
        "lang": customer.lang,
        "created_at": customer.created_at.isoformat(),
        "identities": [identity_json(i) for i in await identities.identities_of(session, live)],
        "conversations": [conversation_json(c) for c in await identities.conversations_of(session, live)],
        "merged": [merge_json(m) for m in await identities.merges_into(session, live)],
    }


def shown_user_id(channel: str, channel_user_id: str) -> str:
    """What staff see of a channel user id. A web visitor id is the widget's own secret-ish handle
    (it names the visitor in the widget's storage), so staff see only a stable digest of it."""
    if channel != Channel.WEB:
        return channel_user_id
    return "visitor-" + hashlib.sha256(channel_user_id.encode()).hexdigest()[:12]


def identity_json(identity: ChannelIdentity) -> dict[str, Any]:
    return {
        "channel": identity.channel,
        "channel_user_id": shown_user_id(identity.channel, identity.channel_user_id),
        "created_at": identity.created_at.isoformat(),
    }


def conversation_json(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "channel": conv.channel,
        "channel_user_id": shown_user_id(conv.channel, conv.channel_user_id),
        "entry_point": conv.entry_point,
        "state": conv.state,
        "lang": conv.lang,
        "created_at": conv.created_at.isoformat(),
        "updated_at": conv.updated_at.isoformat(),
    }


def merge_json(merge: IdentityMerge) -> dict[str, Any]:
    return {
        "customer_id": merge.merged_customer_id,
        "reason": merge.reason,
        "actor": merge.actor,
        "created_at": merge.created_at.isoformat(),
    }
