"""Tickets for staff: list and search, one ticket with its history and transcript, change, reply, note.

Agents, supervisors and admins may use every route (knowledge editors may not). A reply is
committed first, then delivered to the customer's own channel through Outbound.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object, require_text
from conversations import tickets as service
from conversations.tables import Conversation, Message
from core.clock import utc_now
from core.errors import NotFound, ValidationFailed
from core.types import message_json
from handoff.auth import Sessions, Staff, require_role
from tickets.group_hours import group_problems
from tickets.model import (
    EventView,
    TicketChange,
    TicketFilter,
    TicketView,
    parse_priority,
    parse_status,
    parse_tags,
)
from tickets.sla import DEFAULT_SLA_TABLE, SlaTable

log = logging.getLogger(__name__)

ROLES = ("agent",)  # granted to agents, supervisors and admins; not to editors
NUMBER = re.compile(r"^T\d{8}-\d{4,6}$")
PATCH_FIELDS = frozenset({"status", "priority", "assignee", "tags"})
MAX_TEXT = 4000
MAX_QUERY = 100
MAX_PAGE = 10_000
PAGE_SIZE = 20


class TicketOutbound(service.MessageSink, Protocol):
    """conversations.outbound.Outbound: stores a staff message, and delivers it once committed."""

    async def deliver(self, conv: Conversation, message: Message) -> bool: ...


def create_blueprint(
    staff_sessions: Sessions,
    sessions: async_sessionmaker[AsyncSession],
    outbound: TicketOutbound,
    *,
    clock: Callable[[], datetime] = utc_now,
    table: SlaTable = DEFAULT_SLA_TABLE,
    warn_before: timedelta = service.DEFAULT_WARN_BEFORE,
) -> Blueprint:
    bp = Blueprint("tickets", url_prefix="/api/tickets")
    staff_only = require_role(staff_sessions, ROLES)

    @bp.get("")
    @staff_only
    async def list_tickets(request: Request) -> HTTPResponse:
        wanted = parse_filter(request.args, request.ctx.staff)
        async with sessions() as session:
            page = await service.list_tickets(session, wanted, now=clock(), warn_before=warn_before)
        return json(
            {
                "tickets": [ticket_json(view) for view in page.tickets],
                "total": page.total,
                "page": page.page,
                "page_size": page.page_size,
            }
        )

    @bp.get("/<number:str>")
    @staff_only
    async def get_ticket(request: Request, number: str) -> HTTPResponse:
        async with sessions() as session:
            detail = await service.ticket_detail(
                session, check_number(number), now=clock(), warn_before=warn_before
            )
        return json(
            {
                "ticket": ticket_json(detail.ticket),
                "events": [event_json(event) for event in detail.events],
                "transcript": [message_json(line) for line in detail.transcript],
            }
        )

    @bp.patch("/<number:str>")
    @staff_only
    async def patch_ticket(request: Request, number: str) -> HTTPResponse:
        change = parse_change(parse_json_object(request.body))
        async with sessions.begin() as session:
            view = await service.update_ticket(
                session, check_number(number), change, actor=actor(request), now=clock(), table=table
            )
        return json({"ticket": ticket_json(view)})

    @bp.post("/<number:str>/replies")
    @staff_only
    async def post_reply(request: Request, number: str) -> HTTPResponse:
        text = require_text(parse_json_object(request.body).get("text"), max_len=MAX_TEXT)
        async with sessions.begin() as session:
            result = await service.reply(
                session,
                check_number(number),
                text,
                actor=actor(request),
                now=clock(),
                sink=outbound,
                table=table,
            )
        delivered = await deliver(outbound, result)
        body = {"ticket": ticket_json(result.ticket), "message_id": result.message.id, "delivered": delivered}
        return json(body, status=201)

    @bp.post("/<number:str>/notes")
    @staff_only
    async def post_note(request: Request, number: str) -> HTTPResponse:
        text = require_text(parse_json_object(request.body).get("text"), max_len=MAX_TEXT)
        async with sessions.begin() as session:
            view = await service.add_note(
                session, check_number(number), text, actor=actor(request), now=clock()
            )
        return json({"ticket": ticket_json(view)}, status=201)

    return bp


async def deliver(outbound: TicketOutbound, result: service.ReplyResult) -> bool:
    """Send the committed reply; a channel failure is logged, the reply stays stored."""
    delivered = await outbound.deliver(result.conversation, result.message)  # logs its own failures
    if not delivered:
        log.warning("ticket %s: reply %s stored but not delivered", result.ticket.number, result.message.id)
    return delivered


def actor(request: Request) -> str:
    staff: Staff = request.ctx.staff
    return service.staff_actor(staff.username)


def check_number(number: str) -> str:
    if not NUMBER.match(number):
        raise NotFound(f"ticket {number[:40]} not found", code="ticket_not_found")
    return number


def parse_filter(args: Any, staff: Staff) -> TicketFilter:
    status, priority, group = args.get("status"), args.get("priority"), args.get("group")
    if group is not None and group_problems(group):
        raise ValidationFailed(group_problems(group)[0], code="invalid_group")
    assignee, unassigned = parse_assignee_filter(args.get("assignee"), staff)
    text = (args.get("q") or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"q must be at most {MAX_QUERY} characters", code="invalid_q")
    return TicketFilter(
        status=None if status is None else parse_status(status),
        priority=None if priority is None else parse_priority(priority),
        group=group,
        assignee_id=assignee,
        unassigned=unassigned,
        text=text,
        page=parse_page(args.get("page")),
        page_size=PAGE_SIZE,
    )


def parse_assignee_filter(value: str | None, staff: Staff) -> tuple[int | None, bool]:
    """``assignee=`` a user id, ``me`` or ``none`` (unassigned)."""
    if value is None:
        return None, False
    if value == "none":
        return None, True
    if value == "me":
        return staff.user_id, False
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value), False
    raise ValidationFailed("assignee must be a user id, 'me' or 'none'", code="invalid_assignee")


def parse_page(value: str | None) -> int:
    if value is None:
        return 1
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    raise ValidationFailed(f"page must be a whole number from 1 to {MAX_PAGE}", code="invalid_page")


def parse_change(body: dict[str, Any]) -> TicketChange:
    unknown = sorted(set(body) - PATCH_FIELDS)
    if unknown:
        fields = ", ".join(sorted(PATCH_FIELDS))
        raise ValidationFailed(f"unknown fields {unknown}; allowed: {fields}", code="unknown_field")
    if not body:
        raise ValidationFailed("nothing to change", code="empty_change")
    assignee = body.get("assignee")
    if assignee is not None and (isinstance(assignee, bool) or not isinstance(assignee, int) or assignee < 1):
        raise ValidationFailed("assignee must be a user id or null", code="invalid_assignee")
    return TicketChange(
        status=parse_status(body["status"]) if "status" in body else None,
        priority=parse_priority(body["priority"]) if "priority" in body else None,
        assignee_id=assignee,
        assignee_set="assignee" in body,
        tags=parse_tags(body["tags"]) if "tags" in body else None,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def ticket_json(view: TicketView) -> dict[str, Any]:
    sla = (
        None
        if view.sla is None
        else {"first_response": view.sla.first_response, "resolution": view.sla.resolution}
    )
    return {
        "number": view.number,
        "subject": view.subject,
        "status": view.status,
        "priority": view.priority,
        "group": view.group,
        "channel": view.channel,
        "customer_id": view.customer_id,
        "conversation_id": view.conversation_id,
        "assignee_id": view.assignee_id,
        "tags": list(view.tags),
        "first_response_due": _iso(view.first_response_due),
        "resolution_due": _iso(view.resolution_due),
        "first_responded_at": _iso(view.first_responded_at),
        "resolved_at": _iso(view.resolved_at),
        "pending_since": _iso(view.pending_since),
        "created_at": _iso(view.created_at),
        "updated_at": _iso(view.updated_at),
        "sla": sla,
    }


def event_json(event: EventView) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "actor": event.actor,
        "data": event.data,
        "created_at": _iso(event.created_at),
    }
