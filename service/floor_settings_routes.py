"""The floor settings supervisors and admins own: skill groups and routing rules.

- ``GET /api/supervisor/settings/groups``: every group (display names, assignment steps,
  overflow limits, enabled) and the staff serving each;
- ``POST /api/supervisor/settings/groups``: add one (201; 409 ``group_exists``);
- ``PUT /api/supervisor/settings/groups/<name>``: change the fields given;
- ``DELETE /api/supervisor/settings/groups/<name>``: 409 ``group_in_use`` while a routing rule
  or a staff member's skills name it (and always for ``general``);
- ``GET /api/supervisor/settings/routing-rules``: the ordered rules (first match wins);
- ``PUT /api/supervisor/settings/routing-rules``: ``{"rules": [...]}`` replaces the whole list
  (409 ``unknown_group`` when a rule names a group that does not exist).

Bad input is 422 ``invalid_group`` / ``invalid_rule``. Every change is written to the audit log
in its own transaction (``GET /api/admin/audit``) and then announced, so every replica routes by
it from the next handoff on (``handoff.floor_settings``). Supervisor or admin role.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object
from core.errors import NotFound
from handoff import floor_settings as fs
from handoff.auth import Sessions, Staff, require_role
from supervision import audit
from tickets.group_hours import GROUP_PATTERN

ROLES = ("supervisor",)


def _actor(request: Request) -> str:
    staff: Staff = request.ctx.staff
    return staff.username


def _name(raw: str) -> str:
    if not GROUP_PATTERN.match(raw):
        raise NotFound(f"no group {raw!r}", code="group_not_found")
    return raw


def create_blueprint(
    staff_sessions: Sessions,
    db: async_sessionmaker[AsyncSession],
    reader: fs.FloorSettingsReader | None,
) -> Blueprint:
    bp = Blueprint("floor_settings", url_prefix="/api/supervisor/settings")
    guard = require_role(staff_sessions, ROLES)

    async def announce() -> None:
        if reader is not None:
            await reader.changed()

    async def groups_view(session: AsyncSession) -> dict[str, Any]:
        settings = await fs.load(session)
        views = []
        for group in settings.groups:
            views.append({**fs.group_json(group), "staff": await fs.users_of(session, group.name)})
        return {"groups": views, "steps": [s.value for s in fs.STEP_ORDER]}

    @bp.get("/groups")
    @guard
    async def list_groups(request: Request) -> HTTPResponse:
        async with db() as session:
            return json_response(await groups_view(session))

    @bp.post("/groups")
    @guard
    async def add_group(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        name = fs.check_group_name(body.get("name"))
        group = fs.parse_group(body, fs.GroupSettings(name))
        async with db.begin() as session:
            added = await fs.add_group(session, group)
            audit.record(session, _actor(request), "group.add", name, fs.group_json(added))
        await announce()
        return json_response({"group": fs.group_json(added)}, status=201)

    @bp.put("/groups/<name:str>")
    @guard
    async def change_group(request: Request, name: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        async with db.begin() as session:
            changed = await fs.change_group(session, _name(name), body)
            audit.record(session, _actor(request), "group.change", name, fs.group_json(changed))
        await announce()
        return json_response({"group": fs.group_json(changed)})

    @bp.delete("/groups/<name:str>")
    @guard
    async def delete_group(request: Request, name: str) -> HTTPResponse:
        async with db.begin() as session:
            await fs.delete_group(session, _name(name))
            audit.record(session, _actor(request), "group.delete", name)
        await announce()
        return json_response({"deleted": True})

    @bp.get("/routing-rules")
    @guard
    async def list_rules(request: Request) -> HTTPResponse:
        async with db() as session:
            settings = await fs.load(session)
        return json_response({"rules": [fs.rule_json(r) for r in settings.rules]})

    @bp.put("/routing-rules")
    @guard
    async def replace_rules(request: Request) -> HTTPResponse:
        rules = fs.parse_rules(parse_json_object(request.body))
        async with db.begin() as session:
            before = (await fs.load(session)).rules
            saved = await fs.replace_rules(session, rules)
            audit.record(
                session,
                _actor(request),
                "routing_rules.replace",
                "",
                {"before": [fs.rule_json(r) for r in before], "after": [fs.rule_json(r) for r in saved]},
            )
        await announce()
        return json_response({"rules": [fs.rule_json(r) for r in saved]})

    return bp


__all__ = ["create_blueprint"]
