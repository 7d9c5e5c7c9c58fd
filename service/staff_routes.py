"""Staff accounts as a setting: admins manage them, supervisors may read the list.

- ``GET /api/admin/staff``: every account (never a password hash); supervisor or admin;
- ``POST /api/admin/staff``: add one (username, password, role, display_name, skills,
  max_concurrent); admin;
- ``PATCH /api/admin/staff/<id>``: change display_name, role, skills, max_concurrent, enabled;
  admin. Disabling or a new role ends the person's sessions at once and sets their presence
  offline; new skills or capacity apply to an agent's live presence at once. An admin cannot
  disable or demote themselves (409 ``cannot_change_self``), nor the last enabled admin (409
  ``last_admin``);
- ``POST /api/admin/staff/<id>/reset-password``: a new password; ends every session; admin.

Every change is in the audit log (``GET /api/admin/audit``) in the same transaction, without
passwords or hashes. The rules are ``handoff.staff``'s, shared with ``kefu agents``.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object
from conversations.desk import Assignments
from core.errors import Conflict
from handoff.auth import Sessions, Staff, require_role
from handoff.model import AgentStatus
from handoff.staff import (
    ROLES,
    add_user,
    added_json,
    apply_changes,
    check_changes,
    check_new,
    check_password,
    end_access,
    ends_access,
    get_user,
    guard_admins,
    list_users,
    only_fields,
    set_password,
    user_json,
)
from supervision import audit

READERS = ("supervisor",)  # supervisors and admins see who is on the team
MANAGERS = ("admin",)  # only admins add, change and reset accounts (as in Zendesk)


def create_blueprint(
    staff_sessions: Sessions, db: async_sessionmaker[AsyncSession], assignments: Assignments
) -> Blueprint:
    bp = Blueprint("admin_staff", url_prefix="/api/admin/staff")
    admin_only = require_role(staff_sessions, MANAGERS)

    @bp.get("")
    @require_role(staff_sessions, READERS)
    async def staff_list(request: Request) -> HTTPResponse:
        async with db() as session:
            users = await list_users(session)
        return json({"staff": [user_json(u) for u in users], "roles": list(ROLES)})

    @bp.post("")
    @admin_only
    async def add(request: Request) -> HTTPResponse:
        fields = check_new(parse_json_object(request.body))
        try:
            async with db.begin() as session:
                user = await add_user(session, **fields)
                audit.record(session, _staff(request).username, "staff.add", user.username, added_json(user))
                answer = user_json(user)
        except IntegrityError as exc:  # the same name added at the same moment elsewhere
            raise Conflict(f"the username {fields['username']} is taken", code="username_taken") from exc
        return json({"user": answer}, status=201)

    @bp.patch("/<user_id:id>")
    @admin_only
    async def change(request: Request, user_id: int) -> HTTPResponse:
        changes = check_changes(parse_json_object(request.body))
        actor = _staff(request)
        async with db.begin() as session:
            user = await get_user(session, user_id)
            await guard_admins(session, user, changes, actor.user_id)
            changed = apply_changes(user, changes)
            if changed:
                audit.record(session, actor.username, "staff.change", user.username, changed)
            answer = user_json(user)
        ended = 0
        if ends_access(changed):
            ended = await end_access(staff_sessions, assignments.presence, user_id)
        elif "skills" in changed or "max_concurrent" in changed:
            await _refresh_presence(assignments, answer)
        return json({"user": answer, "ended_sessions": ended})

    @bp.post("/<user_id:id>/reset-password")
    @admin_only
    async def reset_password(request: Request, user_id: int) -> HTTPResponse:
        body = parse_json_object(request.body)
        only_fields(body, ("password",))
        password = check_password(body.get("password"))
        async with db.begin() as session:
            user = await get_user(session, user_id)
            await set_password(user, password)
            audit.record(session, _staff(request).username, "staff.reset_password", user.username)
            answer = user_json(user)
        ended = await staff_sessions.logout_everywhere(user_id)
        return json({"user": answer, "ended_sessions": ended})

    return bp


def _staff(request: Request) -> Staff:
    staff: Staff = request.ctx.staff
    return staff


async def _refresh_presence(assignments: Assignments, user: dict[str, Any]) -> None:
    """New skills or capacity apply to an agent who has presence now, not at their next status
    change; more room for an online agent takes from the queue at once."""
    agent_id = str(user["id"])
    view = await assignments.presence.get(agent_id)
    if view is None:
        return
    await assignments.presence.register(agent_id, user["skills"] or ["general"], user["max_concurrent"])
    if view.status == AgentStatus.ONLINE:
        await assignments.agent_available(agent_id)
