"""Business hours per skill group: any staff member reads them, a supervisor or an admin
replaces them (audited: ``hours.change`` in ``GET /api/admin/audit``).

``PUT /api/hours/<group>`` takes the schedule's JSON form (tickets.schedule_file) plus
``after_hours_mode`` and ``announcement``; every problem is listed at once in
``error.problems``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object
from core.clock import utc_now
from core.errors import ValidationFailed
from handoff.auth import Sessions, Staff, require_role
from service.errors import error_body
from supervision import audit
from tickets.errors import HolidayDataMissing, ScheduleError
from tickets.group_hours import (
    AfterHoursMode,
    GroupHours,
    announcement_problems,
    group_problems,
    load_group_hours,
    mode_problems,
    save_group_hours,
)
from tickets.hours import holiday_coverage, hours_on, is_open, next_change
from tickets.schedule_file import schedule_from_dict, schedule_to_dict

READERS = ("agent", "editor")  # between them, every staff role
WRITERS = ("supervisor",)  # and admins, who may do everything
EXTRA_FIELDS = ("after_hours_mode", "announcement")


def create_blueprint(
    staff_sessions: Sessions,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Blueprint:
    bp = Blueprint("hours", url_prefix="/api/hours")

    @bp.get("/<group:str>")
    @require_role(staff_sessions, READERS)
    async def get_hours(request: Request, group: str) -> HTTPResponse:
        check_group(group)
        async with sessions() as session:
            hours = await load_group_hours(session, group)
        return json(hours_json(hours, clock()))

    @bp.put("/<group:str>")
    @require_role(staff_sessions, WRITERS)
    async def put_hours(request: Request, group: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        mode = body.get("after_hours_mode", "ticket")
        announcement = body.get("announcement", "")
        problems = group_problems(group) + mode_problems(mode) + announcement_problems(announcement)
        try:
            schedule = schedule_from_dict({k: v for k, v in body.items() if k not in EXTRA_FIELDS})
        except ScheduleError as exc:
            problems.extend(exc.problems)
        if problems:
            return invalid(problems)
        async with sessions.begin() as session:
            hours = await save_group_hours(session, group, schedule, mode, announcement.strip(), clock())
            staff: Staff = request.ctx.staff
            audit.record(
                session,
                staff.username,
                "hours.change",
                group,
                {**schedule_to_dict(schedule), "after_hours_mode": mode, "announcement": hours.announcement},
            )
        return json(hours_json(hours, clock()))

    return bp


def check_group(group: str) -> None:
    problems = group_problems(group)
    if problems:
        raise ValidationFailed(problems[0], code="invalid_group")


def invalid(problems: list[str]) -> HTTPResponse:
    noun = "problem" if len(problems) == 1 else "problems"
    error: dict[str, Any] = {
        **error_body("invalid_schedule", f"invalid business hours ({len(problems)} {noun})")["error"],
        "problems": problems,
    }
    return json({"error": error}, status=422)


def hours_json(hours: GroupHours, now: datetime) -> dict[str, Any]:
    """The stored form, whether it is open at ``now``, the next change and today's ranges."""
    schedule = hours.schedule
    local_today = now.astimezone(schedule.timezone).date()
    try:
        change = next_change(schedule, now)
    except HolidayDataMissing:
        change = None  # the next change lies in a year the holiday data does not know yet
    mode: AfterHoursMode = hours.after_hours_mode
    body: dict[str, Any] = {
        "group": hours.group,
        "configured": hours.configured,
        "schedule": schedule_to_dict(schedule),
        "after_hours_mode": mode,
        "announcement": hours.announcement,
        "open_now": is_open(schedule, now),
        "next_change": None if change is None else change.isoformat(),
        "today": [str(time_range) for time_range in hours_on(schedule, local_today)],
    }
    known = holiday_coverage(schedule, now)
    if known is not None:
        body["holiday_data"] = known.to_json()
    return body
